//! Grouped-query self-attention with optional q/k/v(/o) bias (qwen2, llama `attention_bias`)
//! and per-head q/k RMSNorm (qwen3).
//!
//! Query heads are grouped by their key/value head by a reshape, (B, H, T, D) →
//! (B, kv_heads, H/kv_heads·T, D), so keys and values are never repeated (no copy of the cache).

use super::linear::Linear;
use super::norm::RmsNorm;
use super::rope;
use super::Path;
use candle_core::{DType, Result, Tensor};

pub struct Attention {
    pub(crate) q: Linear,
    pub(crate) k: Linear,
    pub(crate) v: Linear,
    pub(crate) o: Linear,
    pub(crate) q_norm: Option<RmsNorm>,
    pub(crate) k_norm: Option<RmsNorm>,
    pub(crate) num_heads: usize,
    pub(crate) num_kv_heads: usize,
    pub(crate) head_dim: usize,
}

/// Cache slots of one layer and where this call's keys go.
pub struct LayerCache<'a> {
    pub k: &'a Tensor,
    pub v: &'a Tensor,
    pub offset: usize,
}

impl Attention {
    fn heads(&self, x: &Tensor, proj: &Linear, n: usize, norm: Option<&RmsNorm>, path: Path) -> Result<Tensor> {
        let (b, t, _) = x.dims3()?;
        let y = proj.forward(x, path)?.reshape((b, t, n, self.head_dim))?;
        let y = match norm {
            Some(nm) => nm.forward(&y, path)?,
            None => y,
        };
        y.transpose(1, 2)
    }

    /// x: (B, T, hidden); cos/sin: (B, T, head_dim/2); mask: additive (B, 1, T, L) or None.
    pub fn forward(
        &self,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: Option<&Tensor>,
        cache: Option<LayerCache<'_>>,
        path: Path,
    ) -> Result<Tensor> {
        let (b, t, _) = x.dims3()?;
        let (h, kvh, d) = (self.num_heads, self.num_kv_heads, self.head_dim);
        let q = rope::apply(&self.heads(x, &self.q, h, self.q_norm.as_ref(), path)?, cos, sin, path)?;
        let k = rope::apply(&self.heads(x, &self.k, kvh, self.k_norm.as_ref(), path)?, cos, sin, path)?;
        let v = self.heads(x, &self.v, kvh, None, path)?;
        let (k, v) = match cache {
            Some(c) => {
                c.k.slice_set(&k.contiguous()?, 2, c.offset)?;
                c.v.slice_set(&v.contiguous()?, 2, c.offset)?;
                (c.k.narrow(2, 0, c.offset + t)?, c.v.narrow(2, 0, c.offset + t)?)
            }
            None => (k.contiguous()?, v.contiguous()?),
        };
        let l = k.dim(2)?;
        let rep = h / kvh;
        let q = q.contiguous()?.reshape((b, kvh, rep * t, d))?;
        let scores = (q.matmul(&k.t()?)? * (1.0 / (d as f64).sqrt()))?.reshape((b, h, t, l))?;
        let scores = match mask {
            Some(m) => scores.broadcast_add(m)?,
            None => scores,
        };
        let probs = match path {
            Path::Infer => candle_nn::ops::softmax_last_dim(&scores)?,
            Path::Train { composed } => {
                // Softmax in f32 as the reference does, whatever the compute dtype.
                let dt = scores.dtype();
                super::fused::softmax(&scores.to_dtype(DType::F32)?, composed)?.to_dtype(dt)?
            }
        };
        let out = probs.reshape((b, kvh, rep * t, l))?.matmul(&v)?;
        let out = out.reshape((b, h, t, d))?.transpose(1, 2)?.reshape((b, t, h * d))?;
        self.o.forward(&out, path)
    }
}
