//! The GPU benchmark's two subcommands run on the CPU too: `bench device` passes every check
//! on the fixtures, `bench rl` completes one RLOO step at a model's shape and reports it.

use std::process::Command;

fn sharpen() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sharpen"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

#[test]
fn bench_device_checks_pass_on_the_cpu() {
    let out = sharpen().args(["bench", "device", "--device", "cpu", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3 * 10, "3 families × (6 f32 + 4 bf16) checks");
    assert!(lines.iter().all(|l| l["ok"] == true));
}

#[test]
fn bench_rl_runs_one_step_and_reports_json() {
    let out = sharpen()
        .args(["bench", "rl", "--shape", "tests/fixtures/tiny-qwen3/config.json", "--device", "cpu"])
        .args(["--batch", "8", "--group", "4", "--prompt-len", "6", "--new-tokens", "5", "--micro-batch", "3"])
        .args(["--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["grads_ok"], true);
    assert!(v["rollout_tok_s"].as_f64().unwrap() > 0.0);
    assert!(v["step_s"].as_f64().unwrap() > 0.0);
    assert!(v["grad_norm"].as_f64().unwrap() > 0.0, "random rewards give a non-zero gradient");
    assert_eq!(v["params"].as_u64().unwrap() as usize, expected_params("tiny-qwen3"));
}

#[test]
fn bench_rl_rejects_bad_input() {
    let out = sharpen().args(["bench", "rl", "--shape", "no/such.json", "--device", "cpu"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = sharpen()
        .args(["bench", "rl", "--shape", "tests/fixtures/tiny-qwen3/config.json", "--batch", "7", "--device", "cpu"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Parameters of a fixture counted from its weights file (tied embeddings stored once).
fn expected_params(name: &str) -> usize {
    let d = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let t = sharpen::model::read_safetensors(&d, &candle_core::Device::Cpu).unwrap();
    t.iter().filter(|(k, _)| !k.starts_with("lm_head") || !tied(&d)).map(|(_, v)| v.elem_count()).sum()
}

fn tied(d: &std::path::Path) -> bool {
    let c: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("config.json")).unwrap()).unwrap();
    c["tie_word_embeddings"].as_bool().unwrap_or(false)
}

/// `bench train` times the trainer's own step (weighted backward, fused AdamW) and reports it in
/// the baseline's keys, forward and backward adding up.
#[test]
fn bench_train_times_the_trainers_step() {
    let out = sharpen()
        .args([
            "bench",
            "train",
            "--model",
            "tests/fixtures/tiny-llama",
            "--batch",
            "2",
            "--seq",
            "8",
            "--device",
            "cpu",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["impl"].as_str(), v["what"].as_str()), (Some("sharpen"), Some("train")));
    let f = |k: &str| v[k].as_f64().unwrap();
    assert!(f("forward_s") > 0.0 && f("backward_s") > 0.0 && f("adamw_s") > 0.0, "{v}");
    assert!((f("forward_backward_s") - f("forward_s") - f("backward_s")).abs() < 1e-12);
    let bad =
        sharpen().args(["bench", "train", "--model", "tests/fixtures/tiny-llama", "--seq", "1"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
