//! T7 acceptance: exact flows end at the closed forms, fixed points have the predicted
//! stability, and the stochastic runs show the contrasts docs/design.md §3 T7 (b)–(d) describes.

use sharpen_toy::dynamics::fixed_points::{fixed_points, Stability};
use sharpen_toy::dynamics::t7;
use sharpen_toy::dynamics::{Objective, TabularBandit, TrainConfig};
use sharpen_toy::problems::{many_paths, near_tie, small_four};
use sharpen_toy::Regime;

/// Sampling-mode flows settle exponentially; these settle to 1e-6 by t = 10⁵ on both problems.
#[test]
fn flow_end_point_equals_closed_form_target_within_1e_6() {
    let objectives: Vec<Objective> = vec![
        Regime::control().into(),
        Regime::tempered(0.5).unwrap().into(),
        Regime::tempered(2.0).unwrap().into(),
        Regime::tempered(4.0).unwrap().into(),
        Regime::tilted(1.0, 1.0).unwrap().into(),
        Regime::tilted(4.0, 2.0).unwrap().into(),
    ];
    for (name, b) in [("many-paths", many_paths()), ("small-four", small_four())] {
        for &o in &objectives {
            let f = t7::flow_end(&b, o, 1e5).unwrap();
            assert!(f.completed);
            assert!(f.max_abs_error < 1e-6, "{name} {o}: max |π_end − π*| = {}", f.max_abs_error);
            // The closed form itself is the T1 target: the start (π_ref) differs from it except for the control.
            let start_err = b.base().iter().zip(&f.target).map(|(a, c)| (a - c).abs()).fold(0.0, f64::max);
            assert_eq!(start_err < 1e-12, o == Objective::from(Regime::control()), "{name} {o}");
        }
    }
}

#[test]
fn optimization_flows_reach_their_vertex_sets() {
    let b = many_paths();
    let sharp = t7::flow_end(&b, Regime::sharpening().into(), 1e6).unwrap();
    assert!(sharp.end[0] > 1.0 - 1e-5, "sharpening reaches the mode string: {}", sharp.end[0]);
    assert!(sharp.end_accuracy < 1e-5);
    let task = t7::flow_end(&b, Regime::task_reward().into(), 1e6).unwrap();
    assert!(task.end_accuracy > 1.0 - 1e-5, "task reward reaches the correct set: {}", task.end_accuracy);
    // Task reward never changes the ratios among correct responses: a replicator flow with equal rewards.
    let ratio_ref = b.base()[1] / b.base()[5];
    assert!((task.end[1] / task.end[5] - ratio_ref).abs() < 1e-9);
}

#[test]
fn self_referential_flow_vertices_stable_interior_unstable() {
    for (name, b) in [("small-four", small_four()), ("near-tie", near_tie(0.3))] {
        let fps = t7::self_certainty_fixed_points(&b, 10).unwrap();
        assert_eq!(fps.len(), (1 << b.len()) - 1, "{name}: one fixed point per face");
        for fp in &fps {
            let s = fp.support.len();
            // Uniform over the face.
            for &i in &fp.support {
                assert!((fp.policy[i] - 1.0 / s as f64).abs() < 1e-12);
            }
            if s == 1 {
                assert_eq!(fp.stability, Stability::Stable, "{name} vertex {:?}", fp.support);
                assert!(fp.transverse.iter().all(|t| t.1 < 0.0));
            } else {
                assert!(fp.stability.is_unstable(), "{name} face {:?}: {:?}", fp.support, fp.stability);
                // Theory: the Hessian of −H at the uniform point of a face is (δ_kj − 1/s)/s, so every
                // gauge-free eigenvalue is exactly +1/s.
                assert_eq!(fp.internal.len(), s - 1);
                for &e in &fp.internal {
                    assert!((e - 1.0 / s as f64).abs() < 1e-12, "{name} {:?}: {e}", fp.support);
                }
                let expected = if s == b.len() { Stability::Unstable } else { Stability::Saddle };
                assert_eq!(fp.stability, expected);
            }
        }
        // The exact flow from π_ref runs to π_ref's mode (response 0 in both problems).
        let f = t7::flow_end(&b, Objective::SelfCertainty, 1e6).unwrap();
        assert!(f.end[0] > 1.0 - 1e-6, "{name}: {:?}", f.end);
    }
}

#[test]
fn stability_of_the_regimes_fixed_points() {
    let b = small_four();
    // Tempered α = 2: the full-support point is the target and the only stable one.
    let m = TabularBandit::new(b.clone(), Regime::tempered(2.0).unwrap().into()).unwrap();
    let fps = fixed_points(&m, 10);
    let stable: Vec<_> = fps.iter().filter(|f| f.stability == Stability::Stable).collect();
    assert_eq!(stable.len(), 1);
    assert_eq!(stable[0].support, vec![0, 1, 2, 3]);
    let target = b.target(&Regime::tempered(2.0).unwrap());
    assert!(stable[0].policy.iter().zip(&target).all(|(a, c)| (a - c).abs() < 1e-12));
    assert!(stable[0].internal.iter().all(|&e| e < 0.0));
    // Sharpening: only the mode vertex is stable; every other vertex can be invaded.
    let m = TabularBandit::new(b.clone(), Regime::sharpening().into()).unwrap();
    for fp in fixed_points(&m, 10) {
        let expect_stable = fp.support == vec![0];
        assert_eq!(fp.stability == Stability::Stable, expect_stable, "{:?}: {:?}", fp.support, fp.stability);
    }
    // Task reward: correct vertices are marginal (ties), wrong vertices are unstable.
    let m = TabularBandit::new(b, Regime::task_reward().into()).unwrap();
    for fp in fixed_points(&m, 10) {
        if fp.accuracy == 1.0 {
            assert_eq!(fp.stability, Stability::Marginal, "{:?}", fp.support);
        } else {
            assert!(fp.stability.is_unstable(), "{:?}", fp.support);
        }
    }
}

fn cfg() -> TrainConfig {
    TrainConfig { base_seed: 5, ..TrainConfig::paper(150, 0.05) }
}

#[test]
fn seeds_contrast_task_reward_with_sharpening() {
    let b = many_paths();
    let sharp = t7::seed_spread(&b, Regime::sharpening().into(), &cfg(), 16, 2).unwrap();
    let task = t7::seed_spread(&b, Regime::task_reward().into(), &cfg(), 16, 2).unwrap();
    assert!(sharp.last.accuracy.q90 < 0.05, "sharpening: {:?}", sharp.last.accuracy);
    assert!(task.last.accuracy.q10 > 0.95, "task: {:?}", task.last.accuracy);
    assert!(sharp.last.length.mean < 5.0 && task.last.length.mean > 25.0);
    assert_eq!(sharp.per_step.len(), 150);
    let start = sharp.per_step[0].accuracy;
    assert!((start.q10 - 0.72).abs() < 1e-12 && (start.q90 - 0.72).abs() < 1e-12, "every seed starts at π_ref");
}

#[test]
fn near_ties_are_decided_by_the_seed() {
    let rows = t7::seed_vs_gap(Objective::SelfCertainty, &[0.0, 0.5], &cfg(), 32, 2).unwrap();
    assert!(rows[0].to_mode >= 0.2 && rows[0].to_runner_up >= 0.2, "{:?}", rows[0]);
    assert_eq!(rows[1].to_mode, 1.0, "{:?}", rows[1]);
    assert!(rows.iter().all(|r| r.at_vertex > 0.9));
}

#[test]
fn perturbations_make_argmax_optima_jump_and_move_gibbs_targets_by_order_eps() {
    let b = near_tie(0.1);
    let regimes = [Regime::sharpening(), Regime::tilted(1.0, 10.0).unwrap(), Regime::tempered(4.0).unwrap()];
    let eps = [0.01, 0.5];
    let rows = t7::perturbation_sensitivity(&b, &regimes, &eps, 500, 3).unwrap();
    let row = |r: usize, e: usize| &rows[r * eps.len() + e];
    // Each log-weight moves by at most ε, so a 0.1-nat gap cannot flip at ε = 0.01 …
    assert_eq!(row(0, 0).jump_fraction, 0.0);
    // … and flips often at ε = 0.5.
    assert!(row(0, 1).jump_fraction > 0.2, "{:?}", row(0, 1));
    // Gibbs targets: log-weights move by ≤ α·ε, so probability ratios by ≤ e^{2αε} and TV ≤ e^{2αε} − 1.
    for (r, alpha) in [(1, 1.0), (2, 4.0)] {
        for (e, &x) in eps.iter().enumerate() {
            let bound = ((2.0 * alpha * x).exp() - 1.0) / x;
            assert!(row(r, e).max_tv_over_eps <= bound, "{:?} bound {bound}", row(r, e));
        }
        // Continuity: a small ε moves the accuracy by O(ε), never by a jump.
        assert_eq!(row(r, 0).jump_fraction, 0.0);
        assert!(row(r, 0).mean_abs_accuracy_change < 2.0 * alpha * 0.01, "{:?}", row(r, 0));
    }
}

#[test]
fn every_t7_scenario_builds_its_tables() {
    for s in sharpen_toy::scenarios::all().into_iter().filter(|s| s.name.starts_with("t7-")) {
        let r = (s.run)();
        assert_eq!(r.scenario, s.name);
        assert!(!r.tables.is_empty() && r.tables.iter().all(|t| !t.rows.is_empty()), "{}", s.name);
        for t in &r.tables {
            assert!(t.rows.iter().all(|row| row.len() == t.columns.len()), "{}: {}", s.name, t.title);
        }
    }
}
