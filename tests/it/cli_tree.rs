//! End-to-end: `sharpen toy tree` as a user runs it.

use crate::common::sharpen;

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

/// `sharpen toy power`: exact π_ref^α, the MCMC estimate and token temperature side by side,
/// each with accuracy, mean length and length law; TV to the exact law against K.
#[test]
fn power_prints_exact_mcmc_and_temperature_side_by_side() {
    let args = ["toy", "power", "reasoning", "--alpha", "2", "--mcmc-steps", "8", "--samples", "3000", "--seed", "5"];
    let v = json(&[&args[..], &["--json"]].concat());
    for key in ["exact", "mcmc", "temperature"] {
        let law = &v[key];
        let pmf: Vec<f64> = law["length_pmf"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(pmf.len(), 9, "{key}: lengths 0..=8");
        assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{key}");
        let mean: f64 = pmf.iter().enumerate().map(|(l, p)| l as f64 * p).sum();
        assert!((law["mean_length"].as_f64().unwrap() - mean).abs() < 1e-9, "{key}");
        assert!((0.0..=1.0).contains(&law["accuracy"].as_f64().unwrap()), "{key}");
    }
    // The exact law is the DP's π_ref^α, the one `toy tree` reports as the tempered target.
    let tree = json(&["toy", "tree", "reasoning", "--alpha", "2", "--solver", "tree", "--json"]);
    let acc = |x: &serde_json::Value| x["accuracy"].as_f64().unwrap();
    assert!((acc(&v["exact"]) - acc(&tree["regimes"][0])).abs() < 1e-12);
    assert_eq!(
        v["exact"],
        serde_json::json!({
            "accuracy": tree["temperature"][0]["power"]["accuracy"],
            "mean_length": tree["temperature"][0]["power"]["mean_length"],
            "length_pmf": tree["temperature"][0]["power"]["length_pmf"],
        })
    );
    assert_eq!(v["temperature"]["accuracy"], tree["temperature"][0]["temperature"]["accuracy"]);
    let ks: Vec<u64> = v["tv_by_steps"].as_array().unwrap().iter().map(|p| p["steps"].as_u64().unwrap()).collect();
    assert_eq!(ks, vec![0, 1, 2, 4, 8]);
    assert_eq!(v["tv_by_steps"][4]["tv"], v["mcmc"]["tv"]);
    assert!(v["mcmc"]["forward_tokens_per_sample"].as_f64().unwrap() >= 8.0);
    // Seeded: the same command prints the same numbers, on any number of threads.
    assert_eq!(json(&[&args[..], &["--json", "--threads", "1"]].concat()), v);
    let out = sharpen(&args);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("exact π_ref^α") && text.contains("token temperature") && text.contains("TV"), "{text}");
}

#[test]
fn power_rejects_bad_input_on_one_line() {
    for (args, needle) in [
        (vec!["toy", "power", "banana"], "unknown tree family"),
        (vec!["toy", "power", "geometric", "--alpha=-1"], "alpha"),
        (vec!["toy", "power", "geometric", "--samples", "0"], "samples"),
        (vec!["toy", "power", "geometric", "--block", "0"], "block"),
        (vec!["toy", "power", "geometric", "--proposal", "uniform"], "proposal"),
        (vec!["toy", "power", "geometric", "--stop", "1.5"], "stop"),
    ] {
        let out = sharpen(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "expected '{needle}' in: {err}");
    }
}

/// Issue 14: the state-space solver answers at an LLM's vocabulary and length, with the same
/// JSON; bad solver names are one-line errors.
#[test]
fn llm_sized_geometric_uses_the_state_space_solver() {
    let start = std::time::Instant::now();
    let v = json(&[
        "toy",
        "tree",
        "geometric",
        "--vocab",
        "152000",
        "--max-len",
        "4096",
        "--alpha",
        "0.9",
        "--alpha",
        "1",
        "--alpha",
        "2",
        "--json",
    ]);
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
    assert_eq!(v["solver"], "state-space");
    assert!(v["log10_prefixes"].as_f64().unwrap() > 20_000.0);
    let star = 152000f64.ln() / (152000f64.ln() - 0.7f64.ln());
    assert!((v["alpha_star"].as_f64().unwrap() - star).abs() < 1e-12);
    assert!((v["alpha_star_dp"].as_f64().unwrap() - star).abs() < 1e-9);
    let mean = |i: usize| v["regimes"][i]["mean_length"].as_f64().unwrap();
    let base_mean: f64 = (0..4096).map(|l| l as f64 * 0.3 * 0.7f64.powi(l)).sum::<f64>() + 4096.0 * 0.7f64.powi(4096);
    assert!((mean(1) - base_mean).abs() < 1e-9);
    assert!(mean(0) > 4000.0 && mean(2) < 1.0, "{} {}", mean(0), mean(2));
    // The tree solver still refuses what it cannot enumerate.
    let out = sharpen(&["toy", "tree", "geometric", "--vocab", "3", "--max-len", "60", "--solver", "tree"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("prefixes"));
    let out = sharpen(&["toy", "tree", "geometric", "--solver", "magic"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim_end().lines().count(), 1);
}

/// `sharpen toy calibrate` on `sharpen sample --json`-shaped lines from a geometric model.
#[test]
fn calibrate_reads_samples_and_predicts_alpha_star() {
    let dir = std::env::temp_dir().join(format!("sharpen-calibrate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("samples.jsonl");
    // Deterministic lengths with a geometric law (stop 0.2), V = 100 uniform tokens; EOS id 7.
    let (s, v, cap) = (0.2f64, 100.0f64, 64usize);
    let lp = ((1.0 - s) / v).ln();
    let mut lines = String::new();
    let mut x: u64 = 1;
    for i in 0..4000 {
        let mut len = 0;
        loop {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            if len == cap || ((x >> 11) as f64 / (1u64 << 53) as f64) < s {
                break;
            }
            len += 1;
        }
        let eos = len < cap;
        let mut logprobs = vec![lp; len];
        let mut tokens = vec![3u32; len];
        if eos {
            tokens.push(7);
            logprobs.push(s.ln());
        }
        let stop = if eos { "eos" } else { "length" };
        lines += &serde_json::json!({"prompt_index": 0, "sample_index": i, "tokens": tokens, "logprobs": logprobs, "stop": stop}).to_string();
        lines.push('\n');
    }
    std::fs::write(&path, lines).unwrap();
    let p = path.to_str().unwrap();
    let v = json(&["toy", "calibrate", "--samples", p, "--max-len", "64", "--vocab", "100", "--json"]);
    let star = 100f64.ln() / (100f64.ln() - 0.8f64.ln());
    let got = v["prediction"]["alpha_star"].as_f64().unwrap();
    assert!((got - star).abs() < 0.01, "{got} vs {star}");
    let sampled = v["prediction"]["alpha_star_sampled"].as_f64().unwrap();
    assert!((sampled - star).abs() < 0.01, "{sampled} vs {star}");
    assert_eq!(v["samples"].as_u64(), Some(4000));
    let out = sharpen(&["toy", "calibrate", "--samples", p, "--max-len", "64", "--vocab", "100"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("α*"));
    std::fs::write(&path, "{\"tokens\": [1]}\n").unwrap();
    let out = sharpen(&["toy", "calibrate", "--samples", p]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim_end().lines().count(), 1);
    std::fs::remove_dir_all(&dir).ok();
}

/// `sharpen toy calibrate --model`: the samples come from a real model (the tiny fixture), and
/// the fit is the one `--samples` gives on the same samples written by `sharpen sample --json`.
#[test]
fn calibrate_samples_a_model_itself() {
    let dir = std::env::temp_dir().join(format!("sharpen-calibrate-model-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prompts = dir.join("prompts.jsonl");
    std::fs::write(&prompts, "\"a b c\"\n{\"prompt\": \"d e\"}\n").unwrap();
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-llama");
    let (m, p) = (model.to_str().unwrap(), prompts.to_str().unwrap());
    let common = ["--max-len", "8", "--vocab", "64", "--min-count", "5", "--json"];
    let direct =
        json(&[&["toy", "calibrate", "--model", m, "--prompts", p, "--n", "20", "--seed", "3"][..], &common].concat());
    assert_eq!(direct["samples"], 40);
    // The same samples through a file, as `sharpen sample --json` writes them (one batch).
    let o = sharpen(&[
        "sample",
        "--model",
        m,
        "--prompts",
        p,
        "--n",
        "20",
        "--batch-size",
        "40",
        "--max-tokens",
        "8",
        "--seed",
        "3",
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lines = String::from_utf8_lossy(&o.stdout).to_string();
    let file = dir.join("samples.jsonl");
    std::fs::write(&file, lines).unwrap();
    let via_file = json(&[&["toy", "calibrate", "--samples", file.to_str().unwrap()][..], &common].concat());
    assert_eq!(direct, via_file);
    let bad = sharpen(&["toy", "calibrate", "--model", m]);
    assert_eq!(bad.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}
