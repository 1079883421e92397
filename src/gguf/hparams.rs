//! The llama hyper-parameters stored in GGUF metadata (`llama.*` keys).

use super::error::{GgufError, Result};
use super::meta::Meta;

#[derive(Debug, Clone, PartialEq)]
pub struct Hparams {
    pub n_layers: usize,
    pub hidden: usize,
    pub intermediate: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
    pub context_length: usize,
    pub rope_theta: f64,
    pub rms_eps: f64,
    /// `llama.rope.scaling.type = linear` and its factor; other scalings are refused.
    pub rope_linear_factor: Option<f64>,
}

impl Hparams {
    pub fn read(meta: &Meta) -> Result<Self> {
        let arch = meta.string("general.architecture")?;
        if arch != "llama" {
            return Err(GgufError::UnsupportedArchitecture(arch.to_string()));
        }
        let n = |k: &str| meta.u64(&format!("llama.{k}")).map(|v| v as usize);
        let hidden = n("embedding_length")?;
        let heads = n("attention.head_count")?;
        let kv_heads = match meta.opt_u64("llama.attention.head_count_kv")? {
            Some(v) => v as usize,
            None => heads,
        };
        if heads == 0 || kv_heads == 0 || heads % kv_heads != 0 {
            return Err(GgufError::Inconsistent(format!("{heads} heads and {kv_heads} KV heads")));
        }
        let head_dim = match meta.opt_u64("llama.attention.key_length")? {
            Some(v) => v as usize,
            None => match meta.opt_u64("llama.rope.dimension_count")? {
                Some(v) => v as usize,
                None => hidden / heads,
            },
        };
        if let Some(rope_dims) = meta.opt_u64("llama.rope.dimension_count")? {
            // Partial rotary embeddings have no llama config.json field.
            if rope_dims as usize != head_dim {
                return Err(GgufError::Inconsistent(format!(
                    "rope dimension {rope_dims} differs from head dimension {head_dim}"
                )));
            }
        }
        if head_dim % 2 != 0 {
            return Err(GgufError::Inconsistent(format!("odd head dimension {head_dim}")));
        }
        let rope_linear_factor = match meta.opt_string("llama.rope.scaling.type")? {
            None | Some("none") => None,
            Some("linear") => Some(meta.f64("llama.rope.scaling.factor")?),
            Some(other) => {
                return Err(GgufError::Inconsistent(format!("rope scaling `{other}` is not supported")));
            }
        };
        Ok(Self {
            n_layers: n("block_count")?,
            hidden,
            intermediate: n("feed_forward_length")?,
            heads,
            kv_heads,
            head_dim,
            context_length: n("context_length")?,
            rope_theta: meta.opt_f64("llama.rope.freq_base")?.unwrap_or(10_000.0),
            rms_eps: meta.f64("llama.attention.layer_norm_rms_epsilon")?,
            rope_linear_factor,
        })
    }
}
