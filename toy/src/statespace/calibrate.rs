//! A bridge to a real model (issue 14, item 5): from samples of the model, estimate the
//! per-position stop hazard h_t and the per-token entropy H_t, fit the closest state-space
//! model, and predict the length law of π_ref^α and the critical α*.
//!
//! The fitted model has one running state whose law at position t stops with h_t and otherwise
//! draws from n_t tokens: n_t − 1 of one probability and one of another, chosen so that the
//! token entropy is exactly H_t (n_t = ⌈e^{H_t}⌉). Where fewer than `min_count` samples are at
//! risk, the tail is pooled and treated as stationary.
//!
//! Where the approximation fails, honestly:
//! * π_ref^α weighs the tokens by Σ_v p_v^α — a Rényi entropy of order α — while the fit only
//!   matches the Shannon entropy (exact for uniform tokens). Rényi tends to Shannon as α → 1,
//!   so the error in α* is second order in 1 − α* (Zipf 1.1 tokens, V = 1000: α* 0.9784, fit
//!   0.9781); it grows for laws far from uniform and for predictions at α far from 1.
//!   [`Prediction::alpha_star_sampled`] estimates Σ u^α from the sampled tokens instead.
//! * The state is the position only: a real model's hazard depends on the content (an answer
//!   given, a loop entered). Mixtures of behaviours (short answers vs runaway loops) are
//!   averaged into one hazard curve, which misses that π^α picks the behaviour, not the length.
//! * Estimates come from samples: the hazard beyond the longest samples is extrapolated from the
//!   pooled tail, and samples drawn at a temperature other than 1 measure the sampler, not π_ref.

use super::dp::aggregate;
use super::model::{Group, Law, State, StateModel};
use super::theory::Solver;
use crate::error::ToyError;
use crate::logspace::logsumexp;
use crate::regime::Regime;
use serde::Serialize;

/// One sampled response: its length (EOS not counted), whether it ended with EOS (else it hit
/// the cap), and log π(token | prefix) of each of its `length` ordinary tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub length: usize,
    pub eos: bool,
    pub token_logprobs: Vec<f64>,
}

/// Per-position estimates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub max_len: usize,
    /// Samples that had to choose at position t (stop or go on).
    pub at_risk: Vec<usize>,
    pub stops: Vec<usize>,
    /// h_t, pooled over the tail where `at_risk` < min_count.
    pub hazard: Vec<f64>,
    /// H_t: entropy (nats) of the next-token law given no stop: E[−log p(y_t)] + log(1 − h_t).
    pub entropy: Vec<f64>,
    /// First position of the pooled tail.
    pub tail_from: usize,
    /// log u(y) = log π(y) − log(1 − h) of every token sampled in the tail (for Σ u^α).
    #[serde(skip)]
    pub tail_token_log_u: Vec<f64>,
}

/// Estimate h_t and H_t for t < max_len.
pub fn profile(samples: &[Sample], max_len: usize, min_count: usize) -> Result<Profile, ToyError> {
    if samples.is_empty() {
        return Err(ToyError::Invalid("no samples to calibrate from".into()));
    }
    if max_len == 0 || max_len > crate::tree::families::MAX_LEN {
        return Err(ToyError::Invalid(format!(
            "max_len must lie in 1..={}, got {max_len}",
            crate::tree::families::MAX_LEN
        )));
    }
    let (mut at_risk, mut stops) = (vec![0usize; max_len], vec![0usize; max_len]);
    let (mut surprisal, mut seen) = (vec![0.0f64; max_len], vec![0usize; max_len]);
    for (i, s) in samples.iter().enumerate() {
        if s.length > max_len || (s.length == max_len && s.eos) || s.token_logprobs.len() != s.length {
            return Err(ToyError::Invalid(format!(
                "sample {i}: length {} (eos: {}) with {} token log-probs does not fit the cap {max_len}",
                s.length,
                s.eos,
                s.token_logprobs.len()
            )));
        }
        for (t, &lp) in s.token_logprobs.iter().enumerate() {
            if !(lp.is_finite() && lp <= 0.0) {
                return Err(ToyError::Invalid(format!("sample {i}: token {t} has log-probability {lp}")));
            }
            at_risk[t] += 1;
            surprisal[t] -= lp;
            seen[t] += 1;
        }
        if s.eos {
            at_risk[s.length] += 1;
            stops[s.length] += 1;
        }
    }
    let min_count = min_count.max(1);
    let tail_from = (0..max_len).find(|&t| at_risk[t] < min_count).unwrap_or(max_len);
    let pooled = |from: usize| {
        let (n, d): (usize, usize) =
            (from..max_len).map(|t| (at_risk[t], stops[t])).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        let (k, h): (usize, f64) =
            (from..max_len).map(|t| (seen[t], surprisal[t])).fold((0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
        (if n > 0 { Some(d as f64 / n as f64) } else { None }, if k > 0 { Some(h / k as f64) } else { None })
    };
    let (tail_h, tail_s) = pooled(tail_from);
    // An empty tail (every sample shorter than it) borrows the last estimated position.
    let (tail_h, tail_s) = match (tail_h, tail_s, tail_from) {
        (Some(h), Some(s), _) => (h, s),
        (h, s, t) if t > 0 => {
            let (ph, ps) = pooled(t - 1);
            (h.or(ph).unwrap_or(1.0), s.or(ps).unwrap_or(0.0))
        }
        (h, s, _) => (h.unwrap_or(1.0), s.unwrap_or(0.0)),
    };
    let mut hazard = vec![0.0; max_len];
    let mut entropy = vec![0.0; max_len];
    for t in 0..max_len {
        let (h, s) = if t < tail_from {
            let s = if seen[t] > 0 { surprisal[t] / seen[t] as f64 } else { tail_s };
            (stops[t] as f64 / at_risk[t] as f64, s)
        } else {
            (tail_h, tail_s)
        };
        hazard[t] = h;
        entropy[t] = if h < 1.0 { (s + (1.0 - h).ln()).max(0.0) } else { 0.0 };
    }
    let tail_keep = (1.0 - tail_h).ln();
    let tail_token_log_u = samples
        .iter()
        .flat_map(|s| s.token_logprobs.iter().skip(tail_from.min(s.length)))
        .map(|lp| (lp - tail_keep).min(0.0))
        .collect();
    Ok(Profile { max_len, at_risk, stops, hazard, entropy, tail_from, tail_token_log_u })
}

/// Two token probabilities for n tokens: n − 1 at a and one at b ≤ a, with entropy exactly `h`
/// (n = ⌈e^h⌉; bisection on b, entropy increasing in b up to 1/n).
fn entropy_match(h: f64, vocab: usize) -> (usize, f64, f64) {
    let n = (h.exp().ceil() as usize).clamp(1, vocab);
    if n == 1 || h >= (n as f64).ln() {
        return (n, 1.0 / n as f64, 1.0 / n as f64);
    }
    let ent = |b: f64| {
        let a = (1.0 - b) / (n - 1) as f64;
        let eb = if b > 0.0 { -b * b.ln() } else { 0.0 };
        -((n - 1) as f64) * a * a.ln() + eb
    };
    let (mut lo, mut hi) = (0.0, 1.0 / n as f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if ent(mid) < h {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let b = 0.5 * (lo + hi);
    (n, (1.0 - b) / (n - 1) as f64, b)
}

/// The law stopping with `h` and drawing tokens with entropy `ent`.
fn law(h: f64, ent: f64, vocab: usize) -> Law {
    let (n, a, b) = entropy_match(ent, vocab);
    let keep = 1.0 - h;
    let mut groups = Vec::new();
    if keep > 0.0 {
        if n > 1 {
            groups.push(Group { first: 0, count: (n - 1) as u32, log_p: (keep * a).ln(), next: 0 });
        }
        if b > 0.0 {
            groups.push(Group { first: (n - 1) as u32, count: 1, log_p: (keep * b).ln(), next: 0 });
        }
    }
    Law { log_stop: h.ln(), groups }
}

/// The closest state-space model: one running state, the law of position t fitted to (h_t, H_t);
/// equal consecutive laws share one piece.
pub fn fit(p: &Profile, vocab: usize) -> Result<StateModel, ToyError> {
    let mut pieces: Vec<(usize, Law)> = Vec::new();
    let mut last: Option<(f64, f64)> = None;
    for t in 0..p.max_len {
        let key = (p.hazard[t], p.entropy[t]);
        if last != Some(key) {
            pieces.push((t, law(key.0, key.1, vocab)));
            last = Some(key);
        }
    }
    if pieces.is_empty() {
        pieces.push((0, law(1.0, 0.0, vocab)));
    }
    let running = State { name: "running".into(), answer: "—".into(), reward: 0.0, pieces };
    StateModel::new(format!("calibrated L={}", p.max_len), vocab, p.max_len, 0, vec![running], 0)
}

/// What the fitted model predicts for π_ref^α.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    pub alphas: Vec<f64>,
    pub mean_length: Vec<f64>,
    /// P(L = cap) under π_ref^α.
    pub cap_mass: Vec<f64>,
    pub length_pmf: Vec<Vec<f64>>,
    /// The tail's α*: the root of log c(α) = log Σ_v p_tail(v)^α (the weight of one more token
    /// against stopping, as for the geometric family). `None` if it does not cross in (0, 1).
    pub alpha_star: Option<f64>,
    /// The tail's α* without the entropy fit: Σ_v u_v^α = E_{y∼u}[u_y^{α−1}] estimated from the
    /// sampled tail tokens (importance sampling; noisy at small α, where rare tokens weigh most),
    /// so log c(α) = α·log(1 − h) + log mean(u_y^{α−1}). Null without tail tokens or a crossing.
    pub alpha_star_sampled: Option<f64>,
    /// The α at which π_ref^α puts half its mass at the cap. Not α* itself: with a distant cap
    /// and constant laws P(L = cap) → (c − 1)/(c − 1 + h^α) for c(α) > 1, so this is where
    /// c(α) − 1 = h^α, a little below α*.
    pub alpha_half_cap: Option<f64>,
    pub tail_hazard: f64,
    pub tail_entropy: f64,
}

fn bisect(f: impl Fn(f64) -> f64) -> Option<f64> {
    crate::logspace::unit_root(f, 1e-12)
}

pub fn predict(m: &StateModel, p: &Profile, alphas: &[f64]) -> Result<Prediction, ToyError> {
    let solver = Solver::new(m);
    let regimes = alphas.iter().map(|&a| Regime::tempered(a)).collect::<Result<Vec<_>, _>>()?;
    let sums: Vec<_> = regimes.iter().map(|r| solver.solve(r)).collect();
    let tail = m.law(m.max_len.saturating_sub(1), 0).clone();
    let log_c = |a: f64| {
        let steps = aggregate(&tail, a);
        logsumexp(&steps.iter().map(|s| s.log_w).collect::<Vec<_>>())
    };
    let log_cap_minus_rest = |a: f64| {
        let t = solver.target(&Regime::tempered(a).expect("alpha in [0, 1]"));
        let (cap, rest): (Vec<f64>, Vec<f64>) = {
            let cap = t.cells.iter().filter(|c| c.len == m.max_len).map(|c| c.log_mass).collect();
            let rest = t.cells.iter().filter(|c| c.len < m.max_len).map(|c| c.log_mass).collect();
            (cap, rest)
        };
        logsumexp(&cap) - logsumexp(&rest)
    };
    Ok(Prediction {
        alphas: alphas.to_vec(),
        mean_length: sums.iter().map(|s| s.mean_length).collect(),
        cap_mass: sums.iter().map(|s| s.length_pmf[m.max_len]).collect(),
        length_pmf: sums.into_iter().map(|s| s.length_pmf).collect(),
        alpha_star: bisect(log_c),
        alpha_star_sampled: if p.tail_token_log_u.is_empty() {
            None
        } else {
            let keep = (1.0 - p.hazard[p.max_len - 1]).ln();
            let n = (p.tail_token_log_u.len() as f64).ln();
            bisect(|a| {
                let terms: Vec<f64> = p.tail_token_log_u.iter().map(|lu| (a - 1.0) * lu).collect();
                a * keep + logsumexp(&terms) - n
            })
        },
        alpha_half_cap: bisect(log_cap_minus_rest),
        tail_hazard: p.hazard[p.max_len - 1],
        tail_entropy: p.entropy[p.max_len - 1],
    })
}
