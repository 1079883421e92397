//! Exact computations over the tree, in log-space: forward (prefix probabilities), the target
//! of any [`Regime`], backward (subtree partition functions, hence token conditionals), and
//! the summaries of a distribution over complete sequences.
//!
//! The DP state is the prefix. A prefix fixes its length, so the target weight of the
//! sequence stopping there, π_ref(y)·exp((α−1)·N(y) + β⁻¹·r(y)), is known at the node for
//! every normalisation — `sum`, `mean` (S/L) and `weighted_mean` (S/L^w) alike — although only
//! with `sum` does it factorise over tokens (see [`super::power`]).

use super::model::{Policy, Tree};
use crate::bandit::ARGMAX_TOL;
use crate::regime::{Mode, Regime};
use serde::Serialize;
use std::collections::BTreeMap;

/// log q(prefix n) for every node under token conditionals `policy` (forward recursion).
pub fn prefix_log_probs(tree: &Tree, policy: &Policy) -> Vec<f64> {
    let mut lp = vec![f64::NEG_INFINITY; tree.len()];
    lp[0] = 0.0;
    for n in 0..tree.len() {
        let here = lp[n];
        for c in tree.children(n) {
            lp[c] = here + policy.log_edge[c];
        }
    }
    lp
}

/// log q(y) of the complete sequence stopping at each node (−∞ where none stops).
pub fn sequence_log_probs(tree: &Tree, policy: &Policy) -> Vec<f64> {
    let mut lp = prefix_log_probs(tree, policy);
    for (n, x) in lp.iter_mut().enumerate() {
        *x = if tree.is_terminal(n) { *x + policy.log_stop[n] } else { f64::NEG_INFINITY };
    }
    lp
}

/// log of the regime's unnormalised target weight of each complete sequence (−∞ elsewhere).
/// Sampling mode: the Gibbs weight π_ref·exp((α−1)N + β⁻¹r). Optimization and none: π_ref
/// restricted to the argmax of the regime's score — the maximiser nearest π_ref, as for bandits.
pub fn target_log_weights(tree: &Tree, regime: &Regime) -> Vec<f64> {
    let log_ref = sequence_log_probs(tree, tree.base());
    let score = |n: usize| regime.log_target_weight(tree.reward(n), log_ref[n], tree.depth(n));
    let terminals = || (0..tree.len()).filter(|&n| log_ref[n] > f64::NEG_INFINITY);
    if regime.mode == Mode::Sampling {
        let mut w = vec![f64::NEG_INFINITY; tree.len()];
        terminals().for_each(|n| w[n] = score(n));
        return w;
    }
    let best = terminals().map(score).fold(f64::NEG_INFINITY, f64::max);
    let tol = ARGMAX_TOL * best.abs().max(1.0);
    let mut w = vec![f64::NEG_INFINITY; tree.len()];
    for n in terminals() {
        let s = score(n);
        if s >= best - tol || s == best {
            w[n] = log_ref[n];
        }
    }
    w
}

/// log Z(n) = log Σ of `log_w` over the complete sequences that extend prefix n (backward).
pub fn subtree_log_partition(tree: &Tree, log_w: &[f64]) -> Vec<f64> {
    let mut z = vec![f64::NEG_INFINITY; tree.len()];
    for n in (0..tree.len()).rev() {
        let kids = tree.children(n);
        let m = z[kids.clone()].iter().copied().fold(log_w[n], f64::max);
        if m == f64::NEG_INFINITY {
            continue;
        }
        let s = (log_w[n] - m).exp() + z[kids].iter().map(|x| (x - m).exp()).sum::<f64>();
        z[n] = m + s.ln();
    }
    z
}

/// A regime's exact target on a tree: its weights, partition functions and distribution.
#[derive(Debug, Clone)]
pub struct Target {
    /// Unnormalised log-weight of each complete sequence.
    pub log_w: Vec<f64>,
    /// log Z(n): the weight of the subtree under each prefix; `log_z[0]` is log Z.
    pub log_z: Vec<f64>,
}

impl Target {
    pub fn new(tree: &Tree, regime: &Regime) -> Self {
        let log_w = target_log_weights(tree, regime);
        let log_z = subtree_log_partition(tree, &log_w);
        Self { log_w, log_z }
    }

    /// log q(y) of each complete sequence.
    pub fn log_q(&self) -> Vec<f64> {
        self.log_w.iter().map(|w| w - self.log_z[0]).collect()
    }

    /// The exact token conditionals q(v | prefix) = Z(prefix·v) / Z(prefix) and
    /// q(stop | prefix) = w(prefix) / Z(prefix); −∞ under prefixes the target never reaches.
    pub fn conditionals(&self, tree: &Tree) -> Policy {
        let mut log_edge = vec![0.0; tree.len()];
        let mut log_stop = vec![f64::NEG_INFINITY; tree.len()];
        for (n, stop) in log_stop.iter_mut().enumerate() {
            let zn = self.log_z[n];
            let reachable = zn > f64::NEG_INFINITY;
            *stop = if reachable { self.log_w[n] - zn } else { f64::NEG_INFINITY };
            for c in tree.children(n) {
                log_edge[c] = if reachable { self.log_z[c] - zn } else { f64::NEG_INFINITY };
            }
        }
        Policy { log_edge, log_stop }
    }
}

/// What the reports and figures show of a distribution over complete sequences.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// P(L = ℓ) for ℓ = 0..=max_len.
    pub length_pmf: Vec<f64>,
    pub mean_length: f64,
    /// E[r]: the expected task reward.
    pub accuracy: f64,
    /// Entropy over complete sequences, in nats.
    pub entropy: f64,
    /// Probability of each answer.
    pub answers: BTreeMap<String, f64>,
}

/// Summarise a distribution given as log q(y) per node.
pub fn summarize(tree: &Tree, log_q: &[f64]) -> Summary {
    let mut length_pmf = vec![0.0; tree.max_len() + 1];
    let mut per_answer = vec![0.0; tree.answers().len()];
    let (mut accuracy, mut entropy) = (0.0, 0.0);
    for (n, &lq) in log_q.iter().enumerate() {
        if lq == f64::NEG_INFINITY {
            continue;
        }
        let q = lq.exp();
        length_pmf[tree.depth(n)] += q;
        per_answer[tree.answer_ids()[n] as usize] += q;
        accuracy += q * tree.reward(n);
        entropy -= q * lq;
    }
    let mean_length = length_pmf.iter().enumerate().map(|(l, p)| l as f64 * p).sum();
    let answers = tree.answers().iter().cloned().zip(per_answer).collect();
    Summary { length_pmf, mean_length, accuracy, entropy, answers }
}

/// E_q[f(n)] over complete sequences.
pub fn expect(log_q: &[f64], f: impl Fn(usize) -> f64) -> f64 {
    log_q.iter().enumerate().filter(|(_, &l)| l > f64::NEG_INFINITY).map(|(n, &l)| l.exp() * f(n)).sum()
}

/// Cov_q(f, g) over complete sequences.
pub fn covariance(log_q: &[f64], f: impl Fn(usize) -> f64, g: impl Fn(usize) -> f64) -> f64 {
    let (mf, mg) = (expect(log_q, &f), expect(log_q, &g));
    expect(log_q, |n| (f(n) - mf) * (g(n) - mg))
}

/// KL(p ‖ q) between two distributions over complete sequences; +∞ if p has mass q lacks.
/// Rounding can push the sum of an exact zero to −1e−16; it is reported as 0 (KL ≥ 0).
pub fn kl(log_p: &[f64], log_q: &[f64]) -> f64 {
    let k: f64 = log_p
        .iter()
        .zip(log_q)
        .filter(|(&a, _)| a > f64::NEG_INFINITY)
        .map(|(&a, &b)| if b > f64::NEG_INFINITY { a.exp() * (a - b) } else { f64::INFINITY })
        .sum();
    k.max(0.0)
}
