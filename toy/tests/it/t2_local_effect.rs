//! T2: the slope of accuracy along the tempered and tilted paths, against finite differences.

use crate::common;
use common::*;
use proptest::prelude::*;
use sharpen_toy::theory::{tempered, tempered_accuracy_slope, tilted, tilted_accuracy_slope};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn tempered_slope_is_cov_r_logref((b, a) in (bandit(), 0.2f64..4.0)) {
        let h = 1e-5;
        let fd = (b.expected_reward(&tempered(&b, a + h)) - b.expected_reward(&tempered(&b, a - h))) / (2.0 * h);
        let exact = tempered_accuracy_slope(&b, a);
        prop_assert!((fd - exact).abs() < 1e-6 * (1.0 + exact.abs()), "fd {fd} closed form {exact}");
    }

    #[test]
    fn tilted_slope_is_variance_and_nonnegative((b, beta) in (bandit(), 0.0f64..20.0)) {
        let h = 1e-5;
        let lo = (beta - h).max(0.0);
        let fd = (b.expected_reward(&tilted(&b, beta + h)) - b.expected_reward(&tilted(&b, lo))) / (beta + h - lo);
        let exact = tilted_accuracy_slope(&b, beta);
        prop_assert!(exact >= 0.0);
        prop_assert!((fd - exact).abs() < 1e-5 * (1.0 + exact.abs()), "fd {fd} closed form {exact}");
    }

    #[test]
    fn tilting_never_lowers_accuracy((b, mut bs) in (bandit(), prop::collection::vec(0.0f64..1e4, 2..6))) {
        bs.sort_by(f64::total_cmp);
        let acc: Vec<f64> = bs.iter().map(|&x| b.expected_reward(&tilted(&b, x))).collect();
        for w in acc.windows(2) {
            prop_assert!(w[1] >= w[0] - 1e-12, "accuracy fell along the tilt: {acc:?}");
        }
    }
}

/// The tempered slope is not sign-definite: sharpening can lower accuracy.
#[test]
fn tempered_slope_can_be_negative() {
    let b = sharpen_toy::problems::many_paths();
    assert!(tempered_accuracy_slope(&b, 1.0) < 0.0);
}
