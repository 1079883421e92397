//! The trainer's estimator on a tabular policy: K rollouts per prompt, the regime's reward with
//! P = log π_θ(y) held constant, leave-one-out advantages, and the surrogate gradient
//! Σ_i A_i ∇log π(y_i) divided by the number of rollouts (sequence-level loss) or by the number
//! of tokens in the batch (token-level loss, the paper's setting).

use super::bandit_policy::TabularBandit;
use crate::error::ToyError;
use crate::logspace::softmax;
use crate::rloo::leave_one_out;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossAggregation {
    /// Σ_i A_i Σ_t ∇log π(y_it) / Σ_i L_i over the whole batch (the paper's token-level loss).
    Token,
    /// Σ_i A_i ∇log π(y_i) / (number of rollouts): unbiased for G(θ).
    Sequence,
}

impl FromStr for LossAggregation {
    type Err = ToyError;
    fn from_str(s: &str) -> Result<Self, ToyError> {
        match s {
            "token" => Ok(Self::Token),
            "sequence" => Ok(Self::Sequence),
            _ => Err(ToyError::UnknownName { what: "loss aggregation", got: s.into(), expected: "token, sequence" }),
        }
    }
}

/// One sampled response with everything its reward is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    /// Index of the response (in a tree: of the complete sequence).
    pub response: usize,
    pub task: f64,
    pub ref_logprob: f64,
    pub policy_logprob: f64,
    pub length: usize,
    /// The objective's reward, with P = `policy_logprob`.
    pub reward: f64,
}

/// K rollouts of one prompt and their leave-one-out advantages.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub rollouts: Vec<Rollout>,
    pub advantages: Vec<f64>,
}

impl Group {
    pub fn new(rollouts: Vec<Rollout>) -> Self {
        let rewards: Vec<f64> = rollouts.iter().map(|r| r.reward).collect();
        Self { advantages: leave_one_out(&rewards), rollouts }
    }
}

/// Inverse-CDF draw from a categorical distribution (one uniform per draw, so the stream of
/// draws is fixed by the seed).
pub fn sample_categorical(p: &[f64], rng: &mut impl Rng) -> usize {
    let u: f64 = rng.gen();
    let mut acc = 0.0;
    for (i, &q) in p.iter().enumerate() {
        acc += q;
        if u < acc {
            return i;
        }
    }
    // Rounding left Σp slightly below u: the last response with mass.
    p.iter().rposition(|&q| q > 0.0).unwrap_or(p.len() - 1)
}

/// What the trainer needs from a tabular policy: its parameters are offsets δ added to the
/// reference logits (so that weight decay pulls toward π_ref, not toward a uniform policy).
pub trait Trainable: Sync {
    fn num_params(&self) -> usize;
    /// Sample `k` rollouts at parameters δ, rewards included.
    fn sample(&self, delta: &[f64], k: usize, rng: &mut rand_chacha::ChaCha8Rng) -> Vec<Rollout>;
    /// grad += weight · ∇_δ log π_δ(rollout).
    fn add_score(&self, delta: &[f64], rollout: &Rollout, weight: f64, grad: &mut [f64]);
    /// Exact accuracy, expected length, entropy (nats) and the most likely response at δ.
    fn exact(&self, delta: &[f64]) -> ExactState;
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ExactState {
    pub accuracy: f64,
    pub expected_length: f64,
    pub entropy: f64,
    /// The most likely response and its probability.
    pub mode: usize,
    pub mode_prob: f64,
    /// J = E_π[r] with P = log π (NaN on a tree trained on a self-reward, where it is not computed).
    pub objective: f64,
}

/// The surrogate's ascent direction Σ A ∇log π / normaliser for a batch of groups.
pub fn surrogate_gradient(model: &impl Trainable, delta: &[f64], groups: &[Group], agg: LossAggregation) -> Vec<f64> {
    let mut grad = vec![0.0; model.num_params()];
    let normaliser: f64 = match agg {
        LossAggregation::Sequence => groups.iter().map(|g| g.rollouts.len()).sum::<usize>() as f64,
        LossAggregation::Token => {
            groups.iter().flat_map(|g| &g.rollouts).map(|r| r.length.max(1)).sum::<usize>() as f64
        }
    };
    for g in groups {
        for (r, &a) in g.rollouts.iter().zip(&g.advantages) {
            if a != 0.0 {
                model.add_score(delta, r, a / normaliser, &mut grad);
            }
        }
    }
    grad
}

impl TabularBandit {
    fn logits(&self, delta: &[f64]) -> Vec<f64> {
        self.bandit().log_ref().iter().zip(delta).map(|(s, d)| s + d).collect()
    }
}

impl Trainable for TabularBandit {
    fn num_params(&self) -> usize {
        self.len()
    }

    fn sample(&self, delta: &[f64], k: usize, rng: &mut rand_chacha::ChaCha8Rng) -> Vec<Rollout> {
        let (pi, log_z) = softmax(&self.logits(delta));
        let theta = self.logits(delta);
        (0..k)
            .map(|_| {
                let y = sample_categorical(&pi, rng);
                let resp = &self.bandit().responses()[y];
                let p = theta[y] - log_z;
                Rollout {
                    response: y,
                    task: resp.reward,
                    ref_logprob: self.bandit().log_ref()[y],
                    policy_logprob: p,
                    length: resp.length,
                    reward: self.reward_of(y, p),
                }
            })
            .collect()
    }

    fn add_score(&self, delta: &[f64], rollout: &Rollout, weight: f64, grad: &mut [f64]) {
        // ∇_θ log π(y) = e_y − π.
        let pi = self.policy(&self.logits(delta));
        for (g, p) in grad.iter_mut().zip(&pi) {
            *g -= weight * p;
        }
        grad[rollout.response] += weight;
    }

    fn exact(&self, delta: &[f64]) -> ExactState {
        let theta = self.logits(delta);
        let pi = self.policy(&theta);
        let mode = (0..pi.len()).max_by(|&a, &b| pi[a].total_cmp(&pi[b]).then(b.cmp(&a))).unwrap_or(0);
        ExactState {
            accuracy: self.accuracy(&pi),
            expected_length: self.expected_length(&pi),
            entropy: self.entropy(&pi),
            mode,
            mode_prob: pi[mode],
            objective: self.objective_value(&theta),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::objective::Objective;
    use crate::problems::many_paths;
    use crate::regime::Regime;
    use rand::SeedableRng;

    /// The average of many sampled RLOO gradients (sequence-level loss) converges to the
    /// closed-form G(θ). Tolerance: every coordinate within 5 standard errors of the sample
    /// mean (computed from the same draws), fixed seed.
    #[test]
    fn sampled_rloo_gradient_averages_to_the_closed_form() {
        let objectives: [Objective; 4] = [
            Regime::task_reward().into(),
            Regime::sharpening().into(),
            Regime::tempered(2.0).unwrap().into(),
            Objective::SelfCertainty,
        ];
        for o in objectives {
            let m = TabularBandit::new(many_paths(), o).unwrap();
            let delta: Vec<f64> = (0..m.len()).map(|i| 0.2 * ((i % 3) as f64 - 1.0)).collect();
            let theta: Vec<f64> = m.bandit().log_ref().iter().zip(&delta).map(|(a, b)| a + b).collect();
            let exact = m.expected_gradient(&theta);
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
            let n = 40_000;
            let (mut sum, mut sq) = (vec![0.0; m.len()], vec![0.0; m.len()]);
            for _ in 0..n {
                let g = Group::new(m.sample(&delta, 4, &mut rng));
                let est = surrogate_gradient(&m, &delta, &[g], LossAggregation::Sequence);
                for i in 0..m.len() {
                    sum[i] += est[i];
                    sq[i] += est[i] * est[i];
                }
            }
            for i in 0..m.len() {
                let mean = sum[i] / n as f64;
                let se = ((sq[i] / n as f64 - mean * mean) / n as f64).sqrt();
                assert!((mean - exact[i]).abs() < 5.0 * se + 1e-12, "{o} coord {i}: {mean} vs {} (se {se})", exact[i]);
            }
        }
    }

    #[test]
    fn token_level_with_equal_lengths_is_sequence_level_over_l() {
        let b = crate::bandit::Bandit::from_log_weights(
            &[0.0, -0.5, -1.0],
            &[1.0, 0.0, 0.0],
            &[5, 5, 5],
            &["a".into(), "b".into(), "c".into()],
        )
        .unwrap();
        let m = TabularBandit::new(b, Regime::sharpening().into()).unwrap();
        let delta = vec![0.0; 3];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let groups = vec![Group::new(m.sample(&delta, 6, &mut rng)), Group::new(m.sample(&delta, 6, &mut rng))];
        let seq = surrogate_gradient(&m, &delta, &groups, LossAggregation::Sequence);
        let tok = surrogate_gradient(&m, &delta, &groups, LossAggregation::Token);
        for (s, t) in seq.iter().zip(&tok) {
            assert!((s / 5.0 - t).abs() < 1e-15);
        }
        assert!(seq.iter().any(|x| x.abs() > 1e-6), "a non-trivial batch");
    }

    #[test]
    fn categorical_sampling_frequencies() {
        let p = [0.5, 0.0, 0.3, 0.2];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut counts = [0usize; 4];
        for _ in 0..100_000 {
            counts[sample_categorical(&p, &mut rng)] += 1;
        }
        assert_eq!(counts[1], 0);
        for i in [0, 2, 3] {
            let f = counts[i] as f64 / 1e5;
            assert!((f - p[i]).abs() < 5.0 * (p[i] * (1.0 - p[i]) / 1e5).sqrt(), "{i}: {f}");
        }
    }
}
