//! End-to-end: `sharpen figures` and `sharpen check` as a user runs them.

#[path = "../../analysis/tests/it/common/mod.rs"]
mod analysis_common;

use crate::common::sharpen;
use analysis_common::{records, Shape};
use sharpen_analysis::runlog::RunLogWriter;
use sharpen_toy::Regime;
use std::path::{Path, PathBuf};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sharpen-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_logs(dir: &Path) {
    let sharp =
        Shape { acc: (0.5, 0.46), len: (300.0, 120.0), ref_lp: (-200.0, -60.0), clip_rate: 0.9, ..Shape::default() };
    let task = Shape { acc: (0.4, 0.7), ..Shape::default() };
    for (regime, shape, file) in
        [(Regime::sharpening(), sharp, "sharp.jsonl"), (Regime::task_reward(), task, "task.jsonl")]
    {
        let mut w = RunLogWriter::open(&dir.join("logs").join(file), false).unwrap();
        for r in records(regime, 0, 100, shape, false) {
            w.write(&r).unwrap();
        }
    }
}

#[test]
fn check_prints_verdicts_and_json() {
    let d = scratch("check");
    write_logs(&d);
    let out = sharpen(&["check", "--runs", d.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("mean response length falls [sharpening]") && text.contains("holds"), "{text}");
    let out = sharpen(&["check", "--runs", d.join("logs").join("task.jsonl").to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    assert!(arr.iter().all(|c| c["prediction"] == "P2" && c["verdict"] == "holds"), "{v}");
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn check_leaves_out_unfinished_runs_and_names_them() {
    let d = scratch("unfinished");
    let logs = d.join("logs");
    // Two task runs of 100 logged steps: seed 0 planned 100 (finished), seed 1 planned 200 (a
    // run still going). Only seed 0 may count.
    for (seed, planned) in [(0u64, 100u64), (1, 200)] {
        let mut w = RunLogWriter::open(&logs.join(format!("task-{seed}.jsonl")), false).unwrap();
        for mut r in records(Regime::task_reward(), seed, 100, Shape { acc: (0.4, 0.7), ..Shape::default() }, false) {
            if let sharpen_analysis::runlog::Record::Run(h) = &mut r {
                h.config.insert("steps".into(), serde_json::json!(planned));
            }
            w.write(&r).unwrap();
        }
    }
    let out = sharpen(&["check", "--runs", logs.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("left out 1 unfinished run(s)") && err.contains("task-1.jsonl"), "{err}");
    assert!(!err.contains("task-0.jsonl"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.as_array().unwrap().iter().all(|c| c["runs"] == 1), "{v}");
    // Nothing finished: a one-line error.
    let out = sharpen(&["check", "--runs", logs.join("task-1.jsonl").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("every run log under the given paths is unfinished"));
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn bad_inputs_give_one_line_errors() {
    let d = scratch("bad");
    std::fs::write(d.join("bad.jsonl"), "{\"kind\": \"step\"}\n").unwrap();
    let out = sharpen(&["check", "--runs", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("bad.jsonl:1: malformed record") && err.lines().count() == 1, "{err}");
    let out = sharpen(&["check", "--runs", d.join("missing").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let out = sharpen(&["figures", "--only", "no-such-figure", "--out", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown figure"));
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn figures_writes_one_exact_figure_and_the_run_figures() {
    let d = scratch("figs");
    write_logs(&d);
    let out_dir = d.join("out");
    let name = "regime-targets-many-paths";
    let out = sharpen(&["figures", "--only", name, "--out", out_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let csv = std::fs::read_to_string(out_dir.join(format!("{name}.csv"))).unwrap();
    let committed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("figures").join(format!("{name}.csv")))
            .unwrap();
    assert_eq!(csv, committed);
    let png = std::fs::read(out_dir.join(format!("{name}.png"))).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let out = sharpen(&[
        "figures",
        "--only",
        "llm-results",
        "--runs",
        d.join("logs").to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let md = std::fs::read_to_string(out_dir.join("llm-results.md")).unwrap();
    assert!(md.starts_with("| regime |") && md.contains("| sharpening |"), "{md}");
    let listed = String::from_utf8(sharpen(&["figures", "--list"]).stdout).unwrap();
    assert!(listed.contains(name));
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn toy_runs_that_ignore_eos_are_checked_as_fixed_length() {
    let d = scratch("eos");
    let logs = d.join("logs");
    let out = sharpen(&[
        "toy",
        "train",
        "tree:reasoning",
        "--regime",
        "sharpening",
        "--ignore-eos",
        "--seeds",
        "2",
        "--steps",
        "30",
        "--threads",
        "1",
        "--log-dir",
        logs.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = sharpen(&["check", "--runs", logs.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let checks = v.as_array().unwrap();
    assert!(!checks.is_empty() && checks.iter().all(|c| c["prediction"] == "P5"), "{v}");
    assert!(checks.iter().all(|c| c["group"].as_str().unwrap().ends_with("fixed-length")), "{v}");
    std::fs::remove_dir_all(d).unwrap();
}
