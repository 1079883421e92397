//! Scoring a step's rollouts: each Group is the K responses to one prompt. Every response gets
//! its task reward r, its reference log-likelihood S, its own log-likelihood P and length L; the
//! Regime turns them into the reward (docs/design.md §1) and the group into leave-one-out advantages.
//! The r the Regime sees is the task reward or, by the `reward` key, a self-reward
//! (docs/design.md §1a): the response's self-certainty, its negative mean token entropy, or its
//! Group's majority pseudo-label.
//! Each token also gets its truncated importance weight (the authors' off-policy correction for
//! the gap between the sampler's and the trainer's log-probs).

use crate::rollout::{Rollout, StopReason};
use sharpen_toy::regime::Scores;
use sharpen_toy::rloo::leave_one_out;
use sharpen_toy::selfreward::{majority_labels, response_means};
use sharpen_toy::{Regime, RewardSource};

/// One response with everything the policy gradient and the run log need.
#[derive(Debug, Clone)]
pub struct ScoredRollout {
    pub rollout: Rollout,
    /// `scores.task` is the r the Regime saw: the task reward or the self-reward standing in for it.
    pub scores: Scores,
    /// The task's verdict (what accuracy counts), whatever the reward source.
    pub task_reward: f64,
    /// The self-reward quantities of the response, where they were computed.
    pub self_rewards: SelfRewards,
    /// The regime's reward.
    pub reward: f64,
    /// Leave-one-out advantage within its group.
    pub advantage: f64,
    /// Per response token, the factor its loss is weighted by: the truncated importance ratio
    /// (see [`importance_weights`]), or empty when the correction is off (every factor 1).
    pub token_weights: Vec<f64>,
}

impl ScoredRollout {
    pub fn length(&self) -> usize {
        self.rollout.tokens.len()
    }
    pub fn hit_cap(&self) -> bool {
        self.rollout.stop == StopReason::Length
    }
}

/// Score rollouts that come grouped by prompt (K consecutive rollouts per prompt).
/// `task[i]`, `ref_logprob[i]` (S) and `policy_logprob[i]` (P) belong to `rollouts[i]`.
pub fn score_groups(
    rollouts: Vec<Rollout>,
    task: &[f64],
    ref_logprob: &[f64],
    policy_logprob: &[f64],
    regime: &Regime,
    k: usize,
) -> Vec<ScoredRollout> {
    assert!(k > 0 && rollouts.len() % k == 0, "rollouts must come in groups of {k}");
    let mut out: Vec<ScoredRollout> = rollouts
        .into_iter()
        .enumerate()
        .map(|(i, rollout)| {
            let scores = Scores {
                task: task[i],
                ref_logprob: ref_logprob[i],
                policy_logprob: policy_logprob[i],
                length: rollout.tokens.len(),
            };
            ScoredRollout {
                reward: regime.reward(&scores),
                scores,
                rollout,
                task_reward: task[i],
                self_rewards: SelfRewards::default(),
                advantage: 0.0,
                token_weights: vec![],
            }
        })
        .collect();
    for group in out.chunks_mut(k) {
        let rewards: Vec<f64> = group.iter().map(|s| s.reward).collect();
        for (s, a) in group.iter_mut().zip(leave_one_out(&rewards)) {
            s.advantage = a;
        }
    }
    out
}

/// One response's self-reward quantities (None where not computed: the distribution ones need
/// the trainer's forward pass of the policy, the majority one a task that reads answers).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SelfRewards {
    /// Mean over response positions of KL(U ‖ π(·|y<t)), U uniform over the vocabulary.
    pub self_certainty: Option<f64>,
    /// Mean over response positions of H(π(·|y<t)), in nats.
    pub entropy: Option<f64>,
    /// The Group's majority pseudo-label: 1 for the most common answer (1/t when t answers tie),
    /// 0 for any other answer and for no answer.
    pub majority: Option<f64>,
    /// The task reward of the Group's majority answer (the Group's maj@K): the mean verdict of
    /// the responses that cast the winning votes, averaged over tied answers; 0 without answers.
    pub group_majority_accuracy: Option<f64>,
}

impl SelfRewards {
    /// Per-position (KL(U ‖ π), H(π)) → the response's means; majority fields unset.
    pub fn from_positions(stats: &[(f64, f64)]) -> Self {
        let (sc, h) = response_means(stats);
        SelfRewards { self_certainty: Some(sc), entropy: Some(h), ..Default::default() }
    }

    /// The r this response hands the Regime under `source` (`task` its task reward). Err when
    /// the source's quantity was not computed.
    pub fn reward(&self, source: RewardSource, task: f64) -> anyhow::Result<f64> {
        let missing = || anyhow::anyhow!("reward = {source}: the quantity was not computed");
        match source {
            RewardSource::Task => Ok(task),
            RewardSource::SelfCertainty => self.self_certainty.ok_or_else(missing),
            RewardSource::NegEntropy => self.entropy.map(|h| -h).ok_or_else(missing),
            RewardSource::Majority => self.majority.ok_or_else(missing),
        }
    }
}

/// Fill in the majority pseudo-labels and each Group's maj@K from answers already grouped by
/// equivalence (`answers[i]` of response i, K consecutive responses per Group).
pub fn set_majority(self_rewards: &mut [SelfRewards], answers: &[Option<String>], task: &[f64], k: usize) {
    for ((sr, a), t) in self_rewards.chunks_mut(k).zip(answers.chunks(k)).zip(task.chunks(k)) {
        let labels = majority_labels(a);
        let votes: f64 = labels.iter().sum();
        let maj = if votes > 0.0 { labels.iter().zip(t).map(|(l, r)| l * r).sum::<f64>() / votes } else { 0.0 };
        for (s, l) in sr.iter_mut().zip(labels) {
            s.majority = Some(l);
            s.group_majority_accuracy = Some(maj);
        }
    }
}

/// The authors' truncated importance sampling ("tis"): per token,
/// min(exp(P_trainer − P_sampler), cap), where a non-finite ratio counts as 0 (their
/// `nan_to_num(nan=0, posinf=0, neginf=0)` before the clamp). A constant in the gradient.
pub fn importance_weights(trainer: &[f32], sampler: &[f32], cap: f64) -> Vec<f64> {
    trainer
        .iter()
        .zip(sampler)
        .map(|(&t, &s)| {
            let w = (f64::from(t) - f64::from(s)).exp();
            if w.is_finite() {
                w.min(cap)
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::importance_weights;

    #[test]
    fn importance_weights_are_truncated_ratios() {
        let w = importance_weights(&[-1.0, -0.5, 0.0, -1.0, f32::NAN], &[-1.0, -1.0, -10.0, -0.5, -1.0], 20.0);
        assert_eq!(w[0], 1.0);
        assert!((w[1] - 0.5f64.exp()).abs() < 1e-12, "trainer above the sampler: weight above 1");
        assert_eq!(w[2], 20.0, "capped");
        assert!((w[3] - (-0.5f64).exp()).abs() < 1e-12);
        assert_eq!(w[4], 0.0, "NaN counts as 0");
    }
}
