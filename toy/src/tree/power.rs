//! The power target π_ref^α (sampling mode, β⁻¹ = 0, `sum` normalisation) in token form.
//!
//! With `sum` the weight factorises over tokens, so the suffix partition function
//! Z_α(n) = Σ over completions of prefix n of Π p(token)^α (EOS or the cap included) obeys
//! Z_α(n) = p(EOS|n)^α + Σ_v p(v|n)^α·Z_α(n·v), and the target's exact conditionals are
//! q(v | n) = p(v|n)^α·Z_α(n·v) / Z_α(n), q(EOS | n) = p(EOS|n)^α / Z_α(n).
//! A token-level temperature 1/α drops the Z_α factor (see [`super::temperature`]).

use super::model::{Policy, Tree};

/// α·log p with 0·log 0 = log 0: an impossible event stays impossible at α = 0.
pub fn pow_log(alpha: f64, log_p: f64) -> f64 {
    if log_p == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else {
        alpha * log_p
    }
}

/// log Z_α(n) for every prefix n (backward recursion).
pub fn suffix_log_partition(tree: &Tree, alpha: f64) -> Vec<f64> {
    let base = tree.base();
    let mut z = vec![f64::NEG_INFINITY; tree.len()];
    for n in (0..tree.len()).rev() {
        let kids = tree.children(n);
        let stop = pow_log(alpha, base.log_stop[n]);
        let term = |c: usize| alpha * base.log_edge[c] + z[c];
        let m = kids.clone().map(term).fold(stop, f64::max);
        if m == f64::NEG_INFINITY {
            continue;
        }
        let s = (stop - m).exp() + kids.map(|c| (term(c) - m).exp()).sum::<f64>();
        z[n] = m + s.ln();
    }
    z
}

/// The exact token conditionals of π_ref^α: p^α·Z_α(child) / Z_α(prefix).
pub fn power_conditionals(tree: &Tree, alpha: f64) -> Policy {
    let base = tree.base();
    let z = suffix_log_partition(tree, alpha);
    let mut log_edge = vec![0.0; tree.len()];
    let log_stop = (0..tree.len()).map(|n| pow_log(alpha, base.log_stop[n]) - z[n]).collect();
    for n in 0..tree.len() {
        for c in tree.children(n) {
            log_edge[c] = alpha * base.log_edge[c] + z[c] - z[n];
        }
    }
    Policy { log_edge, log_stop }
}

/// How far Z_α is from constant across the continuations of a prefix, maximised over
/// prefixes: max_n (max − min over continuations c of n of log Z_α(c)), where stopping counts
/// as a continuation with Z_α = 1. Power and temperature coincide exactly when this is 0.
pub fn continuation_spread(tree: &Tree, alpha: f64) -> f64 {
    let z = suffix_log_partition(tree, alpha);
    let base = tree.base();
    let mut spread: f64 = 0.0;
    for n in 0..tree.len() {
        let stop = base.log_stop[n] > f64::NEG_INFINITY;
        let vals = tree.children(n).map(|c| z[c]).chain(stop.then_some(0.0));
        let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)));
        if hi >= lo {
            spread = spread.max(hi - lo);
        }
    }
    spread
}
