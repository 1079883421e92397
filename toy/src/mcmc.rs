//! Inference-time power sampling ("Reasoning with Sampling", Karan & Du, 2025): Metropolis–
//! Hastings over complete responses of any autoregressive model, with stationary law π_ref^α.
//!
//! The chain state is a response y, kept as its list of *decisions*: one per token, plus the
//! stop decision once the response is complete (EOS before the cap, or the cap itself, which
//! stops with probability 1). The target weight of y is π_ref(y)^α = Π over decisions of
//! p_ref^α — the same sequence-level power with `sum` normalisation that
//! [`crate::tree::power`] solves exactly.
//!
//! One move: pick a position t uniformly among the n(y) decisions of y, keep y_{<t} and draw the
//! decisions t.. afresh from the proposal law q (π_ref, or token temperature 1/α) until a stop
//! or the end of the current block. With y' the result, accept with probability
//!
//! A = min(1, [π_ref(y')^α · q(y_{≥t} | y_{<t}) · 1/n(y')] / [π_ref(y)^α · q(y'_{≥t} | y_{<t}) · 1/n(y)]).
//!
//! The 1/n factors are the probabilities of picking t from each state: the reverse move picks
//! the same t from y' (y and y' share y_{<t}, so t is a position of both), and n depends on the
//! length, so leaving them out biases the chain's length law. Detailed balance then holds for
//! each t, hence for the mixture over t ([`log_acceptance`] is the whole ratio).
//!
//! Block-wise schedule (the paper's): the response is grown in blocks of B tokens; after each
//! extension the chain runs K moves whose target is π_ref^α of the response truncated at the
//! block's end (a response that has not stopped by then is an intermediate state of kB
//! tokens). The last block ends at the cap, so the final stage targets π_ref^α exactly; with B
//! at least the cap there is a single block and K moves over complete responses.
//!
//! Everything the sampler needs from a model is [`Autoregressive`]: next-token log-probs of a
//! prefix, with EOS, and the cap — a prefix tree implements it, and so can an LLM (each call is
//! one forward token when the KV cache of the kept prefix is reused, which is what
//! [`Draw::forward_tokens`] counts).

use crate::error::ToyError;
use crate::logspace::logsumexp;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// An autoregressive model over `vocab` ordinary tokens and EOS, with a length cap.
pub trait Autoregressive: Sync {
    /// Number of ordinary tokens (EOS is not counted).
    fn vocab(&self) -> usize;
    /// The length cap: a response of this many tokens is complete.
    fn max_len(&self) -> usize;
    /// Write log p(v | prefix) for v in 0..vocab into `out` (−∞ for impossible tokens) and return
    /// log p(EOS | prefix). Called only for prefixes shorter than the cap that the model can
    /// produce; the probabilities must sum to one.
    fn next_log_probs(&self, prefix: &[u32], out: &mut [f64]) -> f64;
}

/// The law the suffix of a move is drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proposal {
    /// π_ref itself.
    Base,
    /// Token temperature 1/α: p(·|prefix)^α renormalised over the tokens and EOS (the paper's).
    Temperature,
}

impl Proposal {
    pub const NAMES: &'static str = "temperature, base";

    pub fn name(self) -> &'static str {
        match self {
            Self::Base => "base",
            Self::Temperature => "temperature",
        }
    }

    pub fn parse(name: &str) -> Result<Self, ToyError> {
        match name {
            "base" => Ok(Self::Base),
            "temperature" => Ok(Self::Temperature),
            _ => Err(ToyError::UnknownName { what: "proposal", got: name.into(), expected: Self::NAMES }),
        }
    }
}

/// α·log p with α·(−∞) = −∞ also at α = 0 (an impossible token stays impossible).
fn pow_log(alpha: f64, log_p: f64) -> f64 {
    if log_p == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else {
        alpha * log_p
    }
}

/// The power sampler's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PowerSampler {
    /// The target is π_ref^α.
    pub alpha: f64,
    pub proposal: Proposal,
    /// K: Metropolis–Hastings moves per block.
    pub steps: usize,
    /// B: tokens per block; `None` (or B ≥ the cap) is one block over complete responses.
    pub block: Option<usize>,
}

impl PowerSampler {
    pub fn new(alpha: f64, proposal: Proposal, steps: usize, block: Option<usize>) -> Result<Self, ToyError> {
        if !(alpha.is_finite() && alpha >= 0.0) {
            return Err(ToyError::BadAlpha(alpha));
        }
        if block == Some(0) {
            return Err(ToyError::Invalid("the block size must be at least 1 token".into()));
        }
        Ok(Self { alpha, proposal, steps, block })
    }

    /// The end of each block, in tokens: B, 2B, …, the cap.
    pub fn block_ends(&self, max_len: usize) -> Vec<usize> {
        let b = self.block.unwrap_or(max_len).clamp(1, max_len.max(1));
        let mut ends: Vec<usize> = (1..).map(|k| k * b).take_while(|&e| e < max_len).collect();
        ends.push(max_len);
        ends
    }
}

/// What the acceptance ratio needs of one side of a move: the sums over the resampled
/// decisions (t onwards) of log p_ref and log q, and the number of positions of the state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Suffix {
    pub log_ref: f64,
    pub log_q: f64,
    pub positions: usize,
}

impl Suffix {
    /// The suffix from decision `t` of a chain state whose decisions carry these per-decision
    /// log-probabilities (under π_ref and under the proposal); every sampler's state uses it.
    pub fn of(log_ref: &[f64], log_q: &[f64], t: usize) -> Suffix {
        Suffix { log_ref: log_ref[t..].iter().sum(), log_q: log_q[t..].iter().sum(), positions: log_ref.len() }
    }
}

/// log of the Metropolis–Hastings ratio for moving from `current` to `proposed` by resampling
/// the same position: α·Δlog π_ref + the reverse proposal over the forward one, the position
/// choice (1/n) included.
pub fn log_acceptance(alpha: f64, current: &Suffix, proposed: &Suffix) -> f64 {
    alpha * (proposed.log_ref - current.log_ref) + (current.log_q - proposed.log_q) + (current.positions as f64).ln()
        - (proposed.positions as f64).ln()
}

/// A chain state: the tokens and, per decision, log p_ref and log q.
#[derive(Debug, Clone, Default)]
struct State {
    tokens: Vec<u32>,
    /// Whether the stop decision is part of the state (a complete response).
    stopped: bool,
    log_ref: Vec<f64>,
    log_q: Vec<f64>,
}

impl State {
    fn positions(&self) -> usize {
        self.log_ref.len()
    }
    fn suffix(&self, t: usize) -> Suffix {
        Suffix::of(&self.log_ref, &self.log_q, t)
    }
    /// Keep decisions 0..t (all tokens, since t ≤ number of tokens).
    fn truncate_from(&mut self, src: &State, t: usize) {
        self.tokens.clear();
        self.tokens.extend_from_slice(&src.tokens[..t]);
        self.log_ref.clear();
        self.log_ref.extend_from_slice(&src.log_ref[..t]);
        self.log_q.clear();
        self.log_q.extend_from_slice(&src.log_q[..t]);
        self.stopped = false;
    }
}

/// Scratch buffers and counters of one chain.
struct Walker<'m, M: Autoregressive + ?Sized> {
    model: &'m M,
    sampler: PowerSampler,
    p: Vec<f64>,
    q: Vec<f64>,
    forward_tokens: usize,
}

impl<M: Autoregressive + ?Sized> Walker<'_, M> {
    /// Draw decisions from q after `s`'s tokens until a stop or `end` tokens.
    fn extend(&mut self, s: &mut State, end: usize, rng: &mut impl Rng) {
        let (cap, vocab) = (self.model.max_len(), self.model.vocab());
        loop {
            if s.stopped {
                return;
            }
            if s.tokens.len() == cap {
                // The cap stops with certainty under every law: a decision of log-probability 0.
                s.log_ref.push(0.0);
                s.log_q.push(0.0);
                s.stopped = true;
                return;
            }
            if s.tokens.len() >= end {
                return;
            }
            // p[vocab] is EOS.
            self.p[vocab] = self.model.next_log_probs(&s.tokens, &mut self.p[..vocab]);
            self.forward_tokens += 1;
            match self.sampler.proposal {
                Proposal::Base => self.q.copy_from_slice(&self.p),
                Proposal::Temperature => {
                    let alpha = self.sampler.alpha;
                    self.q.iter_mut().zip(&self.p).for_each(|(q, &p)| *q = pow_log(alpha, p));
                    let z = logsumexp(&self.q);
                    self.q.iter_mut().for_each(|q| *q -= z);
                }
            }
            let choice = draw(&self.q, rng);
            s.log_ref.push(self.p[choice]);
            s.log_q.push(self.q[choice]);
            if choice == vocab {
                s.stopped = true;
            } else {
                s.tokens.push(choice as u32);
            }
        }
    }
}

/// Inverse-CDF draw from log-probabilities; rounding never selects an impossible entry.
fn draw(log_q: &[f64], rng: &mut impl Rng) -> usize {
    let mut u: f64 = rng.gen();
    let mut last = 0;
    for (i, &l) in log_q.iter().enumerate() {
        if l == f64::NEG_INFINITY {
            continue;
        }
        let p = l.exp();
        if u < p {
            return i;
        }
        u -= p;
        last = i;
    }
    last
}

/// One chain's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Draw {
    /// The complete response (it stopped by EOS, or at the cap).
    pub tokens: Vec<u32>,
    pub proposed: usize,
    pub accepted: usize,
    /// Next-token evaluations: the forward tokens an LLM pays with the kept prefix's KV cache.
    pub forward_tokens: usize,
}

/// Run one chain with its own random stream: an initial draw from q, then K moves per block.
pub fn run_chain<M: Autoregressive + ?Sized>(model: &M, sampler: &PowerSampler, rng: &mut impl Rng) -> Draw {
    let vocab = model.vocab();
    let mut w =
        Walker { model, sampler: *sampler, p: vec![0.0; vocab + 1], q: vec![0.0; vocab + 1], forward_tokens: 0 };
    let (mut cur, mut prop) = (State::default(), State::default());
    let (mut proposed, mut accepted) = (0, 0);
    if model.max_len() == 0 {
        // Only the empty response exists.
        return Draw { tokens: Vec::new(), proposed, accepted, forward_tokens: 0 };
    }
    for end in sampler.block_ends(model.max_len()) {
        w.extend(&mut cur, end, rng);
        for _ in 0..sampler.steps {
            let t = rng.gen_range(0..cur.positions());
            prop.truncate_from(&cur, t);
            w.extend(&mut prop, end, rng);
            let log_a = log_acceptance(sampler.alpha, &cur.suffix(t), &prop.suffix(t));
            proposed += 1;
            // ln u < log A with u ∈ [0, 1): accepts with probability min(1, A); NaN never accepts.
            if log_a >= 0.0 || rng.gen::<f64>().ln() < log_a {
                std::mem::swap(&mut cur, &mut prop);
                accepted += 1;
            }
        }
    }
    Draw { tokens: cur.tokens, proposed, accepted, forward_tokens: w.forward_tokens }
}

/// The random stream of chain `index`: stream `index` of ChaCha8 seeded with `seed`, so a
/// chain's draws depend on (seed, index) only, not on the threads.
pub fn chain_rng(seed: u64, index: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index as u64);
    rng
}

/// `samples` independent chains on up to `threads` threads, in chain order.
pub fn sample_many<M: Autoregressive + ?Sized>(
    model: &M,
    sampler: &PowerSampler,
    samples: usize,
    seed: u64,
    threads: usize,
) -> Vec<Draw> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<Draw>>> = Mutex::new(vec![None; samples]);
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, samples.max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= samples {
                    break;
                }
                let d = run_chain(model, sampler, &mut chain_rng(seed, i));
                out.lock().expect("no thread panicked while holding the lock")[i] = Some(d);
            });
        }
    });
    out.into_inner().expect("threads joined").into_iter().map(|d| d.expect("every chain ran")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_ends_cover_the_cap() {
        let s = |b| PowerSampler::new(2.0, Proposal::Temperature, 1, b).unwrap();
        assert_eq!(s(None).block_ends(8), vec![8]);
        assert_eq!(s(Some(3)).block_ends(8), vec![3, 6, 8]);
        assert_eq!(s(Some(4)).block_ends(8), vec![4, 8]);
        assert_eq!(s(Some(20)).block_ends(8), vec![8]);
        assert!(PowerSampler::new(2.0, Proposal::Base, 1, Some(0)).is_err());
        assert!(PowerSampler::new(-1.0, Proposal::Base, 1, None).is_err());
        assert!(PowerSampler::new(f64::NAN, Proposal::Base, 1, None).is_err());
    }

    #[test]
    fn acceptance_is_one_when_the_proposal_is_the_target() {
        // At α = 1 with q = π_ref and equal lengths the ratio is exactly 1.
        let a = Suffix { log_ref: -1.5, log_q: -1.5, positions: 4 };
        let b = Suffix { log_ref: -0.7, log_q: -0.7, positions: 4 };
        assert_eq!(log_acceptance(1.0, &a, &b), 0.0);
        // The position choice: a longer proposal (more positions) is picked back less often.
        let c = Suffix { positions: 8, ..b };
        assert!((log_acceptance(1.0, &a, &c) - (0.5f64).ln()).abs() < 1e-15);
    }

    #[test]
    fn draw_skips_impossible_entries() {
        let mut rng = chain_rng(0, 0);
        let lq = [f64::NEG_INFINITY, 0.0, f64::NEG_INFINITY];
        assert!((0..100).all(|_| draw(&lq, &mut rng) == 1));
    }
}
