//! Rotary position embeddings in the rotate-half layout of Hugging Face checkpoints, with
//! per-row positions (left-padded batches start each row at position 0 after its padding).

use super::config::{ModelConfig, RopeScaling};
use super::Path;
use candle_core::{DType, Device, Result, Tensor, D};

pub struct Rope {
    /// (head_dim / 2) inverse frequencies, f32.
    inv_freq: Tensor,
    dtype: DType,
}

/// Inverse frequencies `1 / theta^(2i/d)`, adjusted by the configured scaling.
pub fn inv_freq(cfg: &ModelConfig) -> Vec<f32> {
    let d = cfg.head_dim;
    let base: Vec<f64> = (0..d / 2).map(|i| 1.0 / cfg.rope_theta.powf((2 * i) as f64 / d as f64)).collect();
    match cfg.rope_scaling {
        RopeScaling::None => base.iter().map(|&f| f as f32).collect(),
        RopeScaling::Llama3 { factor, low_freq_factor, high_freq_factor, original_max_position_embeddings: old } => {
            let low_wavelen = old / low_freq_factor;
            let high_wavelen = old / high_freq_factor;
            base.iter()
                .map(|&f| {
                    let wavelen = 2.0 * std::f64::consts::PI / f;
                    let g = if wavelen < high_wavelen {
                        f
                    } else if wavelen > low_wavelen {
                        f / factor
                    } else {
                        let smooth = (old / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
                        (1.0 - smooth) * f / factor + smooth * f
                    };
                    g as f32
                })
                .collect()
        }
    }
}

impl Rope {
    pub fn new(cfg: &ModelConfig, dtype: DType, device: &Device) -> Result<Self> {
        let f = inv_freq(cfg);
        let n = f.len();
        Ok(Rope { inv_freq: Tensor::from_vec(f, (1, 1, n), device)?, dtype })
    }

    /// cos and sin, each (B, T, head_dim / 2) in the model dtype, for positions (B, T) given as f32.
    pub fn cos_sin(&self, positions: &Tensor) -> Result<(Tensor, Tensor)> {
        let freqs = positions.unsqueeze(D::Minus1)?.broadcast_mul(&self.inv_freq)?;
        Ok((freqs.cos()?.to_dtype(self.dtype)?, freqs.sin()?.to_dtype(self.dtype)?))
    }
}

/// Rotate x (B, H, T, head_dim) with the fused kernel; the training path attaches its backward
/// (candle's `rotary_emb::rope` alone has none and would cut the graph silently).
pub fn apply(x: &Tensor, cos: &Tensor, sin: &Tensor, path: Path) -> Result<Tensor> {
    match path {
        Path::Infer => candle_nn::rotary_emb::rope(&x.contiguous()?, cos, sin),
        Path::Train { composed } => super::fused::rope(x, cos, sin, composed),
    }
}
