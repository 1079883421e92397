//! Runs that cannot corrupt each other, settings that cannot make NaN models, sizes that cannot
//! crash: each test reproduces a finding of the reliability review and checks the fix.

use crate::common::{refused, sharpen};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tiny() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-llama").display().to_string()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sharpen-rel-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `sharpen train` on the tiny model into `out`, with extra `--set`s and flags.
fn train(out: &Path, sets: &[&str], flags: &[&str]) -> Output {
    let mut args: Vec<String> = vec!["train".into()];
    let base = [
        format!("model=\"{}\"", tiny()),
        "prompts_per_step=2".into(),
        "samples_per_prompt=2".into(),
        "max_new_tokens=4".into(),
        "checkpoint_every=1".into(),
        "val_data=\"\"".into(),
        "synthetic_problems=4".into(),
        format!("out_dir=\"{}\"", out.display()),
    ];
    for s in base.iter().map(String::as_str).chain(sets.iter().copied()) {
        args.extend(["--set".into(), s.to_string()]);
    }
    args.extend(flags.iter().map(|f| f.to_string()));
    Command::new(env!("CARGO_BIN_EXE_sharpen")).args(&args).output().unwrap()
}

fn ok(o: &Output) {
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_run_directory_belongs_to_one_run() {
    let out = scratch("own");
    ok(&train(&out, &["steps=1"], &[]));
    // A fresh run into a used folder is refused; --overwrite replaces the old run.
    refused(&train(&out, &["steps=1"], &[]), "holds an earlier run");
    ok(&train(&out, &["steps=1", "seed=3"], &["--overwrite"]));
    // A live owner's lock refuses a second run; a dead owner's lock is taken over.
    std::fs::write(out.join(".lock"), std::process::id().to_string()).unwrap();
    refused(&train(&out, &["steps=2"], &["--resume"]), "in use by another run");
    std::fs::write(out.join(".lock"), "4000000000").unwrap();
    let o = train(&out, &["steps=2", "seed=3"], &["--resume"]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("stale lock"));
    assert!(!out.join(".lock").exists(), "the lock is released at exit");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn resume_refuses_a_changed_experiment_unless_allowed() {
    let out = scratch("change");
    ok(&train(&out, &["steps=1"], &[]));
    refused(&train(&out, &["steps=2", "mode=\"sampling\"", "alpha=2.0", "beta_inv=0.0"], &["--resume"]), "alpha");
    refused(&train(&out, &["steps=2", "seed=9"], &["--resume"]), "seed");
    ok(&train(&out, &["steps=2", "seed=9"], &["--resume", "--allow-config-change"]));
    let log = sharpen::analysis::runlog::RunLog::read(&out.join("log.jsonl")).unwrap();
    assert_eq!(log.config_changes.len(), 1);
    assert_eq!(log.config_changes[0].step, 1);
    assert_eq!(log.config_changes[0].changes["seed"][1], 9);
    assert_eq!(log.steps.len(), 2);
    std::fs::remove_dir_all(&out).unwrap();
}

/// A log written before the `reward` key existed trained on the task reward: resuming it with
/// the default is no change, resuming it with a self-reward is one.
#[test]
fn a_log_from_before_the_reward_key_resumes_as_the_task_reward() {
    let out = scratch("reward-key");
    ok(&train(&out, &["steps=1"], &[]));
    let log = out.join("log.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(header["config"].as_object_mut().unwrap().remove("reward"), Some(serde_json::json!("task")));
    lines[0] = header.to_string();
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    refused(&train(&out, &["steps=2", "reward=\"majority\""], &["--resume"]), "reward");
    ok(&train(&out, &["steps=2"], &["--resume"]));
    let log = sharpen::analysis::runlog::RunLog::read(&log).unwrap();
    assert!(log.config_changes.is_empty(), "{:?}", log.config_changes);
    assert_eq!(log.steps.len(), 2);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_torn_log_tail_is_dropped_on_resume_and_resumed_logs_equal_straight_ones() {
    let straight = scratch("straight");
    let eval = ["eval_samples=2", "eval_every=1", "val_data=\"synthetic\"", "val_problems=2", "val_every=2"];
    let sets = |steps: &'static str| -> Vec<&str> { eval.iter().copied().chain([steps]).collect() };
    ok(&train(&straight, &sets("steps=4"), &[]));
    let halves = scratch("halves");
    ok(&train(&halves, &sets("steps=2"), &[]));
    // A full disk cut the last write short.
    let log = halves.join("log.jsonl");
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str("{\"kind\":\"step\",\"step\":2,\"task_re");
    std::fs::write(&log, text).unwrap();
    let o = train(&halves, &sets("steps=4"), &["--resume"]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("torn last line"));
    // Record by record the same log, wall times and the extended step count aside.
    let records = |p: &Path| -> Vec<serde_json::Value> {
        std::fs::read_to_string(p.join("log.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                let m = v.as_object_mut().unwrap();
                m.remove("wall_time_s");
                if let Some(c) = m.get_mut("config").and_then(|c| c.as_object_mut()) {
                    c.remove("steps");
                    c.remove("out_dir");
                }
                v
            })
            .collect()
    };
    let (a, b) = (records(&straight), records(&halves));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    std::fs::remove_dir_all(&straight).unwrap();
    std::fs::remove_dir_all(&halves).unwrap();
}

#[test]
fn settings_that_make_nan_models_are_refused() {
    let out = scratch("nan");
    for set in ["eps=0", "eps=-1e-8", "beta2=1", "beta1=1.5", "weight_decay=-0.1", "warmup_start=-1", "steps=0"] {
        refused(&train(&out, &[set], &[]), set.split('=').next().unwrap());
    }
    refused(&train(&out, &["out_dir=\"\""], &[]), "out_dir");
    refused(&train(&out, &["steps=100000000000"], &[]), "steps");
    // A config.json that would sample garbage is refused before the weights are read.
    let model = scratch("rope");
    std::fs::create_dir_all(&model).unwrap();
    for e in std::fs::read_dir(tiny()).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, model.join(p.file_name().unwrap())).unwrap();
    }
    let cfg = std::fs::read_to_string(model.join("config.json")).unwrap();
    std::fs::write(model.join("config.json"), cfg.replace("\"rope_theta\": 10000.0", "\"rope_theta\": -1.0")).unwrap();
    let o = sharpen(&["sample", "--model", model.to_str().unwrap(), "--prompt", "a b", "--max-tokens", "2"]);
    refused(&o, "rope_theta");
    std::fs::remove_dir_all(&model).unwrap();
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn duplicated_step_records_make_check_refuse() {
    let out = scratch("dup");
    ok(&train(&out, &["steps=2"], &[]));
    let log = out.join("log.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let step1 = text.lines().find(|l| l.contains("\"step\":1,")).unwrap().to_string();
    std::fs::write(&log, format!("{text}{step1}\n")).unwrap();
    let o = sharpen(&["check", "--runs", out.to_str().unwrap()]);
    refused(&o, "out of order");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn outputs_and_sizes_are_checked_before_work() {
    let o = sharpen(&[
        "eval",
        "--model",
        &tiny(),
        "--data",
        "synthetic",
        "--n",
        "2",
        "--k",
        "1",
        "--out",
        "/proc/no/x.json",
    ]);
    refused(&o, "--out /proc/no/x.json is not writable");
    let o = sharpen(&["figures", "--only", "regime-targets-many-paths", "--out", "/proc/no/figures"]);
    refused(&o, "not a writable folder");
    let o = sharpen(&["sample", "--model", &tiny(), "--prompt", "a b", "--max-tokens", "100000000"]);
    refused(&o, "exceeds the model's context of 256");
    let long = vec!["a"; 300].join(" ");
    let o = sharpen(&["sample", "--model", &tiny(), "--prompt", &long, "--max-tokens", "1"]);
    refused(&o, "exceeds the model's context");
    let o = sharpen(&[
        "sample",
        "--model",
        &tiny(),
        "--prompt",
        "a b",
        "--n",
        "100000000000",
        "--batch-size",
        "100000000000",
        "--max-tokens",
        "200",
    ]);
    refused(&o, "GiB is available");
    for zero in [["--max-tokens", "0"], ["--n", "0"]] {
        let o = sharpen(&["sample", "--model", &tiny(), "--prompt", "a b", zero[0], zero[1]]);
        refused(&o, "must be >= 1");
    }
    let o = sharpen(&["bench", "sample", "--model", &tiny(), "--batch-sizes", "0"]);
    refused(&o, "--batch-sizes");
    let o = sharpen(&["data", "--dataset", "arith", "--n", "100000000000000"]);
    refused(&o, "synthetic problems");
}

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    /// Numbers a user (or a typo) may type: edge values, huge values, non-numbers, small values.
    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "0",
                "1",
                "-1",
                "2.5",
                "1e14",
                "100000000000000",
                "9223372036854775807",
                "18446744073709551616",
                "nan",
                "inf",
                "-0",
                "",
            ])
            .prop_map(String::from),
            (0u32..3000).prop_map(|x| x.to_string()),
        ]
    }

    /// Every numeric flag of the commands that take them, with the rest of a cheap command line.
    fn command() -> impl Strategy<Value = Vec<String>> {
        let t = tiny();
        let templates: Vec<Vec<String>> = [
            vec!["data", "--dataset", "arith", "--n", "{}"],
            vec!["data", "--dataset", "arith", "--difficulty", "{}"],
            vec!["data", "--dataset", "math500", "--show", "{}"],
            vec!["sample", "--model", &t, "--prompt", "a b", "--max-tokens", "{}"],
            vec!["sample", "--model", &t, "--prompt", "a b", "--max-tokens", "2", "--n", "{}"],
            vec!["sample", "--model", &t, "--prompt", "a b", "--max-tokens", "2", "--temperature", "{}"],
            vec!["sample", "--model", &t, "--prompt", "a b", "--max-tokens", "2", "--top-p", "{}"],
            vec!["sample", "--model", &t, "--prompt", "a b", "--max-tokens", "2", "--batch-size", "{}"],
            vec![
                "eval",
                "--model",
                &t,
                "--data",
                "synthetic",
                "--problems",
                "2",
                "--max-new-tokens",
                "2",
                "--n",
                "{}",
                "--k",
                "1",
            ],
            vec![
                "eval",
                "--model",
                &t,
                "--data",
                "synthetic",
                "--problems",
                "2",
                "--n",
                "2",
                "--k",
                "1",
                "--max-tokens",
                "{}",
            ],
            vec!["bench", "sample", "--model", &t, "--new-tokens", "2", "--repeats", "1", "--batch-sizes", "{}"],
            vec!["bench", "sample", "--model", &t, "--batch-sizes", "1", "--repeats", "1", "--new-tokens", "{}"],
            vec!["toy", "tree", "geometric", "--vocab", "{}"],
            vec!["toy", "tree", "geometric", "--alpha", "{}"],
            vec!["toy", "power", "reasoning", "--samples", "10", "--mcmc-steps", "{}"],
            vec!["toy", "power", "reasoning", "--samples", "{}", "--mcmc-steps", "2"],
            vec!["toy", "power", "reasoning", "--samples", "10", "--alpha", "{}"],
            vec!["toy", "power", "reasoning", "--samples", "10", "--block", "{}"],
            vec!["toy", "train", "many-paths", "--regime", "task", "--seeds", "2", "--steps", "{}"],
            vec!["toy", "train", "many-paths", "--regime", "task", "--steps", "2", "--seeds", "{}"],
            vec!["toy", "train", "many-paths", "--regime", "task", "--steps", "2", "--seeds", "1", "--lr", "{}"],
            vec!["toy", "flow", "small-four", "--regime", "task", "--t-end", "{}"],
            vec!["toy", "solve", "--problem", "no-such.json", "--alpha", "{}"],
            vec!["verify", "--pred", "{}", "--gold", "{}"],
            vec!["toy", "tree", "geometric", "--max-len", "{}"],
            vec!["train", "--print-config", "--set", "steps={}"],
            vec!["train", "--print-config", "--set", "lr={}"],
            vec!["train", "--print-config", "--set", "eps={}"],
            vec!["train", "--print-config", "--set", "micro_batch={}"],
            vec!["train", "--print-config", "--set", "max_tokens={}"],
            vec!["train", "--print-config", "--set", "truncated_importance_sampling_ratio={}"],
        ]
        .into_iter()
        .map(|v| v.into_iter().map(String::from).collect())
        .collect();
        (prop::sample::select(templates), number())
            .prop_map(|(tpl, n)| tpl.into_iter().map(|a| a.replace("{}", &n)).collect())
    }

    proptest! {
        // A fixed seed: the same 48 command lines on every run.
        #![proptest_config(ProptestConfig {
            cases: 48,
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(17),
            ..ProptestConfig::default()
        })]
        #[test]
        fn numeric_flags_never_panic(args in command()) {
            // Bounded time too: a command still running after two minutes is killed and fails.
            let mut child = Command::new(env!("CARGO_BIN_EXE_sharpen"))
                .args(&args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let start = std::time::Instant::now();
            while child.try_wait().unwrap().is_none() {
                if start.elapsed() > std::time::Duration::from_secs(120) {
                    child.kill().unwrap();
                    prop_assert!(false, "{args:?} still ran after 120 s");
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            let o = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            // Success, or a usage or input error (exit 2): never a panic or an abort (no code).
            prop_assert!(matches!(o.status.code(), Some(0) | Some(2)), "{args:?}: {:?} {err}", o.status);
            prop_assert!(!err.contains("panicked"), "{args:?}: {err}");
        }
    }
}
