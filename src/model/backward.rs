//! The policy-gradient backward in bounded memory: per-segment activation checkpointing and a
//! chunked language-model head.
//!
//! candle keeps a forward's whole graph alive until `backward()` returns, and the head's logits
//! are the largest activation of all (rows × vocabulary: 3,072 rows of a 152k vocabulary are
//! 1.9 GB in f32, several times over inside log-softmax). So:
//!
//! 1. a first pass runs the layers on the fused inference ops and keeps only the input of each
//!    segment of `checkpoint_every` layers (the last segment keeps its graph: it is never
//!    recomputed);
//! 2. the head runs over the rows that carry a weight (response tokens; prompt and padding rows
//!    never need logits), `head_chunk` rows at a time, each chunk backpropagated at once;
//! 3. the segments are recomputed last to first on the differentiable ops, each fed the
//!    gradient of its output and handing back the gradient of its input;
//! 4. the embedding takes the gradient of the first segment's input.
//!
//! With `checkpoint_every = 0` the whole stack is one segment: a single forward and backward.

use super::decoder::Context;
use super::grads::Grads;
use super::logprob::TokenLogprob;
use super::profile::{Clock, Phase};
use super::{Model, Path};
use candle_core::{DType, Result, Tensor, Var, D};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackwardOptions {
    /// Layers per checkpointed segment; 0 keeps the whole forward graph (fastest, most memory).
    pub checkpoint_every: usize,
    /// Head rows (tokens) whose logits exist at one time.
    pub head_chunk: usize,
    /// candle's composed differentiable ops instead of the fused kernels on the training path
    /// (the reference, and a way around a device where a fused kernel misbehaves).
    pub composed_ops: bool,
    /// Time each phase (waiting for the device) into `Grads::phase_seconds`.
    pub profile: bool,
}

impl Default for BackwardOptions {
    fn default() -> Self {
        BackwardOptions { checkpoint_every: 1, head_chunk: 1024, composed_ops: false, profile: false }
    }
}

/// Rows of a (B, T) batch whose next-token log-probability is wanted, with their weights.
struct Rows {
    /// b·T + t for each wanted position t < T−1 of row b.
    flat: Vec<u32>,
    /// ids[b, t+1].
    targets: Vec<u32>,
    weights: Vec<f32>,
}

impl Rows {
    /// Positions of `weights` (B, T−1, row-major) that are non-zero.
    fn select(ids: &[u32], b: usize, t: usize, weights: &[f32]) -> Self {
        let mut r = Rows { flat: vec![], targets: vec![], weights: vec![] };
        for row in 0..b {
            for pos in 0..t - 1 {
                let w = weights[row * (t - 1) + pos];
                if w != 0.0 {
                    r.flat.push((row * t + pos) as u32);
                    r.targets.push(ids[row * t + pos + 1]);
                    r.weights.push(w);
                }
            }
        }
        r
    }
}

/// log p(target) of each row of logits (N, V), in f32: the fused op on the CPU, else
/// log-softmax and gather.
fn rows_logprob(logits: &Tensor, targets: &Tensor) -> Result<Tensor> {
    let logits = logits.to_dtype(DType::F32)?;
    if logits.device().is_cpu() {
        return logits.contiguous()?.apply_op2(&targets.contiguous()?, TokenLogprob);
    }
    let lp = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
    lp.gather(&targets.unsqueeze(1)?, 1)?.squeeze(1)
}

impl Model {
    /// Segments of layers, `[start, end)`.
    fn segments(&self, every: usize) -> Vec<(usize, usize)> {
        let n = self.blocks.len();
        let every = if every == 0 { n.max(1) } else { every };
        (0..n).step_by(every).map(|s| (s, (s + every).min(n))).collect()
    }

    fn run_segment(&self, (s, e): (usize, usize), x: &Tensor, ctx: &Context, path: Path) -> Result<Tensor> {
        let mut x = x.clone();
        for blk in &self.blocks[s..e] {
            x = blk.forward(&x, ctx, None, path)?;
        }
        Ok(x)
    }

    /// Σ_{b,t} w[b,t] · log π(ids[b,t+1] | ids[b,..=t]) for `ids` (B, T) left-padded by
    /// `left_pad`, with its gradient added into `grads`. `weights` is (B, T−1) row-major on the
    /// host; positions with weight 0 cost no logits. Returns the weighted sum.
    pub fn weighted_logprob_backward(
        &self,
        ids: &Tensor,
        left_pad: &[usize],
        weights: &[f32],
        opts: BackwardOptions,
        grads: &mut Grads,
    ) -> Result<f64> {
        let (b, t) = ids.dims2()?;
        if t < 2 || weights.len() != b * (t - 1) {
            candle_core::bail!("weights: {} entries for a ({b}, {t}) batch", weights.len());
        }
        let rows = Rows::select(&ids.flatten_all()?.to_vec1::<u32>()?, b, t, weights);
        let vars = self.named_vars();
        let ctx = self.context(ids, left_pad, 0)?;
        let segs = self.segments(opts.checkpoint_every);
        let dev = ids.device();
        let mut clock = Clock::start(opts.profile);
        let train = Path::Train { composed: opts.composed_ops };

        // 1. Forward, keeping the input of every segment; the last one keeps its graph.
        let mut inputs = vec![self.embed_ids(ids)?.detach()];
        for &seg in &segs[..segs.len() - 1] {
            let x = self.run_segment(seg, inputs.last().expect("non-empty"), &ctx, Path::Infer)?;
            inputs.push(x.detach());
        }
        let last_in = Var::from_tensor(inputs.last().expect("non-empty"))?;
        let last_out = self.run_segment(segs[segs.len() - 1], last_in.as_tensor(), &ctx, train)?;
        clock.lap(Phase::Forward, dev, &mut grads.phase_seconds)?;

        // 2. The head, chunk by chunk, on the weighted rows only.
        let (total, g_hidden) = self.head_backward(&last_out.detach(), &rows, opts.head_chunk, train, grads)?;
        clock.lap(Phase::Head, dev, &mut grads.phase_seconds)?;
        let Some(mut g) = g_hidden else { return Ok(total) };

        // 3. Segments from last to first: feed g = ∂loss/∂output, get ∂loss/∂input.
        let mut out = Some((last_in, last_out));
        for (i, &seg) in segs.iter().enumerate().rev() {
            let (x_in, y) = match out.take() {
                Some(pair) => pair,
                None => {
                    let x_in = Var::from_tensor(&inputs[i])?;
                    let y = self.run_segment(seg, x_in.as_tensor(), &ctx, train)?;
                    (x_in, y)
                }
            };
            let store = (y * &g)?.sum_all()?.backward()?;
            grads.add_store(&store, vars)?;
            g = store.get(x_in.as_tensor()).cloned().ok_or_else(|| {
                candle_core::Error::Msg(format!("layers {}..{} cut the gradient of their input", seg.0, seg.1))
            })?;
        }

        clock.lap(Phase::Layers, dev, &mut grads.phase_seconds)?;

        // 4. The embedding.
        if self.embed.is_variable() {
            let store = (self.embed_ids(ids)? * g)?.sum_all()?.backward()?;
            grads.add_store(&store, vars)?;
        }
        clock.lap(Phase::Embedding, dev, &mut grads.phase_seconds)?;
        Ok(total)
    }

    /// The head's part: Σ w·log p over `rows` and ∂/∂hidden (None when no row has a weight).
    fn head_backward(
        &self,
        hidden: &Tensor,
        rows: &Rows,
        chunk: usize,
        train: Path,
        grads: &mut Grads,
    ) -> Result<(f64, Option<Tensor>)> {
        let (b, t, hs) = hidden.dims3()?;
        let h = Var::from_tensor(&hidden.reshape((b * t, hs))?)?;
        let dev = hidden.device();
        let (mut total, mut g_h) = (0.0f64, None::<Tensor>);
        for start in (0..rows.flat.len()).step_by(chunk.max(1)) {
            let end = (start + chunk.max(1)).min(rows.flat.len());
            let n = end - start;
            let idx = Tensor::from_slice(&rows.flat[start..end], n, dev)?;
            let tg = Tensor::from_slice(&rows.targets[start..end], n, dev)?;
            let w = Tensor::from_slice(&rows.weights[start..end], n, dev)?;
            let lp = rows_logprob(&self.head(&h.as_tensor().index_select(&idx, 0)?, train)?, &tg)?;
            let loss = (lp * w)?.sum_all()?;
            total += loss.to_scalar::<f32>()? as f64;
            let store = loss.backward()?;
            grads.add_store(&store, self.named_vars())?;
            if let Some(g) = store.get(h.as_tensor()) {
                g_h = Some(match g_h {
                    Some(acc) => (acc + g)?,
                    None => g.clone(),
                });
            }
        }
        Ok((total, g_h.map(|g| g.reshape((b, t, hs))).transpose()?))
    }

    /// log π(ids[b, t+1] | ids[b, ..=t]) at the given (b, t) positions, without gradient, on the
    /// inference ops with a chunked head (only the asked-for rows get logits).
    pub fn logprobs_at(
        &self,
        ids: &Tensor,
        left_pad: &[usize],
        positions: &[(usize, usize)],
        chunk: usize,
    ) -> Result<Vec<f32>> {
        Ok(self.scan_positions(ids, left_pad, positions, chunk, false)?.into_iter().map(|p| p.logprob).collect())
    }

    /// [`Model::logprobs_at`] with, at each position, the self-certainty KL(U ‖ π) and the
    /// entropy H(π) of the whole next-token distribution, read off the same logits (the
    /// self-rewards, `sharpen_toy::selfreward`; no extra forward).
    pub fn position_stats_at(
        &self,
        ids: &Tensor,
        left_pad: &[usize],
        positions: &[(usize, usize)],
        chunk: usize,
    ) -> Result<Vec<PositionStats>> {
        self.scan_positions(ids, left_pad, positions, chunk, true)
    }

    fn scan_positions(
        &self,
        ids: &Tensor,
        left_pad: &[usize],
        positions: &[(usize, usize)],
        chunk: usize,
        stats: bool,
    ) -> Result<Vec<PositionStats>> {
        let (b, t) = ids.dims2()?;
        let host = ids.flatten_all()?.to_vec1::<u32>()?;
        let mut flat = Vec::with_capacity(positions.len());
        let mut targets = Vec::with_capacity(positions.len());
        for &(row, pos) in positions {
            if row >= b || pos + 1 >= t {
                candle_core::bail!("position ({row}, {pos}) outside a ({b}, {t}) batch");
            }
            flat.push((row * t + pos) as u32);
            targets.push(host[row * t + pos + 1]);
        }
        let ctx = self.context(ids, left_pad, 0)?;
        let mut x = self.embed_ids(ids)?.detach();
        for blk in &self.blocks {
            x = blk.forward(&x, &ctx, None, Path::Infer)?.detach();
        }
        let x = x.reshape((b * t, self.config().hidden_size))?;
        let mut out = Vec::with_capacity(flat.len());
        for (f, tg) in flat.chunks(chunk.max(1)).zip(targets.chunks(chunk.max(1))) {
            let dev = ids.device();
            let rows = x.index_select(&Tensor::from_slice(f, f.len(), dev)?, 0)?;
            let logits = self.head(&rows, Path::Infer)?;
            let lp = rows_logprob(&logits, &Tensor::from_slice(tg, tg.len(), dev)?)?.to_vec1::<f32>()?;
            if !stats {
                out.extend(lp.into_iter().map(|logprob| PositionStats { logprob, self_certainty: 0.0, entropy: 0.0 }));
                continue;
            }
            // In f32 whatever the compute dtype: log p over the vocabulary V, then
            // KL(U ‖ p) = −log V − mean_v log p_v and H = −Σ_v p_v log p_v.
            let log_p = candle_nn::ops::log_softmax(&logits.to_dtype(DType::F32)?, D::Minus1)?;
            let v = log_p.dim(D::Minus1)? as f64;
            let mean_log_p = (log_p.sum(D::Minus1)? / v)?.to_vec1::<f32>()?;
            let entropy = (log_p.exp()? * &log_p)?.sum(D::Minus1)?.neg()?.to_vec1::<f32>()?;
            for ((logprob, m), h) in lp.into_iter().zip(mean_log_p).zip(entropy) {
                let self_certainty = (-v.ln() - f64::from(m)) as f32;
                out.push(PositionStats { logprob, self_certainty, entropy: h });
            }
        }
        Ok(out)
    }
}

/// What the trainer reads off the policy's logits at one response position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PositionStats {
    /// log π(y_t | y_<t).
    pub logprob: f32,
    /// KL(U ‖ π(·|y_<t)), U uniform over the vocabulary (0 when not asked for).
    pub self_certainty: f32,
    /// H(π(·|y_<t)) in nats (0 when not asked for).
    pub entropy: f32,
}
