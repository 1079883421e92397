//! The model shapes of configs/shapes/ (config.json of the paper's models, used with random
//! weights by `sharpen bench rl` and scripts/bench/bench_gpu_baseline.py) parse with our loader and
//! describe models of the published sizes.

use sharpen::model::{Arch, ModelConfig, RopeScaling};
use std::path::Path;

fn load(name: &str) -> ModelConfig {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/shapes").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    ModelConfig::from_json(&value).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Trainable parameters of the decoder, from the config alone: embeddings (counted once when
/// tied), per layer q/k/v/o (+ biases), gated MLP, two RMSNorms (+ per-head q/k norms), final norm.
fn param_count(c: &ModelConfig) -> u64 {
    let (h, i, v) = (c.hidden_size as u64, c.intermediate_size as u64, c.vocab_size as u64);
    let (q, kv) = ((c.num_heads * c.head_dim) as u64, (c.num_kv_heads * c.head_dim) as u64);
    let mut attn = h * q + 2 * h * kv + q * h;
    if c.qkv_bias {
        attn += q + 2 * kv;
    }
    if c.o_bias {
        attn += h;
    }
    let mut mlp = 3 * h * i;
    if c.mlp_bias {
        mlp += 2 * i + h;
    }
    let mut norms = 2 * h;
    if c.qk_norm {
        norms += 2 * c.head_dim as u64;
    }
    let layers = c.num_layers as u64 * (attn + mlp + norms);
    let lm_head = if c.tie_word_embeddings { 0 } else { v * h };
    v * h + layers + h + lm_head
}

/// `exact` is what transformers counts for the same config.json (`from_config` on the meta
/// device, `sum(p.numel() for p in model.parameters())`); `lo..hi` brackets the published size.
fn assert_params(c: &ModelConfig, exact: u64, lo: f64, hi: f64) {
    let n = param_count(c);
    assert_eq!(n, exact, "parameter count differs from transformers'");
    assert!((lo..=hi).contains(&(n as f64)), "{n} parameters, expected within [{lo:e}, {hi:e}]");
}

#[test]
fn qwen2_5_3b() {
    let c = load("qwen2.5-3b.json");
    assert_eq!(c.arch, Arch::Qwen2);
    assert_eq!((c.hidden_size, c.intermediate_size, c.num_layers), (2048, 11008, 36));
    assert_eq!((c.num_heads, c.num_kv_heads, c.head_dim, c.vocab_size), (16, 2, 128, 151936));
    assert!(c.qkv_bias && !c.o_bias && !c.qk_norm && c.tie_word_embeddings);
    assert_eq!((c.rope_theta, c.rms_norm_eps), (1e6, 1e-6));
    assert_eq!(c.rope_scaling, RopeScaling::None);
    assert_eq!(c.eos_token_ids, vec![151645]);
    // Published: 3.09B.
    assert_params(&c, 3_085_938_688, 3.08e9, 3.10e9);
}

#[test]
fn llama_3_2_3b() {
    let c = load("llama-3.2-3b.json");
    assert_eq!(c.arch, Arch::Llama);
    assert_eq!((c.hidden_size, c.intermediate_size, c.num_layers), (3072, 8192, 28));
    assert_eq!((c.num_heads, c.num_kv_heads, c.head_dim, c.vocab_size), (24, 8, 128, 128256));
    assert!(!c.qkv_bias && !c.o_bias && !c.qk_norm && c.tie_word_embeddings);
    assert_eq!((c.rope_theta, c.rms_norm_eps), (5e5, 1e-5));
    assert_eq!(
        c.rope_scaling,
        RopeScaling::Llama3 {
            factor: 32.0,
            low_freq_factor: 1.0,
            high_freq_factor: 4.0,
            original_max_position_embeddings: 8192.0
        }
    );
    assert_eq!(c.eos_token_ids, vec![128001, 128008, 128009]);
    // Published: 3.21B.
    assert_params(&c, 3_212_749_824, 3.20e9, 3.22e9);
}

#[test]
fn qwen3_4b() {
    let c = load("qwen3-4b.json");
    assert_eq!(c.arch, Arch::Qwen3);
    assert_eq!((c.hidden_size, c.intermediate_size, c.num_layers), (2560, 9728, 36));
    assert_eq!((c.num_heads, c.num_kv_heads, c.head_dim, c.vocab_size), (32, 8, 128, 151936));
    assert!(!c.qkv_bias && c.qk_norm && c.tie_word_embeddings);
    assert_eq!((c.rope_theta, c.rms_norm_eps), (5e6, 1e-6));
    assert_eq!(c.rope_scaling, RopeScaling::None);
    // Published: 4.0B (3.6B without embeddings).
    assert_params(&c, 4_022_468_096, 4.01e9, 4.03e9);
    let embed = (c.vocab_size * c.hidden_size) as f64;
    assert!((3.6e9..3.7e9).contains(&(param_count(&c) as f64 - embed)));
}

#[test]
fn tiny_is_a_small_llama() {
    let c = load("tiny.json");
    assert_eq!(c.arch, Arch::Llama);
    assert_eq!((c.num_heads, c.num_kv_heads, c.head_dim), (4, 2, 16));
    assert!(param_count(&c) < 200_000, "{}", param_count(&c));
}
