//! End-to-end: `sharpen toy train` and `sharpen toy flow` as a user runs them.

use crate::common::sharpen;
use sharpen_analysis::runlog::RunLog;

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("sharpen-cli-dyn-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn train_is_deterministic_whatever_the_thread_count_and_prints_the_table() {
    let base = ["toy", "train", "many-paths", "--regime", "sharpening", "--seeds", "6", "--steps", "40"];
    let run = |extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        let out = sharpen(&a);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let one = run(&["--threads", "1", "--json"]);
    assert_eq!(one, run(&["--threads", "3", "--json"]));
    assert_ne!(one, run(&["--threads", "1", "--json", "--seed", "9"]), "the base seed matters");
    let v: serde_json::Value = serde_json::from_slice(&one).unwrap();
    assert_eq!(v["per_step"].as_array().unwrap().len(), 40);
    assert_eq!(v["final"]["seeds"], 6);
    let acc0 = v["per_step"][0]["accuracy"]["mean"].as_f64().unwrap();
    assert!((acc0 - 0.72).abs() < 1e-12, "starts at π_ref");
    let text = String::from_utf8(run(&[])).unwrap();
    assert!(text.contains("acc q10") && text.contains("clip rate"), "{text}");
    // Rows every 10% of the run: steps 0, 4, …, 36 and the last step.
    assert!(text.lines().any(|l| l.starts_with("39 ")), "{text}");
}

#[test]
fn train_writes_one_run_log_per_seed() {
    let dir = temp_dir("logs");
    let out = sharpen(&[
        "toy",
        "train",
        "many-paths",
        "--regime",
        "task",
        "--seeds",
        "3",
        "--steps",
        "12",
        "--log-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(files[0].ends_with("many-paths-task-seed000.jsonl"), "{files:?}");
    for (i, f) in files.iter().enumerate() {
        let log = RunLog::read(f).unwrap();
        let h = log.header.expect("header record");
        assert_eq!(h.source, "toy");
        assert_eq!(h.model, "many-paths");
        assert_eq!(h.regime, sharpen_toy::Regime::task_reward());
        assert_eq!(h.seed, i as u64);
        assert_eq!(log.steps.len(), 12);
        assert_eq!(log.steps.iter().map(|s| s.step).collect::<Vec<_>>(), (0..12).collect::<Vec<u64>>());
        assert!(log.steps.iter().all(|s| (0.0..=1.0).contains(&s.task_reward) && s.lr > 0.0));
        assert!((log.steps[0].val_accuracy.unwrap() - 0.72).abs() < 1e-12);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn flow_lists_fixed_points_with_eigenvalues() {
    let out = sharpen(&["toy", "flow", "small-four", "--regime", "self-certainty", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fps = v["fixed_points"].as_array().unwrap();
    assert_eq!(fps.len(), 15);
    for fp in fps {
        let vertex = fp["support"].as_array().unwrap().len() == 1;
        assert_eq!(fp["stability"] == "stable", vertex, "{fp}");
    }
    let text = String::from_utf8(sharpen(&["toy", "flow", "many-paths", "--regime", "tempered:2"]).stdout).unwrap();
    assert!(text.contains("Fixed points") && text.contains("stable"), "{text}");
}

#[test]
fn bad_train_and_flow_input_gives_one_line_errors() {
    let cases: [(&[&str], &str); 5] = [
        (&["toy", "train", "no-such-problem", "--regime", "task"], "unknown problem"),
        (&["toy", "train", "many-paths", "--regime", "bogus"], "unknown regime"),
        (&["toy", "train", "many-paths", "--regime", "task", "--samples", "1"], "at least 2"),
        (&["toy", "train", "many-paths", "--regime", "self-certainty", "--log-dir", "x"], "not a point of the regime"),
        (&["toy", "flow", "many-paths", "--regime", "task", "--t-end=0"], "--t-end"),
    ];
    for (args, needle) in cases {
        let out = sharpen(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "expected '{needle}' in: {err}");
    }
}

#[test]
fn train_runs_on_trees_and_ignore_eos_is_for_trees_only() {
    let args = ["toy", "train", "tree:geometric", "--regime", "sharpening", "--seeds", "2", "--steps", "10"];
    let mut with_eos = args.to_vec();
    with_eos.push("--json");
    let out = sharpen(&with_eos);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["per_step"].as_array().unwrap().len(), 10);
    let mut fixed = with_eos.clone();
    fixed.push("--ignore-eos");
    let out = sharpen(&fixed);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let w: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_ne!(v, w, "ignoring EOS changes the rollouts");
    let out = sharpen(&["toy", "train", "many-paths", "--regime", "task", "--ignore-eos"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tree problems"));
    let out = sharpen(&["toy", "train", "tree:nonsense", "--regime", "task"]);
    assert_eq!(out.status.code(), Some(2));
}
