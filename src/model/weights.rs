//! Named tensors in Hugging Face names, checked for presence and shape as the decoder takes them.

use super::error::{ModelError, Result};
use candle_core::{DType, Device, Tensor, Var};
use std::collections::HashMap;

pub(crate) struct Weights {
    tensors: HashMap<String, Tensor>,
    dtype: DType,
    device: Device,
    trainable: bool,
    /// Every tensor taken, in order, as a variable when trainable.
    pub(crate) taken: Vec<(String, Var)>,
    pub(crate) frozen: Vec<(String, Tensor)>,
}

impl Weights {
    pub fn new(tensors: HashMap<String, Tensor>, dtype: DType, device: &Device, trainable: bool) -> Self {
        Weights { tensors, dtype, device: device.clone(), trainable, taken: vec![], frozen: vec![] }
    }

    /// Take `name`, check its shape, cast it to the model dtype and device; as a `Var` when trainable.
    pub fn take(&mut self, name: &str, shape: &[usize]) -> Result<Tensor> {
        let t = self.tensors.remove(name).ok_or_else(|| ModelError::MissingTensor(name.to_string()))?;
        if t.dims() != shape {
            return Err(ModelError::TensorShape {
                name: name.into(),
                expected: shape.to_vec(),
                found: t.dims().to_vec(),
            });
        }
        let t = t.to_dtype(self.dtype)?.to_device(&self.device)?;
        if self.trainable {
            let v = Var::from_tensor(&t)?;
            let out = v.as_tensor().clone();
            self.taken.push((name.to_string(), v));
            Ok(out)
        } else {
            self.frozen.push((name.to_string(), t.clone()));
            Ok(t)
        }
    }

    pub fn take_opt(&mut self, name: &str, shape: &[usize], present: bool) -> Result<Option<Tensor>> {
        if present {
            self.take(name, shape).map(Some)
        } else {
            Ok(None)
        }
    }
}
