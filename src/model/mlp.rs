//! The gated MLP of all three families: down(silu(gate(x)) * up(x)).

use super::linear::Linear;
use super::Path;
use candle_core::{Result, Tensor};

pub struct Mlp {
    pub(crate) gate: Linear,
    pub(crate) up: Linear,
    pub(crate) down: Linear,
}

impl Mlp {
    /// The training path fuses silu(gate)·up into one op with a one-pass backward (`fused`).
    pub fn forward(&self, x: &Tensor, path: Path) -> Result<Tensor> {
        let (g, u) = (self.gate.forward(x, path)?, self.up.forward(x, path)?);
        let h = match path {
            Path::Train { composed } => super::fused::silu_mul(&g, &u, composed)?,
            Path::Infer => (candle_nn::ops::silu(&g)? * u)?,
        };
        self.down.forward(&h, path)
    }
}
