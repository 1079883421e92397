//! GGUF tensors to Hugging Face llama tensors: dequantise to f32, rename, undo the q/k row
//! permutation.
//!
//! llama.cpp's converter permutes the rows of `attn_q` / `attn_k` so that its RoPE can rotate
//! adjacent pairs (interleaved); Hugging Face rotates the two halves of each head. Per head, the
//! GGUF row order is (head_dim/2, 2) where Hugging Face's is (2, head_dim/2): swapping those axes
//! restores it.

use super::error::{GgufError, Result};
use super::hparams::Hparams;
use candle_core::quantized::gguf_file::Content;
use candle_core::{DType, Device, Tensor};
use std::collections::HashMap;
use std::io::{Read, Seek};

/// The Hugging Face name of a GGUF tensor in the llama layout.
pub fn hf_name(gguf: &str) -> Result<String> {
    let unknown = || GgufError::UnknownTensor(gguf.to_string());
    let (stem, kind) = gguf.rsplit_once('.').ok_or_else(unknown)?;
    if kind != "weight" && kind != "bias" {
        return Err(unknown());
    }
    let top = match stem {
        "token_embd" => Some("model.embed_tokens"),
        "output_norm" => Some("model.norm"),
        "output" => Some("lm_head"),
        _ => None,
    };
    if let Some(top) = top {
        return Ok(format!("{top}.{kind}"));
    }
    let rest = stem.strip_prefix("blk.").ok_or_else(unknown)?;
    let (layer, part) = rest.split_once('.').ok_or_else(unknown)?;
    let layer: usize = layer.parse().map_err(|_| unknown())?;
    let hf = match part {
        "attn_q" => "self_attn.q_proj",
        "attn_k" => "self_attn.k_proj",
        "attn_v" => "self_attn.v_proj",
        "attn_output" => "self_attn.o_proj",
        "attn_norm" => "input_layernorm",
        "ffn_norm" => "post_attention_layernorm",
        "ffn_gate" => "mlp.gate_proj",
        "ffn_up" => "mlp.up_proj",
        "ffn_down" => "mlp.down_proj",
        _ => return Err(unknown()),
    };
    Ok(format!("model.layers.{layer}.{hf}.{kind}"))
}

/// Undo llama.cpp's q/k permutation. `w` has `heads * head_dim` rows (a weight matrix, or a
/// bias vector).
pub fn unpermute(w: &Tensor, heads: usize) -> candle_core::Result<Tensor> {
    let dims = w.dims().to_vec();
    let rows = dims[0];
    let rest: Vec<usize> = dims[1..].to_vec();
    let head_dim = rows / heads;
    let mut split = vec![heads, head_dim / 2, 2];
    split.extend_from_slice(&rest);
    w.reshape(split)?.transpose(1, 2)?.contiguous()?.reshape(dims)
}

/// The inverse of [`unpermute`]: what llama.cpp's converter does (used by tests).
pub fn permute(w: &Tensor, heads: usize) -> candle_core::Result<Tensor> {
    let dims = w.dims().to_vec();
    let head_dim = dims[0] / heads;
    let mut split = vec![heads, 2, head_dim / 2];
    split.extend_from_slice(&dims[1..]);
    w.reshape(split)?.transpose(1, 2)?.contiguous()?.reshape(dims)
}

/// Every tensor of the file, dequantised to f32 on the CPU, in Hugging Face names and layout.
pub fn read_all<R: Read + Seek>(content: &Content, reader: &mut R, hp: &Hparams) -> Result<HashMap<String, Tensor>> {
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort();
    let mut out = HashMap::with_capacity(names.len());
    for name in names {
        if name == "rope_freqs.weight" {
            return Err(GgufError::RopeFreqs(name.clone()));
        }
        let hf = hf_name(name)?;
        let tensor_err = |source| GgufError::Tensor { name: name.clone(), source };
        let q = content.tensor(reader, name, &Device::Cpu).map_err(tensor_err)?;
        let mut t = q.dequantize(&Device::Cpu).and_then(|t| t.to_dtype(DType::F32)).map_err(tensor_err)?;
        let heads = if name.contains(".attn_q.") {
            Some(hp.heads)
        } else if name.contains(".attn_k.") {
            Some(hp.kv_heads)
        } else {
            None
        };
        if let Some(heads) = heads {
            let rows = t.dims().first().copied().unwrap_or(0);
            if rows != heads * hp.head_dim {
                return Err(GgufError::BadShape {
                    name: name.clone(),
                    shape: t.dims().to_vec(),
                    expected: format!("{} rows ({heads} heads x {})", heads * hp.head_dim, hp.head_dim),
                });
            }
            t = unpermute(&t, heads).map_err(tensor_err)?;
        }
        out.insert(hf, t);
    }
    check_complete(&out, hp)?;
    Ok(out)
}

/// Every weight the llama decoder needs is present, with the shape the config implies.
fn check_complete(t: &HashMap<String, Tensor>, hp: &Hparams) -> Result<()> {
    let (h, q, kv, f) = (hp.hidden, hp.heads * hp.head_dim, hp.kv_heads * hp.head_dim, hp.intermediate);
    let vocab = match t.get("model.embed_tokens.weight") {
        Some(e) => e.dims().first().copied().unwrap_or(0),
        None => return Err(GgufError::MissingTensor("token_embd.weight".into())),
    };
    let mut want: Vec<(String, Vec<usize>)> =
        vec![("model.embed_tokens.weight".into(), vec![vocab, h]), ("model.norm.weight".into(), vec![h])];
    if t.contains_key("lm_head.weight") {
        want.push(("lm_head.weight".into(), vec![vocab, h]));
    }
    for l in 0..hp.n_layers {
        let p = |s: &str| format!("model.layers.{l}.{s}.weight");
        want.extend([
            (p("self_attn.q_proj"), vec![q, h]),
            (p("self_attn.k_proj"), vec![kv, h]),
            (p("self_attn.v_proj"), vec![kv, h]),
            (p("self_attn.o_proj"), vec![h, q]),
            (p("input_layernorm"), vec![h]),
            (p("post_attention_layernorm"), vec![h]),
            (p("mlp.gate_proj"), vec![f, h]),
            (p("mlp.up_proj"), vec![f, h]),
            (p("mlp.down_proj"), vec![h, f]),
        ]);
    }
    for (name, shape) in want {
        match t.get(&name) {
            None => return Err(GgufError::MissingTensor(name)),
            Some(x) if x.dims() != shape.as_slice() => {
                return Err(GgufError::BadShape { name, shape: x.dims().to_vec(), expected: format!("{shape:?}") })
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = t.keys().find(|k| k.starts_with("model.layers.") && layer_of(k) >= hp.n_layers) {
        return Err(GgufError::Inconsistent(format!("tensor {extra} beyond {} layers", hp.n_layers)));
    }
    Ok(())
}

fn layer_of(name: &str) -> usize {
    name.split('.').nth(2).and_then(|s| s.parse().ok()).unwrap_or(0)
}
