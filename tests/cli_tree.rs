//! End-to-end: `sharpen toy tree` as a user runs it.

use std::process::{Command, Output};

fn sharpen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sharpen")).args(args).output().expect("binary runs")
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = sharpen(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// The acceptance example: mass at the cap below α*, the base length at 1, collapse above.
#[test]
fn geometric_shows_the_three_regimes_around_alpha_star() {
    let v = json(&["toy", "tree", "geometric", "--alpha", "0.5", "--alpha", "1", "--alpha", "2", "--json"]);
    // Defaults: V = 2, s = 0.3, cap 12; α* = ln 2 / (ln 2 − ln 0.7).
    let star = 2f64.ln() / (2f64.ln() - 0.7f64.ln());
    assert!((v["alpha_star"].as_f64().unwrap() - star).abs() < 1e-12);
    assert!((v["alpha_star_dp"].as_f64().unwrap() - star).abs() < 1e-9);
    let regimes = v["regimes"].as_array().unwrap();
    assert_eq!(regimes.len(), 3);
    for (r, a) in regimes.iter().zip([0.5, 1.0, 2.0]) {
        assert_eq!(r["alpha"].as_f64().unwrap(), a);
        assert_eq!(r["beta_inv"].as_f64().unwrap(), 0.0);
        assert_eq!(r["mode"], "sampling");
        for key in ["mean_length", "accuracy", "entropy"] {
            assert!(r[key].as_f64().unwrap().is_finite(), "{key}");
        }
        let pmf: Vec<f64> = r["length_pmf"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(pmf.len(), 13);
        assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    let pmf = |i: usize, l: usize| regimes[i]["length_pmf"][l].as_f64().unwrap();
    let mean = |i: usize| regimes[i]["mean_length"].as_f64().unwrap();
    // Below α*: the cap is the likeliest length. At 1: the base model's (truncated geometric).
    assert!((0..12).all(|l| pmf(0, 12) > pmf(0, l)));
    let base_mean: f64 = (0..12).map(|l| l as f64 * 0.3 * 0.7f64.powi(l)).sum::<f64>() + 12.0 * 0.7f64.powi(12);
    assert!((mean(1) - base_mean).abs() < 1e-12);
    assert!((v["base"]["mean_length"].as_f64().unwrap() - base_mean).abs() < 1e-12);
    // Above 1: collapse toward the empty response.
    assert!(mean(2) < 0.5 && pmf(2, 0) > 0.7);
    assert!(mean(0) > 8.0 && pmf(0, 12) > 0.25, "the cap holds over a quarter of the mass below α*");
    assert_eq!(v["temperature"].as_array().unwrap().len(), 3);
}

#[test]
fn text_output_and_other_families() {
    let out = sharpen(&["toy", "tree", "geometric", "--alpha", "0.5", "--alpha", "2"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("α* closed form") && text.contains("token temperature"), "{text}");
    let v = json(&["toy", "tree", "fixed-length:reasoning", "--alpha", "2", "--normalization", "mean", "--json"]);
    assert!(v["alpha_star"].is_null());
    assert!((v["regimes"][0]["mean_length"].as_f64().unwrap() - 8.0).abs() < 1e-9);
    let v =
        json(&["toy", "tree", "loop", "--mode", "optimization", "--alpha", "1", "--normalization", "mean", "--json"]);
    assert_eq!(v["regimes"][0]["accuracy"].as_f64().unwrap(), 0.0);
    assert!((v["regimes"][0]["mean_length"].as_f64().unwrap() - 12.0).abs() < 1e-9);
}

#[test]
fn bad_input_gives_one_line_errors() {
    for (args, needle) in [
        (vec!["toy", "tree", "banana"], "unknown tree family"),
        (vec!["toy", "tree", "geometric", "--stop", "1.5"], "stop"),
        (
            vec!["toy", "tree", "geometric", "--vocab", "4", "--max-len", "12", "--max-prefixes", "1000"],
            "more than 1000",
        ),
        (vec!["toy", "tree", "reasoning", "--vocab", "2"], "vocab"),
        (vec!["toy", "tree", "geometric", "--normalization", "median"], "normalization"),
    ] {
        let out = sharpen(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "expected '{needle}' in: {err}");
    }
}

#[test]
fn tree_scenarios_are_listed_and_run() {
    let list = String::from_utf8_lossy(&sharpen(&["toy", "list"]).stdout).to_string();
    for name in ["tree-length-bias", "tree-alpha-critical", "tree-power-vs-temperature", "tree-fixed-length"] {
        assert!(list.contains(name), "{list}");
        let v = json(&["toy", "scenario", name, "--json"]);
        assert_eq!(v["scenario"], name);
    }
}
