//! The token-level policy-gradient loss, accumulated over micro-batches.
//!
//! loss = −Σ_i Σ_t w_{i,t} · A_i · log π_θ(y_{i,t} | x_i, y_{i,<t}) / Σ_i L_i
//!
//! with w_{i,t} the token's truncated importance weight (1 when the correction is off).
//! Every token of the step's batch weighs the same (the paper's token-level loss), so a
//! micro-batch's loss is divided by the token count of the whole batch and the gradients of the
//! micro-batches simply add up.

use super::group::ScoredRollout;
use crate::model::{BackwardOptions, Grads, Model, PositionStats};
use anyhow::{bail, Result};
use candle_core::Tensor;

/// A left-padded batch of prompt + response sequences.
pub struct Sequences {
    pub ids: Tensor,
    pub left_pad: Vec<usize>,
    /// Per row: (first response position in `ids`, response length).
    pub response: Vec<(usize, usize)>,
}

/// Concatenate each prompt with its response and left-pad to a common length, so that every
/// row ends at the last column and no right padding is needed.
pub fn pack(prompts: &[&[u32]], responses: &[&[u32]], device: &candle_core::Device) -> Result<Sequences> {
    let total: Vec<usize> = prompts.iter().zip(responses).map(|(p, r)| p.len() + r.len()).collect();
    let t = total.iter().copied().max().unwrap_or(0);
    let mut flat = Vec::with_capacity(t * prompts.len());
    let (mut left_pad, mut response) = (Vec::new(), Vec::new());
    for ((p, r), n) in prompts.iter().zip(responses).zip(&total) {
        let pad = t - n;
        flat.extend(std::iter::repeat_n(0u32, pad));
        flat.extend_from_slice(p);
        flat.extend_from_slice(r);
        left_pad.push(pad);
        response.push((pad + p.len(), r.len()));
    }
    Ok(Sequences { ids: Tensor::from_vec(flat, (prompts.len(), t), device)?, left_pad, response })
}

/// (B, T−1) weights, row-major: `w(b, i)` on row b's i-th response-token log-probability, 0
/// elsewhere.
fn response_weights(s: &Sequences, w: impl Fn(usize, usize) -> f64) -> Result<Vec<f32>> {
    let (b, t) = s.ids.dims2()?;
    let mut m = vec![0f32; b * (t - 1)];
    for (row, &(start, len)) in s.response.iter().enumerate() {
        // Log-prob index j scores token j + 1.
        for (i, pos) in (start..start + len).enumerate() {
            m[row * (t - 1) + pos - 1] = w(row, i) as f32;
        }
    }
    Ok(m)
}

/// Σ over each row's response tokens of log π(token | prefix) — the sequence log-likelihood,
/// e.g. S under the frozen reference (no gradient is taken; only response rows get logits).
pub fn sequence_logprobs(model: &Model, s: &Sequences, head_chunk: usize) -> Result<Vec<f64>> {
    Ok(token_logprobs(model, s, head_chunk)?.iter().map(|row| row.iter().map(|&x| f64::from(x)).sum()).collect())
}

/// log π(token | prefix) of each row's response tokens, in order (no gradient is taken).
pub fn token_logprobs(model: &Model, s: &Sequences, head_chunk: usize) -> Result<Vec<Vec<f32>>> {
    let positions = response_positions(s);
    Ok(by_row(s, &positions, model.logprobs_at(&s.ids, &s.left_pad, &positions, head_chunk)?))
}

/// [`token_logprobs`] with, at each response position, the self-certainty KL(U ‖ π) and the
/// entropy of the whole next-token distribution (from the same logits; no gradient is taken).
pub fn position_stats(model: &Model, s: &Sequences, head_chunk: usize) -> Result<Vec<Vec<PositionStats>>> {
    let positions = response_positions(s);
    Ok(by_row(s, &positions, model.position_stats_at(&s.ids, &s.left_pad, &positions, head_chunk)?))
}

/// (row, position) of the logits that predict each response token, row by row.
fn response_positions(s: &Sequences) -> Vec<(usize, usize)> {
    s.response
        .iter()
        .enumerate()
        .flat_map(|(row, &(start, len))| (start..start + len).map(move |p| (row, p - 1)))
        .collect()
}

/// Values at `positions` (from [`response_positions`]) regrouped into one row per sequence.
fn by_row<T>(s: &Sequences, positions: &[(usize, usize)], values: Vec<T>) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = s.response.iter().map(|&(_, len)| Vec::with_capacity(len)).collect();
    for (&(row, _), x) in positions.iter().zip(values) {
        out[row].push(x);
    }
    out
}

/// Backpropagate the token-level loss over `batch` in micro-batches and return the summed f32
/// gradients and the loss. Fails if any trainable weight received no gradient.
pub fn policy_gradient(
    model: &Model,
    prompts: &[Vec<u32>],
    batch: &[ScoredRollout],
    micro_batch: usize,
    opts: BackwardOptions,
) -> Result<(Grads, f64)> {
    let tokens: usize = batch.iter().map(|s| s.length()).sum();
    let mut grads = Grads::new();
    let mut loss_total = 0.0;
    let mut any = false;
    for mb in batch.chunks(micro_batch.max(1)) {
        if mb.iter().all(|s| s.length() == 0) {
            continue;
        }
        any = true;
        let p: Vec<&[u32]> = mb.iter().map(|s| prompts[s.rollout.prompt_index].as_slice()).collect();
        let r: Vec<&[u32]> = mb.iter().map(|s| s.rollout.tokens.as_slice()).collect();
        let seqs = pack(&p, &r, model.device())?;
        let scale = -1.0 / tokens.max(1) as f64;
        let w = response_weights(&seqs, |row, i| {
            let s = &mb[row];
            scale * s.advantage * s.token_weights.get(i).copied().unwrap_or(1.0)
        })?;
        loss_total += model.weighted_logprob_backward(&seqs.ids, &seqs.left_pad, &w, opts, &mut grads)?;
        if !loss_total.is_finite() {
            bail!("the loss is not finite ({loss_total}); stopping before the update");
        }
    }
    if !any {
        bail!("the batch has no response tokens");
    }
    let vars = model.named_vars();
    if vars.iter().all(|(_, v)| grads.get(v.as_tensor()).is_none()) && batch.iter().all(|s| s.advantage == 0.0) {
        // Equal rewards in every group: every advantage is 0, no row carries a weight, and the
        // gradient is exactly zero.
        for (_, v) in vars {
            grads.add(v.as_tensor(), &v.as_tensor().zeros_like()?)?;
        }
    }
    for (name, v) in vars {
        if grads.get(v.as_tensor()).is_none() {
            bail!("weight {name} received no gradient: the graph was cut");
        }
    }
    Ok((grads, loss_total))
}
