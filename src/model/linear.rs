//! y = x Wᵀ + b over the last axis, as one 2-D matmul (W stays in the checkpoint's (out, in) layout).

use super::Path;
use candle_core::{Result, Tensor, D};

pub struct Linear {
    pub(crate) weight: Tensor,
    pub(crate) bias: Option<Tensor>,
}

impl Linear {
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> Self {
        Linear { weight, bias }
    }

    /// The training path's product is `fused::linear` (gradients in contiguous layouts).
    pub fn forward(&self, x: &Tensor, path: Path) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let inner = x.dim(D::Minus1)?;
        let rows = x.elem_count() / inner.max(1);
        let x = x.reshape((rows, inner))?;
        let y = match path {
            Path::Train { composed } => super::fused::linear(&x, &self.weight, composed)?,
            Path::Infer => x.matmul(&self.weight.t()?)?,
        };
        let y = match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        let mut out = dims;
        *out.last_mut().expect("rank >= 1") = self.weight.dim(0)?;
        y.reshape(out)
    }
}
