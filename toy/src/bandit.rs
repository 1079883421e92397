//! Finite response sets ("bandits"): every response has a base probability, a task reward, a
//! length and an answer. Every regime's optimum is computed exactly, in log-space.

use crate::error::ToyError;
use crate::logspace::{logsumexp, mean, softmax};
use crate::majority;
use crate::regime::{Mode, Regime, Scores};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub prob: f64,
    pub reward: f64,
    pub length: usize,
    pub answer: String,
}

/// A validated finite response set with its reference log-probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct Bandit {
    responses: Vec<Response>,
    log_ref: Vec<f64>,
}

/// Everything `sharpen toy solve` reports for one regime.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Solution {
    pub target: Vec<f64>,
    pub expected_reward: f64,
    pub expected_length: f64,
    pub answers: BTreeMap<String, f64>,
    /// Indices of the optimization-mode maximisers (empty in sampling mode).
    pub argmax: Vec<usize>,
}

/// Relative tolerance for ties in optimization-mode scores.
pub(crate) const ARGMAX_TOL: f64 = 1e-9;

impl Bandit {
    /// Validate: non-empty, probabilities finite and ≥ 0 summing to 1 within 1e-6, rewards in [0, 1].
    pub fn new(responses: Vec<Response>) -> Result<Self, ToyError> {
        if responses.is_empty() {
            return Err(ToyError::Empty);
        }
        for (index, r) in responses.iter().enumerate() {
            if !(r.prob.is_finite() && r.prob >= 0.0) {
                return Err(ToyError::BadProb { index, value: r.prob });
            }
            if !(r.reward.is_finite() && (0.0..=1.0).contains(&r.reward)) {
                return Err(ToyError::BadReward { index, value: r.reward });
            }
        }
        let total: f64 = responses.iter().map(|r| r.prob).sum();
        if (total - 1.0).abs() > 1e-6 {
            return Err(ToyError::NotNormalized(total));
        }
        let log_ref = responses.iter().map(|r| (r.prob / total).ln()).collect();
        Ok(Self { responses, log_ref })
    }

    /// Build from unnormalised log-weights (random problems in tests, perturbations in T7d).
    pub fn from_log_weights(
        log_w: &[f64],
        rewards: &[f64],
        lengths: &[usize],
        answers: &[String],
    ) -> Result<Self, ToyError> {
        let (p, _) = softmax(log_w);
        let responses = p
            .iter()
            .zip(rewards)
            .zip(lengths.iter().zip(answers))
            .map(|((&prob, &reward), (&length, answer))| Response { prob, reward, length, answer: answer.clone() })
            .collect();
        Self::new(responses)
    }

    pub fn responses(&self) -> &[Response] {
        &self.responses
    }
    pub fn len(&self) -> usize {
        self.responses.len()
    }
    pub fn is_empty(&self) -> bool {
        self.responses.is_empty()
    }
    /// log π_ref(y) per response (−∞ for zero-probability responses).
    pub fn log_ref(&self) -> &[f64] {
        &self.log_ref
    }
    pub fn base(&self) -> Vec<f64> {
        self.log_ref.iter().map(|x| x.exp()).collect()
    }
    pub fn rewards(&self) -> Vec<f64> {
        self.responses.iter().map(|r| r.reward).collect()
    }
    pub fn lengths(&self) -> Vec<f64> {
        self.responses.iter().map(|r| r.length as f64).collect()
    }

    fn log_weights(&self, regime: &Regime) -> Vec<f64> {
        self.responses
            .iter()
            .zip(&self.log_ref)
            .map(|(r, &s)| regime.log_target_weight(r.reward, s, r.length))
            .collect()
    }

    /// log Z of the sampling-mode target (Z = Σ π_ref·exp((α−1)N + b·r)).
    pub fn log_partition(&self, regime: &Regime) -> f64 {
        logsumexp(&self.log_weights(regime))
    }

    /// Optimization (and none) mode: the responses maximising b·r + α·N (or r). Sampling mode: empty.
    pub fn argmax(&self, regime: &Regime) -> Vec<usize> {
        if regime.mode == Mode::Sampling {
            return Vec::new();
        }
        let scores = self.log_weights(regime);
        let best = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let tol = ARGMAX_TOL * best.abs().max(1.0);
        (0..scores.len()).filter(|&i| scores[i] >= best - tol || scores[i] == best).collect()
    }

    /// The regime's optimum as a distribution. Sampling mode: the Gibbs target. Optimization
    /// mode: π_ref restricted to the argmax set — the maximiser closest to π_ref in KL and the
    /// limit of the tilted targets (uniform on the set if π_ref gives it no mass).
    pub fn target(&self, regime: &Regime) -> Vec<f64> {
        if regime.mode == Mode::Sampling {
            return softmax(&self.log_weights(regime)).0;
        }
        let set = self.argmax(regime);
        let mut log_w = vec![f64::NEG_INFINITY; self.len()];
        let restricted = set.iter().any(|&i| self.log_ref[i] > f64::NEG_INFINITY);
        for &i in &set {
            log_w[i] = if restricted { self.log_ref[i] } else { 0.0 };
        }
        softmax(&log_w).0
    }

    pub fn expected_reward(&self, p: &[f64]) -> f64 {
        mean(p, &self.rewards())
    }
    pub fn expected_length(&self, p: &[f64]) -> f64 {
        mean(p, &self.lengths())
    }

    /// Probability of each answer string under `p`.
    pub fn answer_distribution(&self, p: &[f64]) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for (r, &q) in self.responses.iter().zip(p) {
            *out.entry(r.answer.clone()).or_insert(0.0) += q;
        }
        out
    }

    /// The reward of an answer: the mean reward of the responses that give it (they normally agree).
    pub fn answer_rewards(&self) -> BTreeMap<String, f64> {
        let mut acc: BTreeMap<String, (f64, usize)> = BTreeMap::new();
        for r in &self.responses {
            let e = acc.entry(r.answer.clone()).or_insert((0.0, 0));
            e.0 += r.reward;
            e.1 += 1;
        }
        acc.into_iter().map(|(a, (s, n))| (a, s / n as f64)).collect()
    }

    /// Exact maj@k of `p`: the expected reward of the most frequent answer among k samples,
    /// ties split evenly (see [`majority::maj_at_k`]).
    pub fn maj_at_k(&self, p: &[f64], k: usize) -> f64 {
        let dist = self.answer_distribution(p);
        let rewards = self.answer_rewards();
        let q: Vec<f64> = dist.values().copied().collect();
        let r: Vec<f64> = dist.keys().map(|a| rewards[a]).collect();
        majority::maj_at_k(&q, &r, k)
    }

    /// E_π[regime reward], with P = log π(y): the objective each regime's policy gradient ascends.
    pub fn objective(&self, regime: &Regime, policy: &[f64]) -> f64 {
        self.responses
            .iter()
            .zip(&self.log_ref)
            .zip(policy)
            .filter(|(_, &q)| q > 0.0)
            .map(|((r, &s), &q)| {
                q * regime.reward(&Scores { task: r.reward, ref_logprob: s, policy_logprob: q.ln(), length: r.length })
            })
            .sum()
    }

    pub fn solve(&self, regime: &Regime) -> Solution {
        let target = self.target(regime);
        Solution {
            expected_reward: self.expected_reward(&target),
            expected_length: self.expected_length(&target),
            answers: self.answer_distribution(&target),
            argmax: self.argmax(regime),
            target,
        }
    }
}
