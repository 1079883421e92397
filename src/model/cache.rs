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

/// One row of [`KvCache::gather`]: keep the first `keep` non-padding slots of row `row` of
/// source cache `source`.
#[derive(Debug, Clone, Copy)]
pub struct GatherRow {
    pub source: usize,
    pub row: usize,
    pub keep: usize,
}

impl KvCache {
    /// A new cache whose row i holds the first `keep` non-padding slots of its source row,
    /// right-aligned at slot L = max keep (left padding L − keep), with `len` L and room for
    /// `room` more slots. A slot's key and value depend only on its position within the row
    /// (rotary positions count from the row's padding) and the tokens before it, so a prefix cut
    /// from one cache and realigned is exactly the cache a fresh prefill of that prefix would
    /// give: this is how several sequences drop different suffixes (per-row truncation) and how
    /// one prompt's cache is shared by several rows, without recomputing anything.
    pub fn gather(sources: &[&KvCache], rows: &[GatherRow], room: usize) -> Result<KvCache> {
        let first = sources.first().ok_or_else(|| candle_core::Error::Msg("gather needs a source cache".into()))?;
        let l = rows.iter().map(|r| r.keep).max().unwrap_or(0);
        let capacity = l + room;
        // Only the rows asked for are copied out of each source (a source may be much larger):
        // `picked[s]` lists them, and a requested row's slots start at `base[s] + k·cap_s`.
        let mut picked: Vec<Vec<u32>> = vec![Vec::new(); sources.len()];
        let mut local = Vec::with_capacity(rows.len());
        let mut seen = std::collections::HashMap::new();
        for r in rows {
            let s = sources.get(r.source).ok_or_else(|| candle_core::Error::Msg("gather: no such source".into()))?;
            if r.row >= s.batch_size() || r.keep > s.len - s.left_pad[r.row] {
                candle_core::bail!("gather: row {} keeps {} slots of a source with fewer", r.row, r.keep);
            }
            let k = *seen.entry((r.source, r.row)).or_insert_with(|| {
                picked[r.source].push(r.row as u32);
                picked[r.source].len() - 1
            });
            local.push(k);
        }
        let mut base = Vec::with_capacity(sources.len());
        let mut total = 0usize;
        for (s, p) in sources.iter().zip(&picked) {
            base.push(total);
            total += p.len() * s.capacity;
        }
        let mut index: Vec<u32> = Vec::with_capacity(rows.len() * capacity);
        for (r, &k) in rows.iter().zip(&local) {
            let s = sources[r.source];
            let start = base[r.source] + k * s.capacity + s.left_pad[r.row];
            // Padding slots point at any real slot (index 0): they are masked, and the slots from
            // L on are overwritten before they are read.
            index.extend(std::iter::repeat_n(0u32, l - r.keep));
            index.extend((start..start + r.keep).map(|i| i as u32));
            index.extend(std::iter::repeat_n(0u32, room));
        }
        let (b, kvh, d) = (rows.len(), first.layers[0].0.dim(1)?, first.layers[0].0.dim(3)?);
        let device = first.layers[0].0.device().clone();
        let index = Tensor::from_vec(index, rows.len() * capacity, &device)?;
        let picked: Vec<Option<Tensor>> = picked
            .iter()
            .map(|p| if p.is_empty() { Ok(None) } else { Tensor::new(p.as_slice(), &device).map(Some) })
            .collect::<Result<_>>()?;
        // (n, kvh, cap, d) → (n·cap, kvh·d): one row per slot, so one index_select gathers them.
        let flat = |t: &Tensor, rows: &Tensor| -> Result<Tensor> {
            let t = t.index_select(rows, 0)?;
            let (n, h, c, dd) = t.dims4()?;
            t.transpose(1, 2)?.contiguous()?.reshape((n * c, h * dd))
        };
        let layers = (0..first.layers.len())
            .map(|i| {
                let pick = |kv: usize| -> Result<Tensor> {
                    let parts = sources
                        .iter()
                        .zip(&picked)
                        .filter_map(|(s, p)| p.as_ref().map(|p| (s, p)))
                        .map(|(s, p)| flat(if kv == 0 { &s.layers[i].0 } else { &s.layers[i].1 }, p))
                        .collect::<Result<Vec<_>>>()?;
                    let all = if parts.len() == 1 { parts[0].clone() } else { Tensor::cat(&parts, 0)? };
                    all.index_select(&index, 0)?.reshape((b, capacity, kvh, d))?.transpose(1, 2)?.contiguous()
                };
                Ok((pick(0)?, pick(1)?))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(KvCache { layers, len: l, capacity, left_pad: rows.iter().map(|r| l - r.keep).collect() })
    }
}
