//! T1: closed forms of every regime's optimum, checked against brute force.

use crate::common;
use common::*;
use proptest::prelude::*;
use sharpen_toy::regime::Scores;
use sharpen_toy::theory::{gibbs_rhs, optimization_value};
use sharpen_toy::{Bandit, Mode, Regime};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + a.abs().max(b.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The Gibbs target is a maximiser: no random policy does better.
    #[test]
    fn sampling_target_maximises_objective((b, r, pols) in bandit().prop_flat_map(|b| {
        let n = b.len();
        (Just(b), regime(Mode::Sampling), prop::collection::vec(policy(n), 8))
    })) {
        let best = b.objective(&r, &b.target(&r));
        for p in &pols {
            prop_assert!(b.objective(&r, p) <= best + 1e-9 * (1.0 + best.abs()));
        }
    }

    /// J(π) = c·(log Z − KL(π‖π*)) for every policy.
    #[test]
    fn gibbs_identity((b, r, p) in bandit().prop_flat_map(|b| {
        let n = b.len();
        (Just(b), regime(Mode::Sampling), policy(n))
    })) {
        let lhs = b.objective(&r, &p);
        let rhs = gibbs_rhs(&b, &r, &p);
        prop_assert!(close(lhs, rhs, 1e-9), "J = {lhs}, c(log Z - KL) = {rhs}");
    }

    /// Optimization mode: the argmax set is exactly the set of responses of maximal reward
    /// (computed from the table's per-sample reward), its policies attain the max, and moving any
    /// mass off the set loses value.
    #[test]
    fn optimization_maximisers_are_argmax_set((b, r, eps) in (bandit(), regime(Mode::Optimization), 0.01f64..0.5)) {
        let rewards: Vec<f64> = b.responses().iter().zip(b.log_ref()).map(|(x, &s)| {
            r.reward(&Scores { task: x.reward, ref_logprob: s, policy_logprob: 0.0, length: x.length })
        }).collect();
        let best = rewards.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let brute: Vec<usize> = (0..b.len()).filter(|&i| close(rewards[i], best, 1e-9)).collect();
        prop_assert_eq!(b.argmax(&r), brute.clone());
        let v = optimization_value(&b, &r);
        prop_assert!(close(v, best, 1e-9));
        if let Some(out) = (0..b.len()).find(|i| !brute.contains(i)) {
            let mut p = b.target(&r);
            for x in p.iter_mut() { *x *= 1.0 - eps; }
            p[out] += eps;
            prop_assert!(b.objective(&r, &p) < v);
        }
    }

    /// Log-space: extreme α and β⁻¹ give finite, normalised targets.
    #[test]
    fn extreme_parameters_stay_finite((b, a, bi) in (bandit(), 0.0f64..=100.0, prop_oneof![Just(0.0), Just(1e4), 0.0f64..1e4])) {
        for mode in [Mode::Sampling, Mode::Optimization] {
            let r = Regime::new(mode, a, bi, sharpen_toy::Normalization::Sum).unwrap();
            let t = b.target(&r);
            prop_assert!(t.iter().all(|x| x.is_finite() && *x >= 0.0));
            prop_assert!((t.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        }
    }
}

#[test]
fn control_target_is_the_base_model() {
    let b = sharpen_toy::problems::many_paths();
    let t = b.target(&Regime::control());
    for (x, y) in t.iter().zip(b.base()) {
        assert!((x - y).abs() < 1e-12);
    }
}

#[test]
fn sharpening_optimum_is_the_mode() {
    let b: Bandit = sharpen_toy::problems::many_paths();
    let base = b.base();
    let mode = (0..b.len()).max_by(|&i, &j| base[i].total_cmp(&base[j])).unwrap();
    assert_eq!(b.argmax(&Regime::sharpening()), vec![mode]);
}
