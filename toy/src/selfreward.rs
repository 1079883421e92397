//! Self-rewards: reward sources that need no verifier, put beside the paper's task reward so
//! that self-reward methods run inside the same Regime (docs/design.md §1a).
//!
//! * `self_certainty` — the mean over response positions of KL(U ‖ π(·|y<t)), U uniform over the
//!   next-token outcomes ("Learning to Reason without External Rewards", Intuitor): high when
//!   every next-token distribution is far from uniform.
//! * `neg_entropy` — minus the mean over response positions of H(π(·|y<t)) (entropy
//!   minimisation).
//! * `majority` — TTRL's pseudo-label: 1 when the response's answer is the most common answer of
//!   its Group, 0 otherwise and 0 without an answer.
//!
//! Each replaces the task reward r inside the Regime's reward; the Regime's other terms stay.
//! The per-position quantities are of the current policy and are constants in the gradient.

use crate::error::ToyError;
use crate::tree::model::{Policy, Tree};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::str::FromStr;

/// Where the r of the Regime's reward comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RewardSource {
    /// The task's verdict (the paper's r).
    #[default]
    Task,
    SelfCertainty,
    NegEntropy,
    Majority,
}

impl RewardSource {
    pub const ALL: [RewardSource; 4] =
        [RewardSource::Task, RewardSource::SelfCertainty, RewardSource::NegEntropy, RewardSource::Majority];

    pub fn as_str(&self) -> &'static str {
        match self {
            RewardSource::Task => "task",
            RewardSource::SelfCertainty => "self_certainty",
            RewardSource::NegEntropy => "neg_entropy",
            RewardSource::Majority => "majority",
        }
    }

    /// Whether the source reads the policy's next-token distributions.
    pub fn needs_distributions(&self) -> bool {
        matches!(self, RewardSource::SelfCertainty | RewardSource::NegEntropy)
    }
}

impl fmt::Display for RewardSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RewardSource {
    type Err = ToyError;
    fn from_str(s: &str) -> Result<Self, ToyError> {
        Self::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| ToyError::UnknownName {
            what: "reward",
            got: s.into(),
            expected: "task, self_certainty, neg_entropy, majority",
        })
    }
}

/// KL(U ‖ p) and H(p) of one next-token distribution given as log-probabilities over its
/// outcomes: KL(U ‖ p) = −log n − (1/n)·Σ log p_v, H(p) = −Σ p_v log p_v. Outcomes of
/// probability 0 make the KL infinite (a tree leaves them out; see [`tree_position_stats`]).
pub fn position_stats(log_p: &[f64]) -> (f64, f64) {
    let n = log_p.len() as f64;
    let kl = -n.ln() - log_p.iter().sum::<f64>() / n;
    let h = -log_p.iter().filter(|x| x.is_finite()).map(|&x| x.exp() * x).sum::<f64>();
    (kl, h)
}

/// Per-response means over positions of (KL(U ‖ π), H(π)): the self-certainty and the token
/// entropy. A response with no positions has neither: both are 0 (no evidence either way).
pub fn response_means(stats: &[(f64, f64)]) -> (f64, f64) {
    if stats.is_empty() {
        return (0.0, 0.0);
    }
    let n = stats.len() as f64;
    (stats.iter().map(|s| s.0).sum::<f64>() / n, stats.iter().map(|s| s.1).sum::<f64>() / n)
}

/// TTRL's majority pseudo-labels for one Group. The most common answer gets 1 and every other
/// answer 0; a response without an answer gets 0 and casts no vote. When t answers tie for the
/// most votes each gets 1/t — the expectation of breaking the tie uniformly at random, the tie
/// rule of maj@k ([`crate::majority`]) — so the labels are deterministic and the
/// leave-one-out baseline sees no arbitrary order. No answer at all: every label is 0.
pub fn majority_labels<A: Eq + Hash>(answers: &[Option<A>]) -> Vec<f64> {
    let mut votes: HashMap<&A, usize> = HashMap::new();
    for a in answers.iter().flatten() {
        *votes.entry(a).or_default() += 1;
    }
    let best = votes.values().copied().max().unwrap_or(0);
    let tied = votes.values().filter(|&&v| v == best).count();
    answers
        .iter()
        .map(|a| match a {
            Some(a) if votes[a] == best => 1.0 / tied as f64,
            _ => 0.0,
        })
        .collect()
}

/// The (KL(U ‖ π), H(π)) of every position of the complete sequence stopping at `node` under
/// `policy`, root first. A position is a choice between the prefix's children and EOS; at the
/// length cap the sequence stops without a choice, so that stop is no position. U is uniform over
/// the outcomes the tree holds (the tokens of positive base probability, and EOS where the base
/// can stop), so the KL is finite for any policy with full support on them.
pub fn tree_position_stats(tree: &Tree, policy: &Policy, node: usize) -> Vec<(f64, f64)> {
    let mut prefixes = Vec::with_capacity(tree.depth(node) + 1);
    let mut n = node;
    while n != 0 {
        n = tree.parent(n);
        prefixes.push(n);
    }
    prefixes.reverse();
    if tree.depth(node) < tree.max_len() {
        prefixes.push(node);
    }
    prefixes
        .into_iter()
        .map(|m| {
            let mut log_p: Vec<f64> = tree.children(m).map(|c| policy.log_edge[c]).collect();
            if tree.base().log_stop[m] > f64::NEG_INFINITY {
                log_p.push(policy.log_stop[m]);
            }
            position_stats(&log_p)
        })
        .collect()
}

/// The self-reward of the complete sequence stopping at `node` for a distribution-based source:
/// its self-certainty or its negative mean token entropy. `None` for `task` and `majority`,
/// which are not functions of one sequence.
pub fn tree_self_reward(tree: &Tree, policy: &Policy, node: usize, source: RewardSource) -> Option<f64> {
    let (sc, h) = response_means(&tree_position_stats(tree, policy, node));
    match source {
        RewardSource::SelfCertainty => Some(sc),
        RewardSource::NegEntropy => Some(-h),
        RewardSource::Task | RewardSource::Majority => None,
    }
}

/// The rewards the Regime sees for one sampled Group on a tree: the task reward, a sequence's
/// self-certainty or negative entropy under `policy`, or the Group's majority pseudo-labels.
pub fn tree_group_rewards(tree: &Tree, policy: &Policy, group: &[usize], source: RewardSource) -> Vec<f64> {
    match source {
        RewardSource::Task => group.iter().map(|&n| tree.reward(n)).collect(),
        RewardSource::Majority => majority_labels(&group.iter().map(|&n| tree.answer(n)).collect::<Vec<_>>()),
        s => group.iter().map(|&n| tree_self_reward(tree, policy, n, s).expect("a distribution source")).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bad_names_are_one_line() {
        for r in RewardSource::ALL {
            assert_eq!(r.as_str().parse::<RewardSource>().unwrap(), r);
        }
        let e = "entropy".parse::<RewardSource>().unwrap_err().to_string();
        assert!(e.contains("entropy") && !e.contains('\n'), "{e}");
        assert_eq!(RewardSource::default(), RewardSource::Task);
    }

    #[test]
    fn position_stats_by_hand() {
        // p = (1/2, 1/4, 1/4): KL(U‖p) = (1/3)·Σ log((1/3)/p) = −log 3 + (1/3)(log 2 + 2 log 4),
        // H = (1/2) log 2 + 2·(1/4) log 4 = 1.5 log 2.
        let (kl, h) = position_stats(&[0.5f64.ln(), 0.25f64.ln(), 0.25f64.ln()]);
        let l2 = 2f64.ln();
        assert!((kl - (-(3f64.ln()) + (l2 + 4.0 * l2) / 3.0)).abs() < 1e-12);
        assert!((h - 1.5 * l2).abs() < 1e-12);
        // Uniform: KL 0, entropy log n.
        let (kl, h) = position_stats(&[(0.25f64).ln(); 4]);
        assert!(kl.abs() < 1e-12 && (h - 4f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn majority_labels_by_hand() {
        let a = |xs: &[Option<u32>]| majority_labels(xs);
        assert_eq!(a(&[Some(1), Some(2), Some(1), None]), vec![1.0, 0.0, 1.0, 0.0]);
        assert_eq!(a(&[Some(1), Some(2), Some(2), Some(1)]), vec![0.5; 4], "a two-way tie");
        assert_eq!(a(&[None, None]), vec![0.0, 0.0]);
        assert_eq!(a(&[Some(3), None, None, None]), vec![1.0, 0.0, 0.0, 0.0], "abstentions never win");
    }
}
