//! End-to-end: `sharpen verify` as a user runs it.

use crate::common::sharpen;

fn temp_file(name: &str, content: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("sharpen-verify-{}-{name}", std::process::id()));
    std::fs::write(&p, content).unwrap();
    p
}

#[test]
fn pred_and_gold_print_true_or_false() {
    let out = sharpen(&["verify", "--pred", "so \\boxed{1,000}", "--gold", "1000"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "true");
    let out = sharpen(&["verify", "--pred", "(1,2)", "--gold", "12"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "false");
}

#[test]
fn explain_shows_both_extractions_and_the_reason() {
    let out = sharpen(&["verify", "--pred", "We get \\boxed{1} and \\boxed{2}", "--gold", "1,2", "--explain"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("true"), "the verdict line comes first: {text}");
    assert!(text.contains("gold: matched by"), "{text}");
    assert!(text.contains("pred: matched by"), "{text}");
    assert!(text.contains("verdict: true (values are equal)"), "{text}");
}

#[test]
fn cases_file_prints_one_verdict_per_line_in_order() {
    let cases = include_str!("../data/verifier_cases.jsonl");
    let path = temp_file("cases.jsonl", cases);
    let out = sharpen(&["verify", "--cases", path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let got: Vec<&str> = stdout.lines().collect();
    let want: Vec<String> = cases
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!("{{\"correct\":{}}}", v["correct"])
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn malformed_line_is_a_one_line_error_with_its_number() {
    let path = temp_file("bad.jsonl", "{\"pred\": \"1\", \"gold\": \"1\"}\n{\"pred\": 1}\n");
    let out = sharpen(&["verify", "--cases", path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no partial output");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn missing_inputs_are_usage_errors() {
    assert_eq!(sharpen(&["verify"]).status.code(), Some(2));
    assert_eq!(sharpen(&["verify", "--pred", "1"]).status.code(), Some(2));
    assert_eq!(sharpen(&["verify", "--cases", "/nonexistent/cases.jsonl"]).status.code(), Some(2));
}

#[test]
fn data_prints_the_summary_and_prompts() {
    let out = sharpen(&["data", "--dataset", "arith", "--n", "5", "--difficulty", "2", "--seed", "9", "--show", "2"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("arith: 5 problems, difficulty 2, seed 9"), "{text}");
    assert_eq!(text.matches("Let's think step-by-step").count(), 2, "{text}");

    let path = temp_file(
        "math.jsonl",
        "{\"problem\": \"p\", \"solution\": \"\\\\boxed{7}\"}\n{\"problem\": \"q\", \"solution\": \"none\"}\n",
    );
    let out = sharpen(&["data", "--dataset", "math", "--path", path.to_str().unwrap()]);
    std::fs::remove_file(&path).ok();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("math: 2 rows, 1 with a gold answer, 1 without (lines 2)"), "{text}");
    assert!(text.contains("(gold: 7)"), "{text}");

    assert_eq!(sharpen(&["data", "--dataset", "mmlu"]).status.code(), Some(2));
    assert_eq!(sharpen(&["data", "--dataset", "arith", "--difficulty", "11"]).status.code(), Some(2));
}
