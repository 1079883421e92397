//! RMSNorm: the fused kernel on both paths; the training path attaches its backward (`fused`).

use super::Path;
use candle_core::{Result, Tensor};

pub struct RmsNorm {
    pub(crate) weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    pub fn new(weight: Tensor, eps: f64) -> Self {
        RmsNorm { weight, eps }
    }

    pub fn forward(&self, x: &Tensor, path: Path) -> Result<Tensor> {
        match path {
            Path::Train { composed } => super::fused::rms_norm(x, &self.weight, self.eps, composed),
            Path::Infer => candle_nn::ops::rms_norm(&x.contiguous()?, &self.weight, self.eps as f32),
        }
    }
}
