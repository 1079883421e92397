//! Random weights in a real model's shapes, for benchmarks and device checks that need the
//! architecture but not the trained values (and no download): matrices N(0, 0.02) — the
//! `initializer_range` of the Hugging Face configs — norms 1, biases 0.

use super::config::ModelConfig;
use candle_core::{DType, Device, Result, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;

/// Every tensor of `cfg` under its Hugging Face name with its shape and kind.
pub fn tensor_shapes(cfg: &ModelConfig) -> Vec<(String, Vec<usize>, Kind)> {
    let (hs, v, d, im) = (cfg.hidden_size, cfg.vocab_size, cfg.head_dim, cfg.intermediate_size);
    let (q, kv) = (cfg.num_heads * d, cfg.num_kv_heads * d);
    let mut out = vec![("model.embed_tokens.weight".to_string(), vec![v, hs], Kind::Matrix)];
    let lin = |out: &mut Vec<_>, name: String, o: usize, i: usize, bias: bool| {
        out.push((format!("{name}.weight"), vec![o, i], Kind::Matrix));
        if bias {
            out.push((format!("{name}.bias"), vec![o], Kind::Bias));
        }
    };
    for l in 0..cfg.num_layers {
        let p = format!("model.layers.{l}");
        out.push((format!("{p}.input_layernorm.weight"), vec![hs], Kind::Norm));
        out.push((format!("{p}.post_attention_layernorm.weight"), vec![hs], Kind::Norm));
        if cfg.qk_norm {
            out.push((format!("{p}.self_attn.q_norm.weight"), vec![d], Kind::Norm));
            out.push((format!("{p}.self_attn.k_norm.weight"), vec![d], Kind::Norm));
        }
        lin(&mut out, format!("{p}.self_attn.q_proj"), q, hs, cfg.qkv_bias);
        lin(&mut out, format!("{p}.self_attn.k_proj"), kv, hs, cfg.qkv_bias);
        lin(&mut out, format!("{p}.self_attn.v_proj"), kv, hs, cfg.qkv_bias);
        lin(&mut out, format!("{p}.self_attn.o_proj"), hs, q, cfg.o_bias);
        lin(&mut out, format!("{p}.mlp.gate_proj"), im, hs, cfg.mlp_bias);
        lin(&mut out, format!("{p}.mlp.up_proj"), im, hs, cfg.mlp_bias);
        lin(&mut out, format!("{p}.mlp.down_proj"), hs, im, cfg.mlp_bias);
    }
    out.push(("model.norm.weight".to_string(), vec![hs], Kind::Norm));
    if !cfg.tie_word_embeddings {
        out.push(("lm_head.weight".to_string(), vec![v, hs], Kind::Matrix));
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Matrix,
    Norm,
    Bias,
}

/// Number of parameters (tied embeddings counted once).
pub fn parameter_count(cfg: &ModelConfig) -> usize {
    tensor_shapes(cfg).iter().map(|(_, s, _)| s.iter().product::<usize>()).sum()
}

/// Random weights for `cfg` in `dtype` on `device`, all drawn from `seed`: on the host from a
/// ChaCha stream, on a GPU from the device's generator (seeded here), where a 4B model's
/// weights are made in well under a second instead of minutes.
pub fn random_tensors(cfg: &ModelConfig, dtype: DType, device: &Device, seed: u64) -> Result<HashMap<String, Tensor>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    if !device.is_cpu() {
        device.set_seed(seed)?;
    }
    let mut out = HashMap::new();
    for (name, shape, kind) in tensor_shapes(cfg) {
        let t = match kind {
            Kind::Norm => Tensor::ones(shape, dtype, device)?,
            Kind::Bias => Tensor::zeros(shape, dtype, device)?,
            Kind::Matrix if device.is_cpu() => {
                let n: usize = shape.iter().product();
                let v: Vec<f32> = (0..n).map(|_| 0.02 * standard_normal(&mut rng)).collect();
                Tensor::from_vec(v, shape, device)?.to_dtype(dtype)?
            }
            Kind::Matrix => Tensor::randn(0f32, 0.02, shape, device)?.to_dtype(dtype)?,
        };
        out.insert(name, t);
    }
    Ok(out)
}

/// Box–Muller: one N(0, 1) draw from two uniforms.
fn standard_normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}
