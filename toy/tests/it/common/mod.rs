//! Random finite problems and regimes for the property tests.
#![allow(dead_code)]

use proptest::prelude::*;
use sharpen_toy::{Bandit, Mode, Normalization, Regime};

/// A random bandit: 1–8 responses, log-weights spanning ~10 nats, 0/1 or fractional rewards,
/// lengths 1–20, answers from a small alphabet (so that answers repeat).
pub fn bandit() -> impl Strategy<Value = Bandit> {
    (1usize..9).prop_flat_map(|n| {
        (
            prop::collection::vec(-8.0f64..2.0, n),
            prop::collection::vec(prop_oneof![Just(0.0), Just(1.0), 0.0f64..=1.0], n),
            prop::collection::vec(1usize..21, n),
            prop::collection::vec(0u8..3, n),
        )
            .prop_map(|(w, r, l, a)| {
                let answers: Vec<String> = a.iter().map(|x| ((b'a' + x) as char).to_string()).collect();
                Bandit::from_log_weights(&w, &r, &l, &answers).unwrap()
            })
    })
}

pub fn normalization() -> impl Strategy<Value = Normalization> {
    prop_oneof![
        Just(Normalization::None),
        Just(Normalization::Sum),
        Just(Normalization::Mean),
        (0.0f64..2.0).prop_map(Normalization::WeightedMean),
    ]
}

pub fn beta_inv() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), 0.01f64..20.0, Just(100.0), Just(1e4)]
}

pub fn regime(mode: Mode) -> impl Strategy<Value = Regime> {
    (0.0f64..5.0, beta_inv(), normalization()).prop_map(move |(a, b, n)| Regime::new(mode, a, b, n).unwrap())
}

/// A random full-support policy over n responses.
pub fn policy(n: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-6.0f64..6.0, n).prop_map(|l| sharpen_toy::logspace::softmax(&l).0)
}
