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

    pub fn forward(&self, x: &Tensor, path: Path) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let inner = x.dim(D::Minus1)?;
        let rows = x.elem_count() / inner.max(1);
        let y = matmul_wt(&x.reshape((rows, inner))?, &self.weight, path)?;
        let y = match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        let mut out = dims;
        *out.last_mut().expect("rank >= 1") = self.weight.dim(0)?;
        y.reshape(out)
    }
}

/// x (rows, in) · wᵀ: a decoding step's few rows by dot products (`gemv`), the rest by candle's
/// matmul (differentiable on the training path).
pub(crate) fn matmul_wt(x: &Tensor, w: &Tensor, path: Path) -> Result<Tensor> {
    let rows = x.dim(0)?;
    if path == Path::Infer && super::gemv::applies(x, w, rows) {
        return super::gemv::matmul_wt(&x.contiguous()?, w);
    }
    x.matmul(&w.t()?)
}
