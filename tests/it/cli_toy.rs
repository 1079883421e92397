//! End-to-end: the `sharpen toy` commands as a user runs them.

use crate::common::sharpen;
use std::io::Write;

fn problem_file(json: &str) -> tempfile_path::TempPath {
    tempfile_path::write(json)
}

/// A tiny temporary-file helper (no extra dependency).
mod tempfile_path {
    use super::*;
    pub struct TempPath(pub std::path::PathBuf);
    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    pub fn write(content: &str) -> TempPath {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "sharpen-test-{}-{}.json",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::File::create(&p).unwrap().write_all(content.as_bytes()).unwrap();
        TempPath(p)
    }
}

const GOOD: &str = r#"{"responses": [
  {"prob": 0.5, "reward": 0, "length": 2, "answer": "7"},
  {"prob": 0.3, "reward": 1, "length": 9, "answer": "8"},
  {"prob": 0.2, "reward": 1, "length": 12, "answer": "8"}]}"#;

#[test]
fn solve_json_has_the_documented_keys() {
    let f = problem_file(GOOD);
    let out = sharpen(&[
        "toy",
        "solve",
        "--problem",
        f.0.to_str().unwrap(),
        "--mode",
        "sampling",
        "--alpha",
        "2",
        "--beta-inv",
        "0",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t: Vec<f64> = v["target"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    // π_ref^2 normalised: .25, .09, .04 over .38
    for (x, y) in t.iter().zip([0.25 / 0.38, 0.09 / 0.38, 0.04 / 0.38]) {
        assert!((x - y).abs() < 1e-12);
    }
    assert!((v["expected_reward"].as_f64().unwrap() - 0.13 / 0.38).abs() < 1e-12);
    assert!(v["expected_length"].is_number());
    assert!((v["answers"]["8"].as_f64().unwrap() - 0.13 / 0.38).abs() < 1e-12);
    assert_eq!(v["argmax"].as_array().unwrap().len(), 0);
}

#[test]
fn solve_optimization_reports_argmax() {
    let f = problem_file(GOOD);
    let out = sharpen(&[
        "toy",
        "solve",
        "--problem",
        f.0.to_str().unwrap(),
        "--mode",
        "optimization",
        "--alpha",
        "1",
        "--beta-inv",
        "0",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["argmax"], serde_json::json!([0]));
    assert_eq!(v["expected_reward"].as_f64().unwrap(), 0.0);
}

#[test]
fn bad_problems_give_one_line_errors_and_exit_2() {
    let cases = [
        (r#"{"responses": []}"#, "empty"),
        (r#"{"responses": [{"prob": 0.5, "reward": 0}, {"prob": 0.4, "reward": 1}]}"#, "sum to 0.9"),
        (r#"{"responses": [{"prob": -0.5, "reward": 0}, {"prob": 1.5, "reward": 1}]}"#, "negative"),
        (r#"{"responses": [{"prob": 1.0, "reward": 2}]}"#, "outside [0, 1]"),
        (r#"{"responses": [{"prob": 1.0, "reward": 0"#, "malformed"),
    ];
    for (json, needle) in cases {
        let f = problem_file(json);
        let out = sharpen(&["toy", "solve", "--problem", f.0.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{json}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "expected '{needle}' in: {err}");
    }
}

#[test]
fn bad_regime_parameters_are_rejected() {
    let f = problem_file(GOOD);
    let out = sharpen(&["toy", "solve", "--problem", f.0.to_str().unwrap(), "--alpha=-1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("alpha"));
    let out = sharpen(&["toy", "solve", "--problem", "/nonexistent/problem.json"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn scenario_many_paths_runs_and_lists() {
    let out = sharpen(&["toy", "scenario", "many-paths", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["scenario"], "many-paths");
    let list = sharpen(&["toy", "list"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains("many-paths"));
    let bad = sharpen(&["toy", "scenario", "no-such-thing"]);
    assert_eq!(bad.status.code(), Some(2));
}
