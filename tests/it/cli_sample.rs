//! End-to-end: `sharpen sample` on the tiny llama fixture (word-level tokenizer, ChatML template).

use crate::common::sharpen;
use serde_json::Value;
use sharpen::lm::LanguageModel;
use sharpen::model::LoadOptions;
use sharpen::rollout::{sample, SamplingParams};
use std::path::PathBuf;
use std::process::{Command, Output};

fn model_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-llama")
}

fn json_lines(out: &Output) -> Vec<Value> {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn greedy_json_output_matches_the_library() {
    let dir = model_dir();
    let out = sharpen(&[
        "sample",
        "--model",
        dir.to_str().unwrap(),
        "--prompt",
        "a b c",
        "--greedy",
        "--max-tokens",
        "8",
        "--json",
    ]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    let lm = LanguageModel::open(&dir, &LoadOptions::default()).unwrap();
    assert_eq!(lm.eos_ids, vec![2, 4]); // generation_config's </s> and the template's <|im_end|>
    let prompt = lm.encode_prompt("a b c", false).unwrap();
    assert_eq!(prompt.len(), 3);
    let p = SamplingParams { greedy: true, max_new_tokens: 8, ..SamplingParams::default() };
    let want = &sample(&lm.model, &[prompt], 1, &lm.eos_ids, &p).unwrap()[0];
    let tokens: Vec<u32> = lines[0]["tokens"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect();
    assert_eq!(tokens, want.tokens);
    assert_eq!(lines[0]["logprobs"].as_array().unwrap().len(), tokens.len());
    let stop = lines[0]["stop"].as_str().unwrap();
    assert!(stop == "eos" || (stop == "length" && tokens.len() == 8));
}

#[test]
fn prompts_file_chat_and_n_samples() {
    let file = std::env::temp_dir().join(format!("sharpen-cli-sample-{}.jsonl", std::process::id()));
    std::fs::write(&file, "{\"prompt\": \"1 + 2 = ?\"}\n\"x y\"\n").unwrap();
    let dir = model_dir();
    let out = sharpen(&[
        "sample",
        "--model",
        dir.to_str().unwrap(),
        "--prompts",
        file.to_str().unwrap(),
        "--chat",
        "--n",
        "3",
        "--max-tokens",
        "5",
        "--seed",
        "9",
        "--ignore-eos",
        "--json",
        "--batch-size",
        "4",
    ]);
    let _ = std::fs::remove_file(&file);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 6);
    for (k, l) in lines.iter().enumerate() {
        assert_eq!(l["prompt_index"].as_u64().unwrap() as usize, k / 3);
        assert_eq!(l["sample_index"].as_u64().unwrap() as usize, k % 3);
        assert_eq!(l["tokens"].as_array().unwrap().len(), 5);
        assert_eq!(l["stop"], "length");
    }
    // The chunked CLI (batch 4 rows → one prompt per call) samples what one big batch samples.
    let lm = LanguageModel::open(&dir, &LoadOptions::default()).unwrap();
    let prompts: Vec<Vec<u32>> = ["1 + 2 = ?", "x y"].iter().map(|p| lm.encode_prompt(p, true).unwrap()).collect();
    let p = SamplingParams { max_new_tokens: 5, seed: 9, ignore_eos: true, ..SamplingParams::default() };
    let all = sample(&lm.model, &prompts, 3, &lm.eos_ids, &p).unwrap();
    for (l, r) in lines.iter().zip(&all) {
        let tokens: Vec<u32> = l["tokens"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect();
        assert_eq!(tokens, r.tokens);
    }
}

#[test]
fn bad_inputs_are_one_line_errors() {
    let dir = model_dir();
    let d = dir.to_str().unwrap();
    for args in [
        vec!["sample", "--model", "/nonexistent/model", "--prompt", "a"],
        vec!["sample", "--model", d, "--prompt", "a", "--temperature", "0"],
        vec!["sample", "--model", d, "--prompt", "a", "--top-p", "1.5"],
        vec!["sample", "--model", d],
        vec!["sample", "--model", d, "--prompt", "a", "--dtype", "f8"],
    ] {
        let out = sharpen(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn a_hub_id_resolves_in_the_local_cache() {
    // A cache in the hub clients' layout, holding the tiny fixture under the id Org/Tiny.
    let cache = std::env::temp_dir().join(format!("sharpen-hub-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    let snap = cache.join("models--Org--Tiny/snapshots/abc123");
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::create_dir_all(cache.join("models--Org--Tiny/refs")).unwrap();
    std::fs::write(cache.join("models--Org--Tiny/refs/main"), "abc123").unwrap();
    for e in std::fs::read_dir(model_dir()).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, snap.join(p.file_name().unwrap())).unwrap();
    }
    let run = |id: &str| {
        Command::new(env!("CARGO_BIN_EXE_sharpen"))
            .args(["sample", "--model", id, "--prompt", "a b c", "--greedy", "--max-tokens", "4", "--json"])
            .env("HF_HUB_CACHE", &cache)
            .output()
            .unwrap()
    };
    let by_id = json_lines(&run("Org/Tiny"));
    let by_path = json_lines(&sharpen(&[
        "sample",
        "--model",
        model_dir().to_str().unwrap(),
        "--prompt",
        "a b c",
        "--greedy",
        "--max-tokens",
        "4",
        "--json",
    ]));
    assert_eq!(by_id[0]["tokens"], by_path[0]["tokens"]);
    let missing = run("Org/Absent");
    assert_eq!(missing.status.code(), Some(2));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(err.contains("hf download Org/Absent") && err.trim_end().lines().count() == 1, "{err}");
    std::fs::remove_dir_all(&cache).unwrap();
}
