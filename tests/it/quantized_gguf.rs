//! `--quantized`: SmolLM2-135M-Instruct's Q4_1 GGUF run as stored through candle-transformers'
//! quantized llama (`sharpen::quantized`), against our f32 decoder on the exact dequantisation of
//! the same file; sampling that is seed-deterministic whatever the batch split; and the one-line
//! errors of `sharpen eval/sample --quantized`.
//!
//! The SmolLM2 tests need models/ (scripts/fetch-test-model.sh; .ci/run calls it).

use crate::common::sharpen;
use candle_core::quantized::gguf_file;
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, IndexOp, Tensor};
use serde_json::Value;
use sharpen::lm::LanguageModel;
use sharpen::model::LoadOptions;
use sharpen::quantized::QuantizedModel;
use sharpen::rollout::{sample, Decoder, SamplingParams};
use std::path::PathBuf;
use std::process::Output;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn gguf_path() -> PathBuf {
    let p = root().join("models/SmolLM2-135M-Instruct.Q4_1.gguf");
    // A missing model fails the test: the README's test command fetches it first.
    assert!(p.exists(), "{} is absent: run scripts/fetch-test-model.sh", p.display());
    p
}

/// A model of its own for each test: a quantized model runs one batch at a time (a new KV cache
/// invalidates the previous one), and the tests run in parallel.
fn quantized() -> LanguageModel<QuantizedModel> {
    QuantizedModel::open(&gguf_path(), &Device::Cpu).expect("opening the GGUF quantized")
}

fn fixture(name: &str) -> Value {
    let p = root().join("tests/fixtures/smollm2").join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn u32s(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

#[test]
fn tokenizer_template_and_eos_are_the_dequantised_models() {
    let q = quantized();
    let lm = LanguageModel::open(&gguf_path(), &LoadOptions::default()).unwrap();
    assert_eq!(q.model.arch(), "llama");
    assert_eq!(q.eos_ids, lm.eos_ids);
    assert_eq!(q.model.vocab_size(), lm.model.config().vocab_size);
    for c in fixture("greedy.json")["cases"].as_array().unwrap() {
        assert_eq!(q.encode_prompt(c["prompt"].as_str().unwrap(), true).unwrap(), u32s(&c["prompt_ids"]));
    }
}

#[test]
fn sampling_is_seed_deterministic_and_independent_of_the_batch_split() {
    let q = quantized();
    // Short plain-text prompts of different lengths (the quantized kernels are slow, see
    // docs/quantized.md): the quantized model runs each as its own batch of n rows.
    let prompts: Vec<Vec<u32>> = ["My favourite number is", "Once upon a time, in a small town by the"]
        .map(|t| q.encode_prompt(t, false).unwrap())
        .to_vec();
    assert_ne!(prompts[0].len(), prompts[1].len());
    let p = SamplingParams { max_new_tokens: 6, seed: 7, ..SamplingParams::default() };
    let all = sample(&q.model, &prompts, 2, &q.eos_ids, &p).unwrap();
    assert_eq!(all.len(), 4);
    for (i, prompt) in prompts.iter().enumerate() {
        let alone = SamplingParams { stream_offset: (i * 2) as u64, ..p.clone() };
        let one = sample(&q.model, std::slice::from_ref(prompt), 2, &q.eos_ids, &alone).unwrap();
        for (j, r) in one.iter().enumerate() {
            let r0 = &all[i * 2 + j];
            assert_eq!((r0.prompt_index, r0.sample_index), (i, j));
            assert_eq!(r0.tokens, r.tokens, "prompt {i} sample {j}");
        }
    }
    // A different seed draws different samples (6 tokens at temperature 1 from 49k tokens).
    let other = sample(&q.model, &prompts, 2, &q.eos_ids, &SamplingParams { seed: 8, ..p.clone() }).unwrap();
    assert_ne!(other.iter().map(|r| &r.tokens).collect::<Vec<_>>(), all.iter().map(|r| &r.tokens).collect::<Vec<_>>());
    for r in &all {
        assert!(r.logprobs.iter().all(|&x| x.is_finite() && x <= 0.0));
    }
}

#[test]
fn bad_quantized_inputs_are_one_line_errors() {
    let check = |out: Output, want: &str| {
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(want), "{err}");
    };
    // A Hugging Face folder is not a GGUF file.
    let dir = root().join("tests/fixtures/tiny-llama");
    check(
        sharpen(&["sample", "--quantized", "--model", dir.to_str().unwrap(), "--prompt", "a"]),
        "--quantized needs a .gguf file",
    );
    check(
        sharpen(&[
            "eval",
            "--quantized",
            "--model",
            dir.to_str().unwrap(),
            "--data",
            "synthetic",
            "--n",
            "1",
            "--k",
            "1",
        ]),
        "--quantized needs a .gguf file",
    );
    // A GGUF of an architecture candle-transformers' quantized models do not cover.
    let path = std::env::temp_dir().join(format!("sharpen-quantized-gemma-{}.gguf", std::process::id()));
    let t = QTensor::quantize(&Tensor::zeros((4, 32), candle_core::DType::F32, &Device::Cpu).unwrap(), GgmlDType::F32)
        .unwrap();
    let arch = gguf_file::Value::String("gemma".into());
    let mut f = std::fs::File::create(&path).unwrap();
    gguf_file::write(&mut f, &[("general.architecture", &arch)], &[("token_embd.weight", &t)]).unwrap();
    drop(f);
    check(
        sharpen(&["sample", "--quantized", "--model", path.to_str().unwrap(), "--prompt", "a"]),
        "GGUF architecture `gemma` is not supported by --quantized (supported: llama, qwen2, qwen3)",
    );
    std::fs::remove_file(&path).unwrap();
    // The quantized path is the CPU's and keeps the file's types.
    let gguf = gguf_path();
    check(
        sharpen(&["sample", "--quantized", "--model", gguf.to_str().unwrap(), "--prompt", "a", "--dtype", "bf16"]),
        "--quantized keeps the GGUF file's own types",
    );
    // Power sampling realigns our KV cache's rows; the quantized models keep one offset per batch.
    for cmd in [&["sample", "--prompt", "a"][..], &["eval", "--data", "synthetic", "--n", "1", "--k", "1"][..]] {
        let mut args = cmd.to_vec();
        args.extend(["--quantized", "--model", gguf.to_str().unwrap(), "--power", "2", "--mcmc-steps", "2"]);
        check(sharpen(&args), "--power needs a model folder");
    }
}

#[test]
fn cli_samples_repeat_for_a_seed() {
    let gguf = gguf_path();
    let run = || {
        let out = sharpen(&[
            "sample",
            "--quantized",
            "--model",
            gguf.to_str().unwrap(),
            "--prompt",
            "2 + 3 =",
            "--n",
            "2",
            "--max-tokens",
            "8",
            "--seed",
            "3",
            "--json",
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let a = run();
    assert_eq!(a.lines().count(), 2);
    assert_eq!(a, run());
    // The library gives the same tokens.
    let q = quantized();
    let prompt = q.encode_prompt("2 + 3 =", false).unwrap();
    let p = SamplingParams { max_new_tokens: 8, seed: 3, ..SamplingParams::default() };
    let want = sample(&q.model, &[prompt], 2, &q.eos_ids, &p).unwrap();
    for (line, r) in a.lines().zip(&want) {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(u32s(&v["tokens"]), r.tokens);
    }
}

/// Logits (T, vocab) of the quantized model at every position: one token at a time through its
/// cache (it returns the last position only).
fn quantized_logits(ids: &[u32]) -> Tensor {
    let q = quantized();
    let m = &q.model;
    let mut cache = m.new_cache(vec![0], ids.len()).unwrap();
    let rows: Vec<Tensor> = ids
        .iter()
        .map(|&t| m.next_logits(&Tensor::new(&[[t]], &Device::Cpu).unwrap(), &mut cache).unwrap().i((0, 0)).unwrap())
        .collect();
    Tensor::stack(&rows, 0).unwrap()
}

#[test]
fn quantized_logits_track_the_dequantised_f32_model() {
    let fx = fixture("logits.json");
    let ids = u32s(&fx["input_ids"]);
    let lm = LanguageModel::open(&gguf_path(), &LoadOptions::default()).unwrap();
    let x = Tensor::new(ids.as_slice(), &Device::Cpu).unwrap().unsqueeze(0).unwrap();
    let f32_logits = lm.model.forward_infer(&x, &[0]).unwrap().i(0).unwrap();
    let q = quantized_logits(&ids);
    let diff = (&q - &f32_logits).unwrap().abs().unwrap().flatten_all().unwrap();
    let max = diff.max(0).unwrap().to_scalar::<f32>().unwrap();
    let mean = diff.mean(0).unwrap().to_scalar::<f32>().unwrap();
    let top = |t: &Tensor| t.argmax(1).unwrap().to_vec1::<u32>().unwrap();
    let (tq, tf) = (top(&q), top(&f32_logits));
    let agree = tq.iter().zip(&tf).filter(|(a, b)| a == b).count();
    eprintln!(
        "quantized vs f32: max |Δlogit| = {max:.3}, mean {mean:.3}, top-1 agrees at {agree} of {} positions",
        ids.len()
    );
    // Both sides use the same Q4_1 numbers as weights (the f32 model is their exact
    // dequantisation); the quantized kernel also rounds each activation row to 8 bits (Q8_1),
    // which moves logits a little but rarely changes the top token. A layout error (q/k rows,
    // RoPE pairing, a wrong norm) scrambles the top token at most positions instead.
    assert!(agree * 10 >= tq.len() * 9, "top-1 agrees at only {agree} of {} positions", tq.len());
    assert!(mean < 0.5, "mean |Δlogit| = {mean}");
}

/// The GGUF name of a Hugging Face tensor of the qwen layout (llama.cpp's names; qwen keeps the
/// rotate-half q/k rows, so no permutation).
fn gguf_name(hf: &str) -> String {
    let top = [("model.embed_tokens", "token_embd"), ("model.norm", "output_norm"), ("lm_head", "output")];
    for (h, g) in top {
        if let Some(kind) = hf.strip_prefix(h).and_then(|k| k.strip_prefix('.')) {
            return format!("{g}.{kind}");
        }
    }
    let rest = hf.strip_prefix("model.layers.").unwrap();
    let (layer, part) = rest.split_once('.').unwrap();
    let (stem, kind) = part.rsplit_once('.').unwrap();
    let g = match stem {
        "self_attn.q_proj" => "attn_q",
        "self_attn.k_proj" => "attn_k",
        "self_attn.v_proj" => "attn_v",
        "self_attn.o_proj" => "attn_output",
        "self_attn.q_norm" => "attn_q_norm",
        "self_attn.k_norm" => "attn_k_norm",
        "input_layernorm" => "attn_norm",
        "post_attention_layernorm" => "ffn_norm",
        "mlp.gate_proj" => "ffn_gate",
        "mlp.up_proj" => "ffn_up",
        "mlp.down_proj" => "ffn_down",
        other => panic!("no GGUF name for {other}"),
    };
    format!("blk.{layer}.{g}.{kind}")
}

/// The quantized path's arithmetic, free of rounding: a tiny qwen2 / qwen3 fixture written as an
/// f32 GGUF (its "quantized" matmuls are then plain f32) against transformers' logits, within
/// the tiny fixtures' 1e-4, at every position (one token at a time through its cache) and at the
/// last position of one prefill. (The tiny llama uses Llama-3 RoPE scaling, which
/// candle-transformers' quantized llama does not read, so it is not written.)
#[test]
fn f32_gguf_of_the_tiny_qwen_fixtures_matches_transformers() {
    for name in ["qwen2", "qwen3"] {
        let d = root().join("tests/fixtures").join(format!("tiny-{name}"));
        let config: Value = serde_json::from_str(&std::fs::read_to_string(d.join("config.json")).unwrap()).unwrap();
        let c = sharpen::model::ModelConfig::from_json(&config).unwrap();
        let tensors = sharpen::model::read_safetensors(&d, &Device::Cpu).unwrap();
        let q: Vec<(String, QTensor)> =
            tensors.iter().map(|(n, t)| (gguf_name(n), QTensor::quantize(t, GgmlDType::F32).unwrap())).collect();
        use gguf_file::Value as V;
        let k = |s: &str| format!("{name}.{s}");
        let meta = vec![
            ("general.architecture".to_string(), V::String(name.into())),
            // quantized_qwen3 computes in f16 unless told the file is f32.
            ("general.dtype".to_string(), V::U32(0)),
            (k("attention.head_count"), V::U32(c.num_heads as u32)),
            (k("attention.head_count_kv"), V::U32(c.num_kv_heads as u32)),
            (k("attention.key_length"), V::U32(c.head_dim as u32)),
            (k("embedding_length"), V::U32(c.hidden_size as u32)),
            (k("block_count"), V::U32(c.num_layers as u32)),
            (k("context_length"), V::U32(c.max_position_embeddings as u32)),
            (k("attention.layer_norm_rms_epsilon"), V::F32(c.rms_norm_eps as f32)),
            (k("rope.freq_base"), V::F32(c.rope_theta as f32)),
        ];
        let path = std::env::temp_dir().join(format!("sharpen-tiny-{name}-{}.gguf", std::process::id()));
        let mut f = std::fs::File::create(&path).unwrap();
        let meta_refs: Vec<(&str, &V)> = meta.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let q_refs: Vec<(&str, &QTensor)> = q.iter().map(|(n, t)| (n.as_str(), t)).collect();
        gguf_file::write(&mut f, &meta_refs, &q_refs).unwrap();
        drop(f);
        let m = QuantizedModel::load(&path, &Device::Cpu).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(m.arch(), name);
        let exp = candle_core::safetensors::load(d.join("expected.safetensors"), &Device::Cpu).unwrap();
        for s in ["a", "b"] {
            let ids = exp[&format!("ids_{s}")].to_dtype(candle_core::DType::U32).unwrap().to_vec1::<u32>().unwrap();
            let want = &exp[&format!("logits_{s}")];
            let mut cache = m.new_cache(vec![0], ids.len()).unwrap();
            let rows: Vec<Tensor> = ids
                .iter()
                .map(|&t| {
                    m.next_logits(&Tensor::new(&[[t]], &Device::Cpu).unwrap(), &mut cache).unwrap().i((0, 0)).unwrap()
                })
                .collect();
            let got = Tensor::stack(&rows, 0).unwrap();
            let d1 = (&got - want)
                .unwrap()
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            let mut cache = m.new_cache(vec![0], ids.len()).unwrap();
            let x = Tensor::new(ids.as_slice(), &Device::Cpu).unwrap().unsqueeze(0).unwrap();
            let last = m.next_logits(&x, &mut cache).unwrap().i((0, 0)).unwrap();
            let d2 = (&last - want.i(ids.len() - 1).unwrap())
                .unwrap()
                .abs()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            eprintln!("{name} f32 GGUF, sequence {s}: max |Δlogit| cached {d1:.2e}, prefill {d2:.2e}");
            assert!(d1 < 1e-4 && d2 < 1e-4, "{name} sequence {s}: {d1}, {d2}");
        }
    }
}
