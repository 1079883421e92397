//! T4, T5, T6, T8 on tabular autoregressive models: closed forms against the DP, slopes against
//! finite differences, and the named families' qualitative claims.

use crate::common;
use crate::tree_common;
use proptest::prelude::*;
use sharpen_toy::tree::dp::{prefix_log_probs, sequence_log_probs};
use sharpen_toy::tree::theory::*;
use sharpen_toy::tree::{FamilyOptions, FamilySpec, FixedLength, Geometric, Tree};
use sharpen_toy::{Mode, Normalization, Regime};
use tree_common::*;

fn geometric() -> impl Strategy<Value = Geometric> {
    (1usize..=4, 0.05f64..0.95, prop::option::of(0.0f64..3.0), 1usize..=7)
        .prop_map(|(v, s, z, l)| Geometric::new(v, s, z, l).unwrap())
}

fn named(name: &str) -> Tree {
    FamilySpec::parse(name, &FamilyOptions::default()).unwrap().build(1_000_000).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// T4: dE[L]/dα = Cov(L, N) along π_ref·exp((α−1)N), for sum, mean and weighted mean.
    #[test]
    fn length_slope_is_a_covariance((f, fixed) in family(), alpha in 0.1f64..4.0, norm in common::normalization()) {
        let tree = tree_of(boxed(&f, fixed).as_ref());
        let h = 1e-5;
        let m = |a: f64| mean_length_curve(&tree, &[a], norm)[0];
        let fd = (m(alpha + h) - m(alpha - h)) / (2.0 * h);
        let exact = length_slope(&tree, &tempered(alpha, norm));
        prop_assert!((fd - exact).abs() < 1e-5 * (1.0 + exact.abs()), "fd {fd} closed form {exact}");
        if fixed {
            prop_assert!(exact.abs() < 1e-12);
        }
    }

    /// T4: a complete string is never likelier than any of its prefixes.
    #[test]
    fn likelihood_never_exceeds_a_prefix((f, fixed) in family()) {
        let tree = tree_of(boxed(&f, fixed).as_ref());
        let pre = prefix_log_probs(&tree, tree.base());
        let seq = sequence_log_probs(&tree, tree.base());
        for n in 1..tree.len() {
            prop_assert!(pre[n] <= pre[tree.parent(n)]);
            if tree.is_terminal(n) {
                let mut a = n;
                while a != 0 { a = tree.parent(a); prop_assert!(seq[n] <= pre[a]); }
            }
        }
    }

    /// T5: the closed-form length marginal of π_ref^α on the geometric family is the DP's.
    #[test]
    fn geometric_closed_form_matches_dp(g in geometric(), alpha in prop_oneof![0.0f64..5.0, Just(100.0)]) {
        let tree = Tree::build(&g, 1_000_000).unwrap();
        let dp = &length_pmfs(&tree, &[alpha], Normalization::Sum)[0];
        let cf = geometric_length_pmf(&g, alpha);
        for (a, b) in dp.iter().zip(&cf) {
            prop_assert!((a - b).abs() < 1e-9, "dp {dp:?} closed form {cf:?}");
        }
    }

    /// T5: the closed-form α* is the α at which the DP's length marginal turns over, and c(α*) = 1.
    #[test]
    fn alpha_star_matches_dp(v in 2usize..=4, s in 0.05f64..0.9, z in prop::option::of(0.0f64..2.0), l in 2usize..=6) {
        let g = Geometric::new(v, s, z, l).unwrap();
        let a = alpha_star(&g);
        prop_assert!(a > 0.0 && a < 1.0);
        prop_assert!(log_continuation_weight(&g, a).abs() < 1e-12);
        let dp = alpha_star_dp(&Tree::build(&g, 1_000_000).unwrap()).unwrap();
        prop_assert!((dp - a).abs() < 1e-9, "dp {dp} closed form {a}");
    }

    /// T8: on fixed-length trees the length channel is gone for every α and normalisation.
    #[test]
    fn fixed_length_has_no_length_effect((f, _) in family(), alphas in prop::collection::vec(0.0f64..5.0, 1..4), norm in common::normalization()) {
        let tree = tree_of(&FixedLength(f.clone()));
        for m in mean_length_curve(&tree, &alphas, norm) {
            prop_assert!((m - f.max_len as f64).abs() < 1e-9);
        }
    }

    /// T6: on fixed-length trees whose next-token law depends only on depth, Z_α is flat across
    /// siblings, so sequence power and token temperature coincide for every α.
    #[test]
    fn depth_only_fixed_length_power_is_temperature(g in geometric(), alpha in 0.0f64..6.0) {
        let tree = Tree::build(&FixedLength(g), 1_000_000).unwrap();
        let c = power_vs_temperature(&tree, alpha);
        prop_assert!(c.kl_power_temperature.abs() < 1e-10 && c.kl_temperature_power.abs() < 1e-10);
        prop_assert!(c.z_spread < 1e-9);
    }
}

#[test]
fn uniform_alpha_star_formula_agrees_with_the_root_finder() {
    for (v, s) in [(2, 0.3), (4, 0.1), (3, 0.7)] {
        let uniform = alpha_star(&Geometric::new(v, s, None, 10).unwrap());
        let zipf0 = alpha_star(&Geometric::new(v, s, Some(0.0), 10).unwrap());
        let lv = (v as f64).ln();
        assert!((uniform - lv / (lv - (1.0f64 - s).ln())).abs() < 1e-15);
        assert!((uniform - zipf0).abs() < 1e-12, "{uniform} vs {zipf0}");
    }
}

/// T5: with a distant cap the transition is abrupt: just below α* the mass sits within reach of
/// the cap, just above it the length stays short; and length collapses as α grows past 1.
#[test]
fn mass_runs_to_the_cap_below_alpha_star() {
    let g = Geometric::new(2, 0.3, None, 400).unwrap();
    let a = alpha_star(&g);
    let tail = |alpha| geometric_length_pmf(&g, alpha)[300..].iter().sum::<f64>();
    let mean = |alpha| geometric_length_pmf(&g, alpha).iter().enumerate().map(|(l, p)| l as f64 * p).sum::<f64>();
    assert!(tail(a - 0.1) > 0.999 && mean(a - 0.1) > 0.95 * 400.0, "{} {}", tail(a - 0.1), mean(a - 0.1));
    assert!(tail(a + 0.1) < 1e-9 && mean(a + 0.1) < 0.05 * 400.0, "{} {}", tail(a + 0.1), mean(a + 0.1));
    assert!((mean(1.0) - 0.7 / 0.3).abs() < 1e-9, "base mean length (1−s)/s");
    assert!(mean(2.0) < 0.5 && mean(4.0) < mean(2.0));
}

/// T5: dE[L]/dα at 1 is Cov(L, log π_ref) and ≈ −h̄·Var(L) when the cap is distant.
#[test]
fn slope_at_one_is_minus_surprisal_times_variance() {
    let g = Geometric::new(2, 0.5, None, 16).unwrap();
    let tree = Tree::build(&g, 1_000_000).unwrap();
    let s = slope_at_one(&tree);
    let h = 1e-5;
    let m = mean_length_curve(&tree, &[1.0 - h, 1.0 + h], Normalization::Sum);
    assert!((s.slope - (m[1] - m[0]) / (2.0 * h)).abs() < 1e-6);
    // h̄ = −log((1−s)/V) = log 4 for uniform tokens.
    assert!((s.surprisal_per_token - 4f64.ln()).abs() < 1e-3, "{}", s.surprisal_per_token);
    assert!((s.slope - s.approximation).abs() < 1e-2 * s.slope.abs(), "{s:?}");
    assert!(s.slope < 0.0);
}

/// T4: sum sharpening picks the short answer, mean sharpening runs the loop to the cap.
#[test]
fn mean_normalisation_flips_the_optimum_to_the_loop() {
    let tree = named("loop");
    let b = length_bias(&tree);
    assert_eq!(b.optimum_sum, vec![1], "the one-token answer A");
    assert_eq!(b.sharpening_sum.accuracy, 1.0);
    assert!(b.sharpening_sum.mean_length < b.base.mean_length);
    assert_eq!(b.optimum_mean, vec![0; tree.max_len()], "the loop to the cap");
    assert_eq!(b.sharpening_mean.mean_length, tree.max_len() as f64);
    assert_eq!(b.sharpening_mean.accuracy, 0.0);
    assert!(b.slope_sum < 0.0 && b.slope_mean > 0.0, "{b:?}");
}

/// T6: on variable-length families power and temperature differ (KL > 0) for α ≠ 1.
#[test]
fn power_differs_from_temperature_with_eos() {
    for name in ["geometric", "reasoning", "loop"] {
        let tree = named(name);
        for alpha in [0.5, 2.0, 4.0] {
            let c = power_vs_temperature(&tree, alpha);
            assert!(c.kl_power_temperature > 1e-4, "{name} α={alpha}: {c:?}");
            assert!(c.z_spread > 1e-3);
        }
        let one = power_vs_temperature(&tree, 1.0);
        assert!(one.kl_power_temperature.abs() < 1e-12 && one.z_spread < 1e-12);
    }
    // They differ in the length they produce, not only in KL.
    let c = power_vs_temperature(&named("geometric"), 2.0);
    assert!((c.power.mean_length - c.temperature.mean_length).abs() > 1e-3);
}

/// T8: T3 survives fixed length — the mode is the wrong direct answer, accuracy falls with α.
#[test]
fn fixed_length_reasoning_keeps_the_unfavourable_optimum() {
    let alphas = [1.0, 1.25, 2.0, 4.0];
    for name in ["reasoning", "fixed-length:reasoning"] {
        let tree = named(name);
        let t = unfavourable_optimum(&tree, &alphas, &[0.0, 100.0]);
        assert!(t.p_ref_correct > 0.7, "{name}: {t:?}");
        assert_eq!(t.sharpening_accuracy, 0.0, "{name}");
        let acc: Vec<f64> = t.tempered_accuracy.iter().map(|x| x.1).collect();
        assert!(acc.windows(2).all(|w| w[1] < w[0]), "{name}: {acc:?}");
        assert!(t.tilted_accuracy[1].1 > 0.999);
        assert!(t.maj_at_k[14].1 > 0.95);
    }
    let fixed = named("fixed-length");
    let m = mean_length_curve(&fixed, &alphas, Normalization::Sum);
    assert!(m.iter().all(|&x| (x - fixed.max_len() as f64).abs() < 1e-9), "{m:?}");
    let r = Regime::new(Mode::Sampling, 2.0, 0.0, Normalization::Sum).unwrap();
    assert!(length_slope(&fixed, &r).abs() < 1e-12);
}
