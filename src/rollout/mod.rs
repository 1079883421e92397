//! Batched sampling from a [`Model`]: temperature, top-p, greedy; stop at any EOS id or a token
//! cap, or ignore EOS (fixed-length runs). Prompts of different lengths share one left-padded
//! batch and one preallocated KV cache.
//!
//! Two samplers pick the tokens (see [`Sampler`]): the host sampler reads each row's logits on
//! the CPU (an inverse CDF, one exp per logit); the device sampler (Gumbel-max, `device.rs`)
//! stays on the logits' device and copies back only B tokens and B log-probabilities per step —
//! what keeps a GPU busy instead of waiting on 256 × 152k logits crossing the bus every token.
//!
//! Randomness: with the host sampler, row r (prompt i, sample j, r = i·n + j) draws from its own
//! ChaCha8 stream r of `seed`, one uniform per generated token, so a row's tokens depend only on
//! (seed, r) and the model, never on the batch around it. The device sampler on the CPU draws
//! its (B, V) uniforms from the same per-row streams; on a GPU they come from the device's
//! generator seeded with `seed`, so a run repeats for the same seed and batch.

mod device;
mod power;

pub use device::{nucleus_mask, pick as pick_on_device};
pub use power::{power_sample, power_sample_with, LogAcceptance, PowerOutput, PowerRollout};

use crate::model::{GatherRow, KvCache, Model, ModelError};
use candle_core::{DType, Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

#[derive(Debug, Clone)]
pub struct SamplingParams {
    /// Cap on generated tokens per row.
    pub max_new_tokens: usize,
    /// Cap on prompt + generated tokens per row (0 = none): a row stops after
    /// `max_total_tokens − its prompt` tokens, so short prompts get longer responses (the
    /// authors' per-row budget under max_total_sequence_length).
    pub max_total_tokens: usize,
    /// Softmax temperature (> 0); ignored when `greedy`.
    pub temperature: f64,
    /// Nucleus mass in (0, 1]; 1 samples from the whole vocabulary.
    pub top_p: f64,
    /// Always take the most likely token (the first one on ties).
    pub greedy: bool,
    /// Keep generating after an EOS token (the paper's fixed-length runs).
    pub ignore_eos: bool,
    pub seed: u64,
    /// Row r of this call draws from stream `stream_offset + r` of `seed` (for callers that split
    /// one logical batch into several calls).
    pub stream_offset: u64,
    pub sampler: Sampler,
}

/// Where the next tokens are picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sampler {
    /// Host on the CPU, device elsewhere.
    #[default]
    Auto,
    Host,
    Device,
}

impl Default for SamplingParams {
    fn default() -> Self {
        SamplingParams {
            max_new_tokens: 256,
            max_total_tokens: 0,
            temperature: 1.0,
            top_p: 1.0,
            greedy: false,
            ignore_eos: false,
            seed: 0,
            stream_offset: 0,
            sampler: Sampler::Auto,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Generated one of the EOS ids (it is the last token of `tokens`).
    Eos,
    /// Reached its token budget (`max_new_tokens`, or `max_total_tokens` minus its prompt).
    Length,
}

/// One sampled continuation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rollout {
    pub prompt_index: usize,
    pub sample_index: usize,
    /// Generated tokens (not the prompt), the EOS token included when it stopped there.
    pub tokens: Vec<u32>,
    /// log π(token | prefix) under the model itself (temperature 1, no top-p), one per token:
    /// the policy's and the reference's likelihood, whatever the sampling settings.
    pub logprobs: Vec<f32>,
    pub stop: StopReason,
}

#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    #[error("invalid sampling parameters: {0}")]
    Params(String),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

impl SamplingParams {
    /// How many tokens a row whose prompt has `prompt_len` tokens may generate.
    pub fn row_budget(&self, prompt_len: usize) -> usize {
        if self.max_total_tokens > 0 {
            self.max_new_tokens.min(self.max_total_tokens.saturating_sub(prompt_len))
        } else {
            self.max_new_tokens
        }
    }

    fn check(&self) -> Result<(), RolloutError> {
        if !self.greedy && !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return Err(RolloutError::Params(format!("temperature must be > 0, got {}", self.temperature)));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(RolloutError::Params(format!("top_p must be in (0, 1], got {}", self.top_p)));
        }
        Ok(())
    }
}

/// Buffers reused between calls of [`pick`].
#[derive(Default)]
pub struct PickScratch {
    weights: Vec<f32>,
    order: Vec<(f32, u32)>,
}

/// Index of the first entry whose running sum of `weights` exceeds `target` (the last if none).
fn inverse_cdf(weights: impl Iterator<Item = (f32, u32)>, target: f64, last: u32) -> u32 {
    let mut acc = 0.0f64;
    for (w, i) in weights {
        acc += w as f64;
        if acc > target {
            return i;
        }
    }
    last
}

/// Pick a token from one row of logits; returns (token, its log-probability at temperature 1).
/// `u` is a uniform draw in [0, 1). One exp per logit at temperature 1 (two otherwise).
pub fn pick(logits: &[f32], params: &SamplingParams, u: f64, scratch: &mut PickScratch) -> (u32, f32) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let w = &mut scratch.weights;
    w.clear();
    w.extend(logits.iter().map(|&x| (x - max).exp()));
    let z1: f64 = w.iter().map(|&x| x as f64).sum();
    let log_z = max + z1.ln() as f32;
    let last = logits.len() as u32 - 1;
    let token = if params.greedy {
        logits.iter().position(|&x| x == max).unwrap_or(0) as u32
    } else {
        let total = if params.temperature == 1.0 {
            z1
        } else {
            let inv_t = (1.0 / params.temperature) as f32;
            for (wi, &x) in w.iter_mut().zip(logits) {
                *wi = ((x - max) * inv_t).exp();
            }
            w.iter().map(|&x| x as f64).sum()
        };
        if params.top_p >= 1.0 {
            inverse_cdf(w.iter().enumerate().map(|(i, &x)| (x, i as u32)), u * total, last)
        } else {
            // Nucleus as in transformers' TopPLogitsWarper: keep the most likely tokens while the
            // mass before each is below top_p (at least one), then renormalise.
            let order = &mut scratch.order;
            order.clear();
            order.extend(w.iter().enumerate().map(|(i, &x)| (x, i as u32)));
            order.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut kept = 0.0f64;
            let mut n = 0;
            for &(x, _) in order.iter() {
                if n > 0 && kept / total >= params.top_p {
                    break;
                }
                kept += x as f64;
                n += 1;
            }
            inverse_cdf(order[..n].iter().copied(), u * kept, order[n - 1].1)
        }
    };
    (token, logits[token as usize] - log_z)
}

/// Run `f` on the (B, V) f32 logits as one host slice: no copy on the CPU device.
fn with_host_logits<R>(logits: &Tensor, f: impl FnOnce(&[f32]) -> R) -> candle_core::Result<R> {
    let t = logits.to_dtype(DType::F32)?.to_device(&Device::Cpu)?.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    let candle_core::Storage::Cpu(cpu) = &*storage else { candle_core::bail!("expected host storage") };
    let (start, end) = layout.contiguous_offsets().expect("contiguous");
    Ok(f(&cpu.as_slice::<f32>()?[start..end]))
}

/// What the sampling loop needs of a model: a KV-cached forward that returns the last position's
/// logits. Our [`Model`] takes left-padded rows of any lengths in one batch; a model that keeps
/// one cache offset for the whole batch (candle-transformers' quantized GGUF models, see
/// `crate::quantized`) answers false to [`Decoder::mixes_lengths`], and [`sample`] then runs each
/// run of equal-length prompts as its own batch.
pub trait Decoder {
    type Cache;
    fn vocab_size(&self) -> usize;
    /// Positions the model can attend over (prompt + new tokens).
    fn context_len(&self) -> usize;
    fn device(&self) -> &Device;
    /// KV-cache bytes per row and token, for the memory check before a batch is allocated.
    fn kv_bytes_per_token(&self) -> usize;
    /// Whether rows of different prompt lengths may share a batch (left padding).
    fn mixes_lengths(&self) -> bool {
        true
    }
    /// An empty cache for `left_pad.len()` rows and up to `capacity` slots.
    fn new_cache(&self, left_pad: Vec<usize>, capacity: usize) -> Result<Self::Cache, RolloutError>;
    /// Feed `ids` (B, T) at the next T slots of every row: logits (B, 1, vocab) of the last one.
    fn next_logits(&self, ids: &Tensor, cache: &mut Self::Cache) -> Result<Tensor, RolloutError>;
    /// Our own decoder, for what only it can do: power sampling realigns KV-cache rows
    /// (`KvCache::gather`), which a model with one cache offset per batch cannot.
    fn as_model(&self) -> Option<&Model> {
        None
    }
    /// The cache of batch rows `keep` only (in that order), with room for `room` more slots, so
    /// that finished rows leave the batch; None where the decoder cannot (its rows then stay).
    fn compact(
        &self,
        _cache: &Self::Cache,
        _keep: &[usize],
        _room: usize,
    ) -> Result<Option<Self::Cache>, RolloutError> {
        Ok(None)
    }
}

impl Decoder for Model {
    type Cache = KvCache;
    fn as_model(&self) -> Option<&Model> {
        Some(self)
    }
    fn vocab_size(&self) -> usize {
        self.config().vocab_size
    }
    fn context_len(&self) -> usize {
        self.config().max_position_embeddings
    }
    fn device(&self) -> &Device {
        Model::device(self)
    }
    fn kv_bytes_per_token(&self) -> usize {
        let c = self.config();
        2 * c.num_layers * c.num_kv_heads * c.head_dim * self.dtype().size_in_bytes()
    }
    fn new_cache(&self, left_pad: Vec<usize>, capacity: usize) -> Result<KvCache, RolloutError> {
        Ok(Model::new_cache(self, left_pad, capacity)?)
    }
    fn next_logits(&self, ids: &Tensor, cache: &mut KvCache) -> Result<Tensor, RolloutError> {
        Ok(self.forward_cached(ids, cache, true)?)
    }
    fn compact(&self, cache: &KvCache, keep: &[usize], room: usize) -> Result<Option<KvCache>, RolloutError> {
        let rows: Vec<GatherRow> =
            keep.iter().map(|&row| GatherRow { source: 0, row, keep: cache.len() - cache.left_pad()[row] }).collect();
        Ok(Some(KvCache::gather(&[cache], &rows, room)?))
    }
}

/// Sample `n` continuations of every prompt (token ids, each non-empty) in one batch (for a
/// decoder that cannot mix prompt lengths, one batch per run of equal-length prompts; row r
/// still draws from stream r, so the samples are the same either way).
/// Rollouts come back in order: prompt 0 samples 0..n, prompt 1, ...
pub fn sample<D: Decoder + ?Sized>(
    model: &D,
    prompts: &[Vec<u32>],
    n: usize,
    eos_ids: &[u32],
    params: &SamplingParams,
) -> Result<Vec<Rollout>, RolloutError> {
    params.check()?;
    if prompts.iter().any(Vec::is_empty) {
        return Err(RolloutError::Params("empty prompt".into()));
    }
    if !model.mixes_lengths() && prompts.windows(2).any(|w| w[0].len() != w[1].len()) {
        let mut out = Vec::with_capacity(prompts.len() * n);
        let mut start = 0;
        while start < prompts.len() {
            let end =
                (start..prompts.len()).find(|&i| prompts[i].len() != prompts[start].len()).unwrap_or(prompts.len());
            let p = SamplingParams { stream_offset: params.stream_offset + (start * n) as u64, ..params.clone() };
            for mut r in sample(model, &prompts[start..end], n, eos_ids, &p)? {
                r.prompt_index += start;
                out.push(r);
            }
            start = end;
        }
        return Ok(out);
    }
    // Sizes first, from the prompts alone: positions past the model's context are garbage, and a
    // batch too large for memory must be refused before anything is allocated.
    let prompt_budget: Vec<usize> = prompts.iter().map(|p| params.row_budget(p.len())).collect();
    let context = model.context_len();
    if let Some((p, n)) = prompts.iter().zip(&prompt_budget).map(|(p, &n)| (p.len(), n)).find(|&(p, n)| p + n > context)
    {
        return Err(RolloutError::Params(format!(
            "a prompt of {p} tokens plus {n} new tokens exceeds the model's context of {context} (max_position_embeddings)"
        )));
    }
    let steps = prompt_budget.iter().copied().max().unwrap_or(0);
    let longest = prompts.iter().map(Vec::len).max().unwrap_or(0);
    let b = prompts
        .len()
        .checked_mul(n)
        .ok_or_else(|| RolloutError::Params(format!("{n} samples per prompt is too many")))?;
    if steps > 0 {
        check_memory(model, b, longest + steps)?;
    }
    let rows: Vec<(usize, usize)> = (0..prompts.len()).flat_map(|i| (0..n).map(move |j| (i, j))).collect();
    let budget: Vec<usize> = rows.iter().map(|&(i, _)| prompt_budget[i]).collect();
    if steps == 0 {
        return Ok(rows.iter().map(|&(i, j)| empty(i, j)).collect());
    }
    let left_pad: Vec<usize> = rows.iter().map(|&(i, _)| longest - prompts[i].len()).collect();
    let flat: Vec<u32> = rows
        .iter()
        .flat_map(|&(i, _)| std::iter::repeat_n(0u32, longest - prompts[i].len()).chain(prompts[i].iter().copied()))
        .collect();
    let device = model.device().clone();
    let mut cache = model.new_cache(left_pad, longest + steps)?;
    let mut logits = model.next_logits(&Tensor::from_vec(flat, (b, longest), &device)?, &mut cache)?;

    let mut rngs: Vec<ChaCha8Rng> = (0..b)
        .map(|r| {
            let mut g = ChaCha8Rng::seed_from_u64(params.seed);
            g.set_stream(params.stream_offset + r as u64);
            g
        })
        .collect();
    let on_device = match params.sampler {
        Sampler::Auto => !device.is_cpu(),
        Sampler::Host => false,
        Sampler::Device => true,
    };
    if on_device && !device.is_cpu() {
        device.set_seed(params.seed.wrapping_add(params.stream_offset))?;
    }
    let v = model.vocab_size();
    let mut out: Vec<Rollout> = rows.iter().map(|&(i, j)| empty(i, j)).collect();
    let mut done: Vec<bool> = budget.iter().map(|&n| n == 0).collect();
    // The rows still in the batch (batch position → row). Finished rows leave it when they are
    // half of it (`Decoder::compact`): a row draws only from its own stream, so which rows share
    // its batch changes nothing of its samples.
    let mut active: Vec<usize> = (0..b).collect();
    for step in 0..steps {
        let (next, picks) = if on_device {
            let uniforms = if device.is_cpu() {
                let u: Vec<f32> =
                    active.iter().flat_map(|&r| (0..v).map(|_| rngs[r].gen::<f32>()).collect::<Vec<_>>()).collect();
                Tensor::from_vec(u, (active.len(), v), &device)?
            } else {
                Tensor::rand(0f32, 1f32, (active.len(), v), &device)?
            };
            let (tokens, lps) = device::pick(&logits.squeeze(1)?, params, &uniforms)?;
            let picks: Vec<(u32, f32)> = tokens.to_vec1::<u32>()?.into_iter().zip(lps.to_vec1::<f32>()?).collect();
            (tokens.unsqueeze(1)?, picks)
        } else {
            // One uniform per row and step, drawn in row order; the picks run in parallel.
            let us: Vec<f64> = active.iter().map(|&r| rngs[r].gen()).collect();
            let picks: Vec<(u32, f32)> = with_host_logits(&logits, |host| {
                (0..active.len())
                    .into_par_iter()
                    .map_init(PickScratch::default, |sc, i| {
                        if done[active[i]] {
                            (0, 0.0)
                        } else {
                            pick(&host[i * v..(i + 1) * v], params, us[i], sc)
                        }
                    })
                    .collect()
            })?;
            let next = Tensor::from_vec(picks.iter().map(|p| p.0).collect::<Vec<_>>(), (active.len(), 1), &device)?;
            (next, picks)
        };
        for (&r, &(tok, lp)) in active.iter().zip(&picks) {
            if done[r] {
                continue;
            }
            out[r].tokens.push(tok);
            out[r].logprobs.push(lp);
            if !params.ignore_eos && eos_ids.contains(&tok) {
                out[r].stop = StopReason::Eos;
                done[r] = true;
            } else if out[r].tokens.len() == budget[r] {
                done[r] = true;
            }
        }
        if done.iter().all(|&d| d) || step + 1 == steps {
            break;
        }
        let mut next = next;
        let live: Vec<usize> = (0..active.len()).filter(|&i| !done[active[i]]).collect();
        if live.len() * 2 <= active.len() {
            if let Some(c) = model.compact(&cache, &live, steps - 1 - step)? {
                cache = c;
                let index = Tensor::from_vec(live.iter().map(|&i| i as u32).collect::<Vec<_>>(), live.len(), &device)?;
                next = next.index_select(&index, 0)?;
                active = live.iter().map(|&i| active[i]).collect();
            }
        }
        logits = model.next_logits(&next, &mut cache)?;
    }
    Ok(out)
}

/// Refuse a batch whose KV cache and logits would not fit in the host's available memory (on the
/// CPU; a GPU reports its own out-of-memory error), instead of aborting on the allocation.
fn check_memory<D: Decoder + ?Sized>(model: &D, rows: usize, tokens: usize) -> Result<(), RolloutError> {
    if !model.device().is_cpu() {
        return Ok(());
    }
    let per_token = model.kv_bytes_per_token();
    let need = (rows as f64) * ((tokens * per_token) as f64 + (model.vocab_size() * 4 * 3) as f64);
    if let Some(avail) = available_memory() {
        if need > avail as f64 {
            return Err(RolloutError::Params(format!(
                "{rows} rows × {tokens} tokens need about {:.1} GiB for the KV cache and logits; {:.1} GiB is available",
                need / (1u64 << 30) as f64,
                avail as f64 / (1u64 << 30) as f64
            )));
        }
    }
    Ok(())
}

/// MemAvailable from /proc/meminfo, in bytes (None where there is no such file).
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn empty(prompt_index: usize, sample_index: usize) -> Rollout {
    Rollout { prompt_index, sample_index, tokens: vec![], logprobs: vec![], stop: StopReason::Length }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(greedy: bool, temperature: f64, top_p: f64) -> SamplingParams {
        SamplingParams { greedy, temperature, top_p, ..SamplingParams::default() }
    }

    #[test]
    fn greedy_takes_first_maximum_and_reports_log_softmax() {
        let logits = [1.0f32, 3.0, 3.0, -2.0];
        let (t, lp) = pick(&logits, &params(true, 1.0, 1.0), 0.99, &mut PickScratch::default());
        assert_eq!(t, 1);
        let z: f32 = logits.iter().map(|x| x.exp()).sum();
        assert!((lp - (3.0f32.exp() / z).ln()).abs() < 1e-6);
    }

    #[test]
    fn inverse_cdf_follows_the_tempered_distribution() {
        // p ∝ exp(l / T) with T = 0.5: weights 1, e^2, e^4 → boundaries of the cumulative mass.
        let logits = [0.0f32, 1.0, 2.0];
        let w = [1.0f64, 2f64.exp(), 4f64.exp()];
        let total: f64 = w.iter().sum();
        let p = params(false, 0.5, 1.0);
        let c0 = w[0] / total;
        let c1 = (w[0] + w[1]) / total;
        assert_eq!(pick(&logits, &p, c0 * 0.99, &mut PickScratch::default()).0, 0);
        assert_eq!(pick(&logits, &p, c0 * 1.01, &mut PickScratch::default()).0, 1);
        assert_eq!(pick(&logits, &p, c1 * 0.999, &mut PickScratch::default()).0, 1);
        assert_eq!(pick(&logits, &p, c1 * 1.001, &mut PickScratch::default()).0, 2);
    }

    #[test]
    fn top_p_keeps_the_smallest_nucleus() {
        // probabilities 0.5, 0.3, 0.2 (logits = ln p): top_p 0.6 keeps {0, 1}; 0.5 keeps {0} only.
        let logits = [0.5f32.ln(), 0.3f32.ln(), 0.2f32.ln()];
        for u in [0.0, 0.3, 0.62, 0.99] {
            let t = pick(&logits, &params(false, 1.0, 0.6), u, &mut PickScratch::default()).0;
            assert!(t < 2, "u={u} gave {t}");
            assert_eq!(pick(&logits, &params(false, 1.0, 0.5), u, &mut PickScratch::default()).0, 0);
        }
        // u just past 0.5/0.8 of the nucleus mass picks the second token.
        assert_eq!(pick(&logits, &params(false, 1.0, 0.6), 0.5 / 0.8 + 1e-3, &mut PickScratch::default()).0, 1);
    }

    #[test]
    fn each_row_budget_is_the_total_minus_its_prompt() {
        let p = SamplingParams { max_new_tokens: 100, max_total_tokens: 50, ..SamplingParams::default() };
        assert_eq!((p.row_budget(10), p.row_budget(45), p.row_budget(60)), (40, 5, 0));
        let p = SamplingParams { max_new_tokens: 20, max_total_tokens: 50, ..SamplingParams::default() };
        assert_eq!(p.row_budget(10), 20);
        assert_eq!(SamplingParams { max_new_tokens: 7, ..SamplingParams::default() }.row_budget(1000), 7);
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert!(params(false, 0.0, 1.0).check().is_err());
        assert!(params(false, 1.0, 0.0).check().is_err());
        assert!(params(false, 1.0, 1.5).check().is_err());
        assert!(params(true, 0.0, 1.0).check().is_ok());
    }
}
