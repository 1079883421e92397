//! Self-rewards on trees against a hand computation straight from the family's next-token rule
//! (no tree involved): per position, the outcome probabilities p(v | prefix)^α renormalised over
//! the outcomes of positive base probability, then KL(U ‖ q) and H(q) by plain loops.

use crate::tree_common;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sharpen_toy::dynamics::estimator::{surrogate_gradient, Group, LossAggregation, Trainable};
use sharpen_toy::dynamics::TabularTree;
use sharpen_toy::selfreward::{majority_labels, tree_group_rewards, tree_self_reward, RewardSource};
use sharpen_toy::tree::dp::sequence_log_probs;
use sharpen_toy::tree::temperature::temperature_conditionals;
use sharpen_toy::tree::{Family, Tree};
use sharpen_toy::Regime;
use std::collections::BTreeMap;
use tree_common::*;

const TOL: f64 = 1e-9;

/// (mean KL(U ‖ q), mean H(q)) over the positions of `tokens` (a complete sequence): every prefix
/// shorter than the cap is a choice among the tokens and EOS.
fn by_hand(f: &dyn Family, alpha: f64, tokens: &[u32]) -> (f64, f64) {
    let mut stats = Vec::new();
    for t in 0..=tokens.len() {
        if t == f.max_len() {
            break;
        }
        let mut probs = vec![0.0; f.vocab()];
        let eos = f.next(&tokens[..t], &mut probs);
        probs.push(eos);
        let support: Vec<f64> = probs.into_iter().filter(|&p| p > 0.0).map(|p| p.powf(alpha)).collect();
        let z: f64 = support.iter().sum();
        let n = support.len() as f64;
        let (mut kl, mut h) = (0.0, 0.0);
        for w in &support {
            let q = w / z;
            kl += (1.0 / n) * ((1.0 / n) / q).ln();
            h -= q * q.ln();
        }
        stats.push((kl, h));
    }
    let n = stats.len().max(1) as f64;
    (stats.iter().map(|s| s.0).sum::<f64>() / n, stats.iter().map(|s| s.1).sum::<f64>() / n)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    /// Self-certainty and negative entropy of every complete sequence, under the base model and
    /// a token-temperature policy.
    #[test]
    fn sequence_self_rewards_match_the_hand_computation((f, fixed) in family(), alpha in 0.3f64..3.0) {
        let fam = boxed(&f, fixed);
        let tree = tree_of(fam.as_ref());
        for (policy, a) in [(tree.base().clone(), 1.0), (temperature_conditionals(&tree, alpha), alpha)] {
            for s in enumerate(fam.as_ref(), 1.0) {
                let node = tree.find(&s.tokens).expect("an enumerated sequence is in the tree");
                let (sc, h) = by_hand(fam.as_ref(), a, &s.tokens);
                let got_sc = tree_self_reward(&tree, &policy, node, RewardSource::SelfCertainty).unwrap();
                let got_h = tree_self_reward(&tree, &policy, node, RewardSource::NegEntropy).unwrap();
                prop_assert!((got_sc - sc).abs() < TOL, "{:?}: self-certainty {} vs {}", s.tokens, got_sc, sc);
                prop_assert!((got_h + h).abs() < TOL, "{:?}: neg-entropy {} vs {}", s.tokens, got_h, -h);
                prop_assert!(got_sc >= -TOL, "KL is non-negative");
            }
        }
    }

    /// Majority pseudo-labels of a Group of complete sequences: counts of the answers by hand.
    #[test]
    fn group_majority_labels_match_counting((f, fixed) in family(), picks in proptest::collection::vec(any::<usize>(), 2..9)) {
        let fam = boxed(&f, fixed);
        let tree = tree_of(fam.as_ref());
        let seqs = enumerate(fam.as_ref(), 1.0);
        let group: Vec<usize> = picks.iter().map(|&i| tree.find(&seqs[i % seqs.len()].tokens).unwrap()).collect();
        let answers: Vec<String> = picks.iter().map(|&i| seqs[i % seqs.len()].answer.clone()).collect();
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for a in &answers {
            *counts.entry(a).or_default() += 1;
        }
        let best = *counts.values().max().unwrap();
        let tied = counts.values().filter(|&&c| c == best).count() as f64;
        let want: Vec<f64> = answers.iter().map(|a| if counts[a.as_str()] == best { 1.0 / tied } else { 0.0 }).collect();
        let got = tree_group_rewards(&tree, tree.base(), &group, RewardSource::Majority);
        prop_assert_eq!(&got, &want);
        prop_assert!((got.iter().sum::<f64>() - best as f64).abs() < 1e-12, "the tied winners share their votes");
        let task = tree_group_rewards(&tree, tree.base(), &group, RewardSource::Task);
        let want_task: Vec<f64> = picks.iter().map(|&i| seqs[i % seqs.len()].reward).collect();
        prop_assert_eq!(task, want_task);
    }
}

fn random_tree() -> Tree {
    let f = RandomFamily { seed: 7, vocab: 3, max_len: 4, holes: 0.0, spread: 2.0, graded: false };
    tree_of(&f)
}

/// Under the task-reward regime (optimization, α = 0, b = 1) a rollout's reward is its r: the
/// sampled estimator hands the self-reward of the sampling policy to the objective.
#[test]
fn sampled_rollouts_carry_the_self_reward_of_the_sampling_policy() {
    let tree = random_tree();
    let delta: Vec<f64> = (0..2 * tree.len()).map(|i| ((i * 7919) % 13) as f64 / 13.0 - 0.5).collect();
    for source in [RewardSource::SelfCertainty, RewardSource::NegEntropy, RewardSource::Majority] {
        let m = TabularTree::new(tree.clone(), Regime::task_reward().into(), false).unwrap().with_reward_source(source);
        let q = m.policy(&delta);
        let rollouts = m.sample(&delta, 16, &mut ChaCha8Rng::seed_from_u64(3));
        let nodes: Vec<usize> = rollouts.iter().map(|r| r.response).collect();
        let want: Vec<f64> = match source {
            RewardSource::Majority => majority_labels(&nodes.iter().map(|&n| tree.answer(n)).collect::<Vec<_>>()),
            s => nodes.iter().map(|&n| tree_self_reward(&tree, &q, n, s).unwrap()).collect(),
        };
        for (r, w) in rollouts.iter().zip(&want) {
            assert!((r.reward - w).abs() < TOL, "{source}: reward {} vs {w}", r.reward);
            assert_eq!(r.task, tree.reward(r.response), "the task reward stays the accuracy");
        }
    }
}

/// Exact expectations under the policy at δ: (self-certainty, mean token entropy, probability
/// of the most likely answer).
fn exact_quantities(m: &TabularTree, delta: &[f64]) -> (f64, f64, f64) {
    let tree = m.tree();
    let q = m.policy(delta);
    let lq = sequence_log_probs(tree, &q);
    let (mut sc, mut h) = (0.0, 0.0);
    let mut by_answer = vec![0.0; tree.answers().len()];
    for n in (0..tree.len()).filter(|&n| lq[n] > f64::NEG_INFINITY) {
        let p = lq[n].exp();
        sc += p * tree_self_reward(tree, &q, n, RewardSource::SelfCertainty).unwrap();
        h -= p * tree_self_reward(tree, &q, n, RewardSource::NegEntropy).unwrap();
        by_answer[tree.answer_ids()[n] as usize] += p;
    }
    (sc, h, by_answer.iter().copied().fold(0.0, f64::max))
}

/// RLOO on each self-reward (K = 8, 4 Groups a step, 100 plain ascent steps, seed 1) moves the
/// exact quantity the reward asks for.
#[test]
fn rloo_on_a_self_reward_moves_its_quantity() {
    let tree = random_tree();
    for source in [RewardSource::SelfCertainty, RewardSource::NegEntropy, RewardSource::Majority] {
        let m = TabularTree::new(tree.clone(), Regime::task_reward().into(), false).unwrap().with_reward_source(source);
        let mut delta = vec![0.0; m.num_params()];
        let before = exact_quantities(&m, &delta);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..100 {
            let groups: Vec<Group> = (0..4).map(|_| Group::new(m.sample(&delta, 8, &mut rng))).collect();
            let g = surrogate_gradient(&m, &delta, &groups, LossAggregation::Sequence);
            delta.iter_mut().zip(&g).for_each(|(d, g)| *d += 0.5 * g);
        }
        let after = exact_quantities(&m, &delta);
        eprintln!("{source}: (self-certainty, entropy, top answer) {before:?} -> {after:?}");
        match source {
            RewardSource::SelfCertainty => assert!(after.0 > before.0, "self-certainty {} -> {}", before.0, after.0),
            RewardSource::NegEntropy => assert!(after.1 < before.1, "entropy {} -> {}", before.1, after.1),
            _ => assert!(after.2 > before.2, "top answer {} -> {}", before.2, after.2),
        }
        assert!(m.exact(&delta).objective.is_nan(), "J is not computed for a self-reward");
    }
}
