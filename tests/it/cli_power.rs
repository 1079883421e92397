//! `sharpen sample --power` and `sharpen eval --power` on the tiny llama fixture: the flags'
//! validation (one-line errors, exit code 2), the samples against the library, the eval's cost.

use crate::common::{refused, sharpen};
use serde_json::Value;
use sharpen::lm::LanguageModel;
use sharpen::model::LoadOptions;
use sharpen::rollout::{power_sample, SamplingParams};
use sharpen::toy::mcmc::{PowerSampler, Proposal};
use std::path::PathBuf;

fn model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-llama")
}

#[test]
fn bad_power_flags_are_one_line_errors() {
    let dir = model_dir();
    let m = dir.to_str().unwrap();
    let sample = ["sample", "--model", m, "--prompt", "a b", "--max-tokens", "4"];
    let eval = ["eval", "--model", m, "--data", "synthetic", "--n", "2", "--k", "1", "--problems", "1"];
    for base in [&sample[..], &eval[..]] {
        let with = |extra: &[&str]| sharpen(&[base, extra].concat());
        refused(&with(&["--power=-1", "--mcmc-steps", "4"]), "--power must be a finite α > 0, got -1");
        refused(&with(&["--power", "0", "--mcmc-steps", "4"]), "--power must be a finite α > 0, got 0");
        refused(&with(&["--power", "NaN", "--mcmc-steps", "4"]), "--power must be a finite α > 0");
        refused(&with(&["--power", "2", "--mcmc-steps", "0"]), "--mcmc-steps must be >= 1");
        refused(&with(&["--power", "2"]), "--power needs --mcmc-steps K");
        refused(&with(&["--mcmc-steps", "3"]), "need --power ALPHA");
        refused(&with(&["--power", "2", "--mcmc-steps", "2", "--block", "0"]), "--block must be >= 1");
        refused(&with(&["--power", "2", "--mcmc-steps", "2", "--proposal", "greedy"]), "unknown proposal");
        refused(&with(&["--power", "2", "--mcmc-steps", "2", "--temperature", "0.5"]), "leave --temperature");
    }
    refused(&sharpen(&[&sample[..], &["--power", "2", "--mcmc-steps", "2", "--greedy"]].concat()), "no --greedy");
}

#[test]
fn power_samples_from_the_cli_are_the_librarys() {
    let dir = model_dir();
    let out = sharpen(&[
        "sample",
        "--model",
        dir.to_str().unwrap(),
        "--prompt",
        "a b c",
        "--n",
        "3",
        "--max-tokens",
        "6",
        "--power",
        "2",
        "--mcmc-steps",
        "4",
        "--seed",
        "9",
        "--json",
    ]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    let lm = LanguageModel::open(&dir, &LoadOptions::default()).unwrap();
    let prompt = lm.encode_prompt("a b c", false).unwrap();
    let p = SamplingParams { max_new_tokens: 6, seed: 9, ..SamplingParams::default() };
    let s = PowerSampler::new(2.0, Proposal::Temperature, 4, None).unwrap();
    let want = power_sample(&lm.model, &[prompt], 3, &lm.eos_ids, &p, &s).unwrap();
    for (line, w) in lines.iter().zip(&want.samples) {
        let tokens: Vec<u32> = line["tokens"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect();
        assert_eq!(tokens, w.rollout.tokens);
        assert_eq!(line["forward_tokens"].as_u64().unwrap() as usize, w.forward_tokens);
        assert_eq!(line["mcmc_proposed"].as_u64().unwrap(), 4);
    }
}

#[test]
fn eval_reports_the_cost_of_power_samples() {
    let dir = model_dir();
    let run = |extra: &[&str]| -> Value {
        let args = [
            &["eval", "--model", dir.to_str().unwrap(), "--data", "synthetic", "--n", "2", "--k", "1,2"][..],
            &["--problems", "2", "--max-new-tokens", "4", "--json"],
            extra,
        ]
        .concat();
        let o = sharpen(&args);
        assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let plain = run(&[]);
    let cost = &plain["cost"];
    // A plain sample evaluates each of its tokens once.
    assert_eq!(cost["forward_tokens_per_sample"], plain["mean_length"]);
    assert!(cost.get("power").is_none());
    let power = run(&["--power", "4", "--mcmc-steps", "3"]);
    let cost = &power["cost"];
    assert_eq!(cost["power"]["sampler"]["steps"], 3);
    let rate = cost["power"]["acceptance_rate"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&rate));
    // The initial draw alone costs the sample's length; three proposals cost more.
    let forward = cost["forward_tokens_per_sample"].as_f64().unwrap();
    assert!(forward > power["mean_length"].as_f64().unwrap(), "{power}");
    // The prompt is prefilled once for its two chains.
    assert!(
        cost["prefill_tokens_per_sample"].as_f64().unwrap()
            < plain["cost"]["prefill_tokens_per_sample"].as_f64().unwrap()
    );
}
