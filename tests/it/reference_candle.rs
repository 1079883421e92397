//! Our decoder's inference path against a second, independent implementation:
//! candle-transformers' llama, qwen2 and qwen3, built from the same weights and our parsed
//! config, on the tiny fixtures and on SmolLM2-135M-Instruct (single sequences, f32).
//!
//! Their models return the last position's logits only, so every position is compared by feeding
//! the sequence one token at a time through their KV cache, and their cache-free prefill at the
//! last position of every prefix. The transformers logits of the fixtures say which side is right
//! where the two disagree. A perturbed RoPE base, RMSNorm epsilon or norm weight in our model must
//! push the same comparison past its tolerance (the cross-check can fail).
//!
//! The SmolLM2 tests need models/ (scripts/fetch-test-model.sh; .ci/run calls it).

use candle_core::{DType, Device, IndexOp, Tensor};
use candle_nn::{Activation, VarBuilder};
use candle_transformers::models::{llama, qwen2, qwen3};
use serde_json::Value;
use sharpen::model::{read_safetensors, Arch, LoadOptions, Model, ModelConfig, RopeScaling};
use std::collections::HashMap;
use std::path::PathBuf;

/// f32 logits of two implementations of the same model: the tiny fixtures' tolerance against
/// transformers (tests/it/model_fixtures.rs).
const TOL: f32 = 1e-4;
const FAMILIES: [&str; 3] = ["llama", "qwen2", "qwen3"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// candle-transformers' causal LM of the config's family, with its KV cache.
enum Reference {
    Llama(Box<llama::Llama>, Box<llama::Cache>, Box<llama::Config>),
    Qwen2(Box<qwen2::ModelForCausalLM>),
    Qwen3(Box<qwen3::ModelForCausalLM>),
}

impl Reference {
    /// Their config is filled from ours (parsed from the same config.json), so the comparison is
    /// of the arithmetic, not of the two config readers (theirs does not read transformers 5's
    /// `rope_parameters`, which the tiny fixtures use).
    fn new(config: &Value, tensors: &HashMap<String, Tensor>) -> Reference {
        let c = ModelConfig::from_json(config).unwrap();
        let vb = VarBuilder::from_tensors(tensors.clone(), DType::F32, &Device::Cpu);
        match c.arch {
            Arch::Llama => {
                // Their llama derives head_dim from hidden_size / heads and has no bias switch.
                assert_eq!(c.head_dim, c.hidden_size / c.num_heads);
                assert!(!c.qkv_bias && !c.o_bias && !c.mlp_bias);
                let rope_scaling = match c.rope_scaling {
                    RopeScaling::None => None,
                    RopeScaling::Llama3 {
                        factor,
                        low_freq_factor,
                        high_freq_factor,
                        original_max_position_embeddings,
                    } => Some(llama::Llama3RopeConfig {
                        factor: factor as f32,
                        low_freq_factor: low_freq_factor as f32,
                        high_freq_factor: high_freq_factor as f32,
                        original_max_position_embeddings: original_max_position_embeddings as usize,
                        rope_type: llama::Llama3RopeType::Llama3,
                    }),
                };
                let cfg = llama::Config {
                    hidden_size: c.hidden_size,
                    intermediate_size: c.intermediate_size,
                    vocab_size: c.vocab_size,
                    num_hidden_layers: c.num_layers,
                    num_attention_heads: c.num_heads,
                    num_key_value_heads: c.num_kv_heads,
                    use_flash_attn: false,
                    rms_norm_eps: c.rms_norm_eps,
                    rope_theta: c.rope_theta as f32,
                    bos_token_id: None,
                    eos_token_id: None,
                    rope_scaling,
                    max_position_embeddings: c.max_position_embeddings,
                    tie_word_embeddings: c.tie_word_embeddings,
                };
                let model = llama::Llama::load(vb, &cfg).unwrap();
                let cache = llama::Cache::new(true, DType::F32, &cfg, &Device::Cpu).unwrap();
                Reference::Llama(Box::new(model), Box::new(cache), Box::new(cfg))
            }
            Arch::Qwen2 => {
                let cfg = qwen2::Config {
                    vocab_size: c.vocab_size,
                    hidden_size: c.hidden_size,
                    intermediate_size: c.intermediate_size,
                    num_hidden_layers: c.num_layers,
                    num_attention_heads: c.num_heads,
                    num_key_value_heads: c.num_kv_heads,
                    max_position_embeddings: c.max_position_embeddings,
                    sliding_window: c.max_position_embeddings,
                    max_window_layers: c.num_layers,
                    tie_word_embeddings: c.tie_word_embeddings,
                    rope_theta: c.rope_theta,
                    rms_norm_eps: c.rms_norm_eps,
                    use_sliding_window: false,
                    hidden_act: Activation::Silu,
                };
                Reference::Qwen2(Box::new(qwen2::ModelForCausalLM::new(&cfg, vb).unwrap()))
            }
            Arch::Qwen3 => {
                let cfg = qwen3::Config {
                    vocab_size: c.vocab_size,
                    hidden_size: c.hidden_size,
                    intermediate_size: c.intermediate_size,
                    num_hidden_layers: c.num_layers,
                    num_attention_heads: c.num_heads,
                    head_dim: c.head_dim,
                    attention_bias: c.qkv_bias,
                    num_key_value_heads: c.num_kv_heads,
                    max_position_embeddings: c.max_position_embeddings,
                    sliding_window: None,
                    max_window_layers: c.num_layers,
                    tie_word_embeddings: c.tie_word_embeddings,
                    rope_theta: c.rope_theta,
                    rms_norm_eps: c.rms_norm_eps,
                    use_sliding_window: false,
                    hidden_act: Activation::Silu,
                };
                Reference::Qwen3(Box::new(qwen3::ModelForCausalLM::new(&cfg, vb).unwrap()))
            }
        }
    }

    fn reset(&mut self) {
        match self {
            Reference::Llama(_, cache, cfg) => {
                **cache = llama::Cache::new(true, DType::F32, cfg, &Device::Cpu).unwrap()
            }
            Reference::Qwen2(m) => m.clear_kv_cache(),
            Reference::Qwen3(m) => m.clear_kv_cache(),
        }
    }

    /// Logits (vocab,) of the last of `ids`, fed at positions `offset..offset + len`.
    fn step(&mut self, ids: &[u32], offset: usize) -> Tensor {
        let x = Tensor::new(ids, &Device::Cpu).unwrap().unsqueeze(0).unwrap();
        let out = match self {
            Reference::Llama(m, cache, _) => m.forward(&x, offset, cache).unwrap(),
            Reference::Qwen2(m) => m.forward(&x, offset).unwrap(),
            Reference::Qwen3(m) => m.forward(&x, offset).unwrap(),
        };
        out.flatten_all().unwrap()
    }

    /// Logits (T, vocab) at every position: one token at a time through their KV cache.
    fn every_position(&mut self, ids: &[u32]) -> Tensor {
        self.reset();
        let rows: Vec<Tensor> = (0..ids.len()).map(|t| self.step(&ids[t..t + 1], t)).collect();
        Tensor::stack(&rows, 0).unwrap()
    }

    /// Logits (vocab,) of the last position of one cache-free prefill of `ids`.
    fn prefill_last(&mut self, ids: &[u32]) -> Tensor {
        self.reset();
        self.step(ids, 0)
    }

    /// `n` greedy tokens after `prompt` (EOS ignored), the first maximum on ties.
    fn greedy(&mut self, prompt: &[u32], n: usize) -> Vec<u32> {
        self.reset();
        let mut logits = self.step(prompt, 0);
        let mut out = vec![];
        for i in 0..n {
            let row: Vec<f32> = logits.to_vec1().unwrap();
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let tok = row.iter().position(|&x| x == max).unwrap() as u32;
            out.push(tok);
            logits = self.step(&[tok], prompt.len() + i);
        }
        out
    }
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap()
}

/// Our inference path's logits (T, vocab) for one sequence.
fn ours(m: &Model, ids: &[u32]) -> Tensor {
    let x = Tensor::new(ids, &Device::Cpu).unwrap().unsqueeze(0).unwrap();
    m.forward_infer(&x, &[0]).unwrap().i(0).unwrap()
}

/// The cross-check: the largest |Δlogit| between our model and the reference over every
/// position (their cached steps) and every prefix's last position (their prefill).
fn cross_check(m: &Model, reference: &mut Reference, seqs: &[Vec<u32>]) -> f32 {
    let mut worst = 0f32;
    for s in seqs {
        let mine = ours(m, s);
        worst = worst.max(max_diff(&mine, &reference.every_position(s)));
        for len in 1..=s.len() {
            worst = worst.max(max_diff(&mine.i(len - 1).unwrap(), &reference.prefill_last(&s[..len])));
        }
    }
    worst
}

struct Tiny {
    config: Value,
    tensors: HashMap<String, Tensor>,
    seqs: Vec<Vec<u32>>,
    /// transformers' logits (T, vocab) of each sequence.
    expected: Vec<Tensor>,
}

fn tiny(name: &str) -> Tiny {
    let d = root().join("tests/fixtures").join(format!("tiny-{name}"));
    let config = serde_json::from_str(&std::fs::read_to_string(d.join("config.json")).unwrap()).unwrap();
    let tensors = read_safetensors(&d, &Device::Cpu).unwrap();
    let exp = candle_core::safetensors::load(d.join("expected.safetensors"), &Device::Cpu).unwrap();
    let ids = |k: &str| exp[k].to_dtype(DType::U32).unwrap().to_vec1::<u32>().unwrap();
    Tiny {
        config,
        tensors,
        seqs: vec![ids("ids_a"), ids("ids_b")],
        expected: vec![exp["logits_a"].clone(), exp["logits_b"].clone()],
    }
}

fn our_model(config: &Value, tensors: &HashMap<String, Tensor>) -> Model {
    Model::from_parts(config, tensors.clone(), &LoadOptions::default()).unwrap()
}

#[test]
fn candle_transformers_agrees_with_our_inference_path_on_the_tiny_fixtures() {
    for name in FAMILIES {
        let t = tiny(name);
        let mut reference = Reference::new(&t.config, &t.tensors);
        let d = cross_check(&our_model(&t.config, &t.tensors), &mut reference, &t.seqs);
        // Both against transformers: where the two disagree, this says which one is right.
        let theirs = t.seqs.iter().zip(&t.expected).map(|(s, e)| max_diff(&reference.every_position(s), e));
        let theirs = theirs.fold(0f32, f32::max);
        eprintln!(
            "{name}: max |ours - candle-transformers| = {d:.2e}, |candle-transformers - transformers| = {theirs:.2e}"
        );
        assert!(d < TOL, "{name}: ours and candle-transformers differ by {d}");
        assert!(theirs < TOL, "{name}: candle-transformers and transformers differ by {theirs}");
    }
}

/// A copy of the config with `key` set at the top level (where our reader looks first).
fn with(config: &Value, key: &str, value: f64) -> Value {
    let mut c = config.clone();
    c[key] = serde_json::json!(value);
    c
}

/// Ways to break our RoPE or RMSNorm without touching the reference: a RoPE base off by 10%,
/// an RMSNorm epsilon large enough to matter, one norm weight scaled by 1.1.
fn perturbations(config: &Value, tensors: &HashMap<String, Tensor>) -> Vec<(&'static str, Model)> {
    let c = ModelConfig::from_json(config).unwrap();
    let mut scaled = tensors.clone();
    let w = "model.layers.0.input_layernorm.weight";
    scaled.insert(w.into(), (&tensors[w] * 1.1).unwrap());
    vec![
        ("rope_theta × 1.1", our_model(&with(config, "rope_theta", c.rope_theta * 1.1), tensors)),
        ("rms_norm_eps × 1000", our_model(&with(config, "rms_norm_eps", c.rms_norm_eps * 1000.0), tensors)),
        ("input_layernorm.0 weight × 1.1", our_model(config, &scaled)),
    ]
}

#[test]
fn a_perturbed_rope_or_rmsnorm_fails_the_cross_check_on_the_tiny_fixtures() {
    for name in FAMILIES {
        let t = tiny(name);
        let mut reference = Reference::new(&t.config, &t.tensors);
        for (what, m) in perturbations(&t.config, &t.tensors) {
            let d = cross_check(&m, &mut reference, &t.seqs);
            eprintln!("{name} with {what}: max |Δlogit| = {d:.2e}");
            assert!(d > TOL, "{name}: the cross-check misses {what} (max |Δlogit| = {d})");
        }
    }
}

fn smollm2_dir() -> PathBuf {
    let p = root().join("models/SmolLM2-135M-Instruct");
    // A missing model fails the test: the README's test command fetches it first.
    assert!(p.join("model.safetensors").exists(), "{} is absent: run scripts/fetch-test-model.sh", p.display());
    p
}

fn smollm2() -> (Value, HashMap<String, Tensor>) {
    let d = smollm2_dir();
    let config = serde_json::from_str(&std::fs::read_to_string(d.join("config.json")).unwrap()).unwrap();
    (config, read_safetensors(&d, &Device::Cpu).unwrap())
}

fn fixture(name: &str) -> Value {
    let p = root().join("tests/fixtures/smollm2").join(name);
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn u32s(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

/// The SmolLM2 tolerance of tests/it/smollm2_model.rs: 8 × the distance of transformers' own f32
/// forward from its f64 one (30 layers of f32 sums in another order land at that scale).
fn smollm2_tolerance(fx: &Value) -> f32 {
    (8.0 * fx["max_abs_diff_transformers_f32_vs_f64"].as_f64().unwrap()) as f32
}

#[test]
fn candle_transformers_agrees_with_our_inference_path_on_smollm2() {
    let (config, tensors) = smollm2();
    let fx = fixture("logits.json");
    let ids = u32s(&fx["input_ids"]);
    let m = our_model(&config, &tensors);
    let mut reference = Reference::new(&config, &tensors);
    let theirs = reference.every_position(&ids);
    let mine = ours(&m, &ids);
    let d = max_diff(&mine, &theirs).max(max_diff(&mine.i(ids.len() - 1).unwrap(), &reference.prefill_last(&ids)));
    let (dev_ours, dev_theirs) =
        (crate::smollm2_model::deviation(&mine, &fx), crate::smollm2_model::deviation(&theirs, &fx));
    let tol = smollm2_tolerance(&fx);
    eprintln!(
        "smollm2: max |ours - candle-transformers| = {d:.2e}; against transformers f64: ours {dev_ours:.2e}, candle-transformers {dev_theirs:.2e}; tolerance {tol:.2e}"
    );
    assert!(d <= tol, "ours and candle-transformers differ by {d}");
    assert!(dev_theirs <= tol as f64, "candle-transformers and transformers differ by {dev_theirs}");

    // The same comparison catches a RoPE base off by 10% or a norm weight scaled by 1.1.
    for (what, bad) in perturbations(&config, &tensors) {
        let d = max_diff(&ours(&bad, &ids), &theirs);
        eprintln!("smollm2 with {what}: max |Δlogit| = {d:.2e}");
        assert!(d > tol, "the cross-check misses {what} on SmolLM2 (max |Δlogit| = {d})");
    }
}

#[test]
fn candle_transformers_greedy_tokens_match_transformers_on_smollm2() {
    let (config, tensors) = smollm2();
    let mut reference = Reference::new(&config, &tensors);
    let fx = fixture("greedy.json");
    let n = fx["new_tokens"].as_u64().unwrap() as usize;
    for c in fx["cases"].as_array().unwrap() {
        let got = reference.greedy(&u32s(&c["prompt_ids"]), n);
        assert_eq!(got, u32s(&c["greedy_ids"]), "{}", c["prompt"]);
    }
}
