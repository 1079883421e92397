//! Gradients summed in f32 over several backward passes (micro-batches, checkpointed segments,
//! head chunks), keyed by the weight they belong to.
//!
//! candle's `GradStore` holds one backward's gradients in the weights' dtype; summing bf16
//! gradients in bf16 would lose the small contributions of later micro-batches, so every
//! pass's gradients are added into one f32 tensor per weight.

use candle_core::backprop::GradStore;
use candle_core::{DType, Result, Tensor, TensorId, Var};
use std::collections::HashMap;

#[derive(Default)]
pub struct Grads {
    sums: HashMap<TensorId, Tensor>,
    /// Seconds of each backward phase (`profile::PHASES`), when the backward was asked to profile.
    pub phase_seconds: [f64; 4],
}

impl Grads {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add the gradients that `store` holds for any of `vars`.
    pub fn add_store(&mut self, store: &GradStore, vars: &[(String, Var)]) -> Result<()> {
        for (_, v) in vars {
            if let Some(g) = store.get(v.as_tensor()) {
                self.add(v.as_tensor(), g)?;
            }
        }
        Ok(())
    }

    /// Add `g` to the sum for weight `w`.
    pub fn add(&mut self, w: &Tensor, g: &Tensor) -> Result<()> {
        let g = g.to_dtype(DType::F32)?;
        let sum = match self.sums.remove(&w.id()) {
            Some(s) => (s + g)?,
            None => g,
        };
        self.sums.insert(w.id(), sum);
        Ok(())
    }

    /// The summed gradient of `w` (f32), if any pass reached it.
    pub fn get(&self, w: &Tensor) -> Option<&Tensor> {
        self.sums.get(&w.id())
    }

    /// Gather one backward's gradients for `vars` (a test or a single pass).
    pub fn from_store(store: &GradStore, vars: &[(String, Var)]) -> Result<Self> {
        let mut g = Self::new();
        g.add_store(store, vars)?;
        Ok(g)
    }
}
