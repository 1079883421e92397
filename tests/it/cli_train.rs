//! `sharpen train` and `sharpen eval` end to end on the tiny fixture model.

use crate::common::sharpen;
use std::path::PathBuf;

fn fixture() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-llama").display().to_string()
}

#[test]
fn train_then_eval_the_checkpoint() {
    let out = std::env::temp_dir().join(format!("sharpen-cli-train-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let sets = [
        format!("model=\"{}\"", fixture()),
        "steps=2".into(),
        "prompts_per_step=2".into(),
        "samples_per_prompt=2".into(),
        "max_new_tokens=4".into(),
        "val_data=\"synthetic\"".into(),
        "val_problems=2".into(),
        "val_every=1".into(),
        format!("out_dir=\"{}\"", out.display()),
    ];
    let mut args = vec!["train"];
    for s in &sets {
        args.extend(["--set", s.as_str()]);
    }
    let o = sharpen(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = sharpen::analysis::runlog::RunLog::read(&out.join("log.jsonl")).unwrap();
    assert_eq!(log.steps.len(), 2);
    assert!(log.steps.iter().all(|s| s.val_accuracy.is_some()));
    // The authors validate before the first step too.
    assert_eq!(log.vals.len(), 1);
    assert_eq!((log.vals[0].step, log.vals[0].problems), (0, 2));
    assert_eq!(log.header.unwrap().source, "llm");
    for f in ["model.safetensors", "optimizer.safetensors", "trainer.json", "config.json", "tokenizer.json"] {
        assert!(out.join("last").join(f).exists(), "checkpoint lacks {f}");
    }

    let ckpt = out.join("last").display().to_string();
    let o = sharpen(&[
        "eval",
        "--model",
        &ckpt,
        "--data",
        "synthetic",
        "--n",
        "2",
        "--k",
        "1,2",
        "--problems",
        "2",
        "--max-new-tokens",
        "4",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["problems"], 2);
    let p1 = v["pass_at_k"]["1"].as_f64().unwrap();
    let p2 = v["pass_at_k"]["2"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p1) && p2 >= p1);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn bad_configuration_is_a_one_line_error() {
    for set in ["alpha=-1", "no_such_key=3", "samples_per_prompt=1", "lr", "lr=0", "lr=-1e-6", "max_tokens=0"] {
        let o = sharpen(&["train", "--set", set]);
        assert_eq!(o.status.code(), Some(2), "{set}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{set}: {err}");
    }
    let o = sharpen(&["eval", "--model", "x", "--data", "synthetic", "--n", "4", "--k", "8"]);
    assert_eq!(o.status.code(), Some(2));
    // A cap below the prompts is refused before any step, in one line.
    let model = format!("model=\"{}\"", fixture());
    let o = sharpen(&["train", "--set", &model, "--set", "max_tokens=3", "--set", "out_dir=\"/nonexistent/x\""]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no room for a response under max_tokens = 3"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn print_config_shows_the_paper_defaults() {
    let o = sharpen(&["train", "--print-config"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("prompts_per_step = 32") && text.contains("samples_per_prompt = 8"), "{text}");
}
