//! Scoring a step's rollouts: each Group is the K responses to one prompt. Every response gets
//! its task reward r, its reference log-likelihood S, its own log-likelihood P and length L; the
//! Regime turns them into the reward (DESIGN §1) and the group into leave-one-out advantages.

use crate::rollout::{Rollout, StopReason};
use sharpen_toy::regime::Scores;
use sharpen_toy::rloo::leave_one_out;
use sharpen_toy::Regime;

/// One response with everything the policy gradient and the run log need.
#[derive(Debug, Clone)]
pub struct ScoredRollout {
    pub rollout: Rollout,
    pub scores: Scores,
    /// The regime's reward.
    pub reward: f64,
    /// Leave-one-out advantage within its group.
    pub advantage: f64,
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
/// `task[i]` and `ref_logprob[i]` belong to `rollouts[i]`.
pub fn score_groups(
    rollouts: Vec<Rollout>,
    task: &[f64],
    ref_logprob: &[f64],
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
                policy_logprob: rollout.logprobs.iter().map(|&x| x as f64).sum(),
                length: rollout.tokens.len(),
            };
            ScoredRollout { reward: regime.reward(&scores), scores, rollout, advantage: 0.0 }
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
