//! Every DP quantity on the tree against brute-force enumeration of the sequences (vocabulary
//! ≤ 4, length ≤ 6), to 1e-9.

use crate::common;
use crate::tree_common;
use proptest::prelude::*;
use sharpen_toy::logspace::{entropy, kl as kl_vec};
use sharpen_toy::tree::dp::{kl, sequence_log_probs, summarize, Target};
use sharpen_toy::tree::power::{continuation_spread, power_conditionals, suffix_log_partition};
use sharpen_toy::tree::temperature::temperature_conditionals;
use sharpen_toy::{Mode, Regime};
use tree_common::*;

const TOL: f64 = 1e-9;

fn any_regime() -> impl Strategy<Value = Regime> {
    prop_oneof![common::regime(Mode::Sampling), common::regime(Mode::Optimization), common::regime(Mode::None)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Forward pass: one terminal node per enumerated sequence, with its probability.
    #[test]
    fn sequence_probabilities((f, fixed) in family()) {
        let fam = boxed(&f, fixed);
        let tree = tree_of(fam.as_ref());
        let seqs = enumerate(fam.as_ref(), 1.0);
        let lp = sequence_log_probs(&tree, tree.base());
        prop_assert_eq!((0..tree.len()).filter(|&n| tree.is_terminal(n)).count(), seqs.len());
        for s in &seqs {
            let n = tree.find(&s.tokens).expect("tree holds every sequence");
            prop_assert!((lp[n] - s.log_p).abs() < TOL, "{:?}: tree {} enumeration {}", s.tokens, lp[n], s.log_p);
            prop_assert_eq!(tree.answer(n), Some(s.answer.as_str()));
            prop_assert_eq!(tree.reward(n), s.reward);
            prop_assert_eq!(tree.depth(n), s.tokens.len());
        }
        if fixed {
            prop_assert!(seqs.iter().all(|s| s.tokens.len() == f.max_len));
        }
    }

    /// The target of every regime, its summaries and its exact token conditionals.
    #[test]
    fn regime_targets((f, fixed) in family(), regime in any_regime()) {
        let fam = boxed(&f, fixed);
        let tree = tree_of(fam.as_ref());
        let seqs = enumerate(fam.as_ref(), 1.0);
        let reference = bandit(&seqs).target(&regime);
        let target = Target::new(&tree, &regime);
        let log_q = target.log_q();
        let nodes: Vec<usize> = seqs.iter().map(|s| tree.find(&s.tokens).unwrap()).collect();
        for (i, &n) in nodes.iter().enumerate() {
            prop_assert!((log_q[n].exp() - reference[i]).abs() < TOL, "{:?}: dp {} brute {}", seqs[i].tokens, log_q[n].exp(), reference[i]);
        }

        // Summaries.
        let sum = summarize(&tree, &log_q);
        let mut pmf = vec![0.0; f.max_len + 1];
        for (s, q) in seqs.iter().zip(&reference) {
            pmf[s.tokens.len()] += q;
        }
        for (a, b) in sum.length_pmf.iter().zip(&pmf) {
            prop_assert!((a - b).abs() < TOL);
        }
        let b = bandit(&seqs);
        prop_assert!((sum.mean_length - b.expected_length(&reference)).abs() < 1e-8);
        prop_assert!((sum.accuracy - b.expected_reward(&reference)).abs() < TOL);
        prop_assert!((sum.entropy - entropy(&reference)).abs() < 1e-8, "entropy dp {} brute {}", sum.entropy, entropy(&reference));
        let answers = b.answer_distribution(&reference);
        for (a, q) in &answers {
            prop_assert!((sum.answers.get(a).copied().unwrap_or(0.0) - q).abs() < TOL);
        }

        // Token conditionals: q(v | prefix) = mass extending prefix·v / mass extending prefix.
        let cond = target.conditionals(&tree);
        let mut prefix_mass: std::collections::HashMap<Vec<u32>, f64> = Default::default();
        for (s, q) in seqs.iter().zip(&reference) {
            for l in 0..=s.tokens.len() {
                *prefix_mass.entry(s.tokens[..l].to_vec()).or_default() += q;
            }
        }
        let mass = |n: usize| prefix_mass.get(&tree.sequence(n)).copied().unwrap_or(0.0);
        for n in 0..tree.len() {
            let m = mass(n);
            if m < 1e-6 { continue; }
            for c in tree.children(n) {
                prop_assert!((cond.log_edge[c].exp() - mass(c) / m).abs() < 1e-8);
            }
            let stop = nodes.iter().position(|&x| x == n).map_or(0.0, |i| reference[i]);
            prop_assert!((cond.log_stop[n].exp() - stop / m).abs() < 1e-8);
        }
        // ... and their product is the target (T6: the conditionals reproduce the sequence law).
        let replay = sequence_log_probs(&tree, &cond);
        for (i, &n) in nodes.iter().enumerate() {
            prop_assert!((replay[n].exp() - reference[i]).abs() < TOL);
            prop_assert!(!replay[n].is_nan());
        }
    }

    /// The power conditionals p^α·Z_α(child)/Z_α(prefix) against enumeration; token temperature
    /// against its own enumeration; KL between the two against the vector KL.
    #[test]
    fn power_and_temperature((f, fixed) in family(), alpha in prop_oneof![0.0f64..5.0, Just(1.0), Just(0.0)]) {
        let fam = boxed(&f, fixed);
        let tree = tree_of(fam.as_ref());
        let seqs = enumerate(fam.as_ref(), alpha);
        let nodes: Vec<usize> = seqs.iter().map(|s| tree.find(&s.tokens).unwrap()).collect();
        let power = sequence_log_probs(&tree, &power_conditionals(&tree, alpha));
        let reference = bandit(&seqs).target(&Regime::tempered(alpha).unwrap());
        let temp = sequence_log_probs(&tree, &temperature_conditionals(&tree, alpha));
        let z = suffix_log_partition(&tree, alpha);
        // Z_α(root) = Σ_y π_ref(y)^α.
        let zsum: f64 = seqs.iter().map(|s| (alpha * s.log_p).exp()).sum();
        prop_assert!((z[0].exp() - zsum).abs() < TOL * zsum.max(1.0));
        let mut tv = Vec::new();
        for (i, &n) in nodes.iter().enumerate() {
            prop_assert!((power[n].exp() - reference[i]).abs() < TOL);
            prop_assert!((temp[n] - seqs[i].log_temp).abs() < TOL, "temperature dp {} brute {}", temp[n], seqs[i].log_temp);
            tv.push(seqs[i].log_temp.exp());
        }
        let k = kl(&power, &temp);
        prop_assert!((k - kl_vec(&reference, &tv)).abs() < 1e-8);
        // Coincidence exactly when Z_α is flat across the continuations of every prefix.
        let spread = continuation_spread(&tree, alpha);
        if spread < 1e-12 {
            prop_assert!(k.abs() < 1e-10, "flat Z_α but KL {k}");
        }
        if k < 1e-14 {
            prop_assert!(spread < 1e-5, "KL {k} but Z_α spread {spread}");
        }
        if alpha == 1.0 {
            prop_assert!(k.abs() < 1e-12);
        }
    }
}

/// Log-space throughout: α up to 100 on long caps gives finite, normalised targets.
#[test]
fn large_alpha_has_no_nan() {
    let f = RandomFamily { seed: 7, vocab: 3, max_len: 6, holes: 0.0, spread: 30.0, graded: false };
    for fixed in [false, true] {
        let fam = boxed(&f, fixed);
        let tree = tree_of(fam.as_ref());
        for alpha in [0.0, 1e-3, 1.0, 10.0, 50.0, 100.0] {
            for norm in [sharpen_toy::Normalization::Sum, sharpen_toy::Normalization::Mean] {
                let r = Regime::new(Mode::Sampling, alpha, 1e4, norm).unwrap();
                let t = Target::new(&tree, &r);
                let s = summarize(&tree, &t.log_q());
                assert!(s.length_pmf.iter().all(|p| p.is_finite()));
                // log Z reaches ~1e4 nats here, so each log q carries ~1e-12 of rounding.
                let total: f64 = s.length_pmf.iter().sum();
                assert!((total - 1.0).abs() < 1e-10, "α={alpha} {norm:?}: Σ = {total}");
                assert!(s.entropy.is_finite() && s.mean_length.is_finite() && s.accuracy.is_finite());
                let c = t.conditionals(&tree);
                assert!(c.log_edge.iter().chain(&c.log_stop).all(|x| !x.is_nan()));
            }
            let p = power_conditionals(&tree, alpha);
            assert!(p.log_edge.iter().chain(&p.log_stop).all(|x| !x.is_nan()));
            let t = temperature_conditionals(&tree, alpha);
            assert!(t.log_edge.iter().chain(&t.log_stop).all(|x| !x.is_nan()));
        }
    }
}
