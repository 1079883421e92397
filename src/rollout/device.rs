//! Picking the next tokens on the logits' device: one (B, V) block in, B tokens and B
//! log-probabilities out, so a GPU never copies vocabulary-wide logits to the host.
//!
//! Sampling is Gumbel-max: argmax(l/T + G) with G = −log(−log U) is an exact draw from
//! softmax(l/T), and an argmax is one reduction on any device (the host sampler's inverse CDF
//! needs a scan). The nucleus needs no sort either: the smallest kept probability is found by
//! bisection on a threshold τ, keeping {p > τ} once the mass strictly above τ first falls below
//! top_p — the nucleus of a sorted scan, except for exact ties at its edge.

use super::SamplingParams;
use candle_core::{DType, Result, Tensor, D};

/// Bisection steps: the threshold interval shrinks to max p · 2⁻⁴⁰, below f32 resolution.
const BISECTION_STEPS: usize = 40;

/// Per-row mask (B, V) u8 of the tokens in the top-p nucleus of `probs` (B, V).
pub fn nucleus_mask(probs: &Tensor, top_p: f64) -> Result<Tensor> {
    let (b, _) = probs.dims2()?;
    let mut lo = Tensor::zeros((b, 1), DType::F32, probs.device())?;
    let mut hi = probs.max_keepdim(D::Minus1)?;
    for _ in 0..BISECTION_STEPS {
        let mid = ((&lo + &hi)? * 0.5)?;
        let above = probs.broadcast_gt(&mid)?.to_dtype(DType::F32)?;
        let mass = (probs * above)?.sum_keepdim(D::Minus1)?;
        // mass(mid) < top_p: the nucleus reaches below mid, so the threshold is under it.
        let under = mass.lt(top_p)?;
        hi = under.where_cond(&mid, &hi)?;
        lo = under.where_cond(&lo, &mid)?;
    }
    probs.broadcast_gt(&lo)
}

/// One token per row of `logits` (B, V) and its log-probability at temperature 1 (what the
/// policy gradient needs, whatever the sampling settings). `uniforms` (B, V) in [0, 1) are the
/// draw's randomness (unused when greedy).
pub fn pick(logits: &Tensor, params: &SamplingParams, uniforms: &Tensor) -> Result<(Tensor, Tensor)> {
    let l = logits.to_dtype(DType::F32)?;
    let max = l.max_keepdim(D::Minus1)?;
    let log_z = (l.broadcast_sub(&max)?.exp()?.sum_keepdim(D::Minus1)?.log()? + &max)?;
    let tokens = if params.greedy {
        l.argmax_keepdim(D::Minus1)?
    } else {
        let mut s = (&l / params.temperature)?;
        if params.top_p < 1.0 {
            let keep = nucleus_mask(&candle_nn::ops::softmax_last_dim(&s)?, params.top_p)?;
            s = keep.where_cond(&s, &Tensor::full(f32::NEG_INFINITY, s.shape(), s.device())?)?;
        }
        let gumbel = uniforms.to_dtype(DType::F32)?.log()?.neg()?.log()?.neg()?;
        (s + gumbel)?.argmax_keepdim(D::Minus1)?
    };
    let logprobs = (l.gather(&tokens, D::Minus1)? - log_z)?;
    Ok((tokens.squeeze(1)?, logprobs.squeeze(1)?))
}
