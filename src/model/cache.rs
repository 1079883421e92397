//! A key/value cache allocated once at its full length and written in place with `slice_set`
//! (growing it by concatenation would copy the whole cache at every decoded token).

use super::config::ModelConfig;
use candle_core::{DType, Device, Result, Tensor};

pub struct KvCache {
    /// Per layer: keys and values, each (B, kv_heads, capacity, head_dim).
    pub(crate) layers: Vec<(Tensor, Tensor)>,
    /// Slots filled so far (the same for every row: rows are aligned by left padding).
    pub(crate) len: usize,
    capacity: usize,
    /// Padding slots at the start of each row; they are never attended to.
    pub(crate) left_pad: Vec<usize>,
}

impl KvCache {
    pub fn new(
        cfg: &ModelConfig,
        left_pad: Vec<usize>,
        capacity: usize,
        dtype: DType,
        device: &Device,
    ) -> Result<Self> {
        let b = left_pad.len();
        let shape = (b, cfg.num_kv_heads, capacity, cfg.head_dim);
        let layers = (0..cfg.num_layers)
            .map(|_| Ok((Tensor::zeros(shape, dtype, device)?, Tensor::zeros(shape, dtype, device)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(KvCache { layers, len: 0, capacity, left_pad })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn batch_size(&self) -> usize {
        self.left_pad.len()
    }

    pub fn left_pad(&self) -> &[usize] {
        &self.left_pad
    }
}
