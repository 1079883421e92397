//! The token-level policy-gradient loss, accumulated over micro-batches.
//!
//! loss = −Σ_i Σ_t A_i · log π_θ(y_{i,t} | x_i, y_{i,<t}) / Σ_i L_i
//!
//! Every token of the step's batch weighs the same (the paper's token-level loss), so a
//! micro-batch's loss is divided by the token count of the whole batch and the gradients of the
//! micro-batches simply add up.

use super::group::ScoredRollout;
use crate::model::{next_token_logprobs, Model};
use anyhow::{bail, Result};
use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

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

/// (B, T−1) weights: `w[b]` on row b's response-token log-probabilities, 0 elsewhere.
fn response_weights(s: &Sequences, w: &[f64], device: &candle_core::Device) -> Result<Tensor> {
    let (b, t) = s.ids.dims2()?;
    let mut m = vec![0f32; b * (t - 1)];
    for (row, &(start, len)) in s.response.iter().enumerate() {
        // Log-prob index j scores token j + 1.
        for pos in start..start + len {
            m[row * (t - 1) + pos - 1] = w[row] as f32;
        }
    }
    Ok(Tensor::from_vec(m, (b, t - 1), device)?)
}

/// Σ over each row's response tokens of log π(token | prefix) — the sequence log-likelihood,
/// e.g. S under the frozen reference (no gradient is taken).
pub fn sequence_logprobs(model: &Model, s: &Sequences) -> Result<Vec<f64>> {
    let logits = model.forward_infer(&s.ids, &s.left_pad)?;
    let lp = next_token_logprobs(&logits, &s.ids)?;
    let ones = vec![1.0; s.response.len()];
    let w = response_weights(s, &ones, model.device())?;
    Ok((lp * w)?.sum(1)?.to_vec1::<f32>()?.into_iter().map(f64::from).collect())
}

/// Backpropagate the token-level loss over `batch` in micro-batches and return the summed
/// gradients. Fails if any trainable weight received no gradient.
pub fn policy_gradient(
    model: &Model,
    prompts: &[Vec<u32>],
    batch: &[ScoredRollout],
    micro_batch: usize,
) -> Result<(GradStore, f64)> {
    let tokens: usize = batch.iter().map(|s| s.length()).sum();
    let vars: Vec<Var> = model.vars();
    let mut acc: Option<GradStore> = None;
    let mut loss_total = 0.0;
    for mb in batch.chunks(micro_batch.max(1)) {
        if mb.iter().all(|s| s.length() == 0) {
            continue;
        }
        let p: Vec<&[u32]> = mb.iter().map(|s| prompts[s.rollout.prompt_index].as_slice()).collect();
        let r: Vec<&[u32]> = mb.iter().map(|s| s.rollout.tokens.as_slice()).collect();
        let seqs = pack(&p, &r, model.device())?;
        let logits = model.forward_train(&seqs.ids, &seqs.left_pad)?;
        let lp = next_token_logprobs(&logits, &seqs.ids)?;
        let adv: Vec<f64> = mb.iter().map(|s| -s.advantage / tokens.max(1) as f64).collect();
        let loss = (lp * response_weights(&seqs, &adv, model.device())?)?.sum_all()?;
        loss_total += loss.to_scalar::<f32>()? as f64;
        if !loss_total.is_finite() {
            bail!("the loss is not finite ({loss_total}); stopping before the update");
        }
        let g = loss.backward()?;
        acc = Some(match acc {
            None => g,
            Some(mut a) => {
                for v in &vars {
                    if let Some(x) = g.get(v.as_tensor()) {
                        let sum = match a.get(v.as_tensor()) {
                            Some(y) => (y + x)?,
                            None => x.clone(),
                        };
                        a.insert(v.as_tensor(), sum);
                    }
                }
                a
            }
        });
    }
    let Some(grads) = acc else { bail!("the batch has no response tokens") };
    for (name, v) in model.named_vars() {
        if grads.get(v.as_tensor()).is_none() {
            bail!("weight {name} received no gradient: the graph was cut");
        }
    }
    Ok((grads, loss_total))
}
