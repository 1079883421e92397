//! T4, T5, T6 and T8 of docs/design.md §3 on tabular autoregressive models, as functions returning data.
//!
//! * T4 length bias — [`length_bias`]: with N = sum the sharpening optimum is short, with
//!   N = mean it runs to long, locally confident strings; [`length_slope`]: along the path
//!   α ↦ π_ref·exp((α−1)N + β⁻¹r), dE[L]/dα = Cov(L, N) (Cov(L, log π_ref) for sum).
//! * T5 sensitivity to α — [`mean_length_curve`], [`length_pmfs`]; on the geometric family the
//!   closed forms [`alpha_star`] and [`geometric_length_pmf`]; [`slope_at_one`] (≈ −h̄·Var L).
//! * T6 sequence power vs token temperature — [`power_vs_temperature`].
//! * T8 fixed length — [`unfavourable_optimum`] (T3 on a tree) and the flat length curves of
//!   fixed-length trees.

use super::dp::{covariance, expect, kl, prefix_log_probs, sequence_log_probs, summarize, Summary, Target};
use super::families::Geometric;
use super::model::Tree;
use super::power::{continuation_spread, power_conditionals};
use super::temperature::temperature_conditionals;
use crate::logspace::{logsumexp, softmax};
use crate::majority;
use crate::regime::{Mode, Normalization, Regime};
use crate::theory::UnfavourableOptimum;
use serde::Serialize;

/// The sampling-mode path point α with normalisation N and no task reward: π_ref·exp((α−1)N).
pub fn tempered(alpha: f64, normalization: Normalization) -> Regime {
    Regime::new(Mode::Sampling, alpha, 0.0, normalization).expect("alpha >= 0 and a valid normalization")
}

/// Exact summary of a regime's target on a tree.
pub fn solve(tree: &Tree, regime: &Regime) -> Summary {
    summarize(tree, &Target::new(tree, regime).log_q())
}

/// P(L = ℓ), ℓ = 0..=cap, of π_ref·exp((α−1)N) for each α.
pub fn length_pmfs(tree: &Tree, alphas: &[f64], normalization: Normalization) -> Vec<Vec<f64>> {
    alphas.iter().map(|&a| solve(tree, &tempered(a, normalization)).length_pmf).collect()
}

/// E[L] of π_ref·exp((α−1)N) for each α (constant on fixed-length trees: T8).
pub fn mean_length_curve(tree: &Tree, alphas: &[f64], normalization: Normalization) -> Vec<f64> {
    alphas.iter().map(|&a| solve(tree, &tempered(a, normalization)).mean_length).collect()
}

/// The normalised likelihood N(y) of the sequence stopping at each node.
fn normalized_per_node(tree: &Tree, regime: &Regime) -> Vec<f64> {
    let s = sequence_log_probs(tree, tree.base());
    (0..tree.len()).map(|n| if tree.is_terminal(n) { regime.normalized(s[n], tree.depth(n)) } else { 0.0 }).collect()
}

/// T4: dE[L]/dα of a sampling-mode regime's target, in closed form: Cov_q(L, N).
pub fn length_slope(tree: &Tree, regime: &Regime) -> f64 {
    debug_assert_eq!(regime.mode, Mode::Sampling);
    let log_q = Target::new(tree, regime).log_q();
    let n = normalized_per_node(tree, regime);
    covariance(&log_q, |i| tree.depth(i) as f64, |i| n[i])
}

/// T4 on one tree: the base model's mean length against the sharpening optima's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LengthBias {
    pub base: Summary,
    /// Optimization α = 1, β⁻¹ = 0, N = sum: the mode of π_ref.
    pub sharpening_sum: Summary,
    /// The same with N = mean: argmax of the per-token log-likelihood.
    pub sharpening_mean: Summary,
    /// One maximiser of each (tokens).
    pub optimum_sum: Vec<u32>,
    pub optimum_mean: Vec<u32>,
    /// dE[L]/dα at α = 1 along the sum and mean paths.
    pub slope_sum: f64,
    pub slope_mean: f64,
}

fn optimum_tokens(tree: &Tree, t: &Target) -> Vec<u32> {
    let best = (0..tree.len()).max_by(|&a, &b| t.log_w[a].total_cmp(&t.log_w[b])).unwrap_or(0);
    tree.sequence(best)
}

pub fn length_bias(tree: &Tree) -> LengthBias {
    let opt = |n| Regime::new(Mode::Optimization, 1.0, 0.0, n).expect("valid");
    let (sum_t, mean_t) = (Target::new(tree, &opt(Normalization::Sum)), Target::new(tree, &opt(Normalization::Mean)));
    LengthBias {
        base: summarize(tree, &sequence_log_probs(tree, tree.base())),
        sharpening_sum: summarize(tree, &sum_t.log_q()),
        sharpening_mean: summarize(tree, &mean_t.log_q()),
        optimum_sum: optimum_tokens(tree, &sum_t),
        optimum_mean: optimum_tokens(tree, &mean_t),
        slope_sum: length_slope(tree, &tempered(1.0, Normalization::Sum)),
        slope_mean: length_slope(tree, &tempered(1.0, Normalization::Mean)),
    }
}

/// log c(α) for the geometric family: the weight π_ref^α gives one more token,
/// c(α) = (1−s)^α·Σ_v u_v^α, relative to the stop weight s^α, which is paid once.
pub fn log_continuation_weight(g: &Geometric, alpha: f64) -> f64 {
    let terms: Vec<f64> = g.token_weights().iter().map(|u| alpha * u.ln()).collect();
    alpha * (1.0 - g.stop).ln() + logsumexp(&terms)
}

/// T5: the critical α* of the geometric family. Under π_ref^α, P(L = ℓ) ∝ c(α)^ℓ·s^α below the
/// cap and c(α)^cap at it, so with a distant cap the mass runs to the cap exactly when
/// c(α) > 1. log c is strictly decreasing (slope log(1−s) + E_{u^α}[log u] < 0) from log V at
/// α = 0 to log(1−s) < 0 at α = 1, so α* ∈ [0, 1) is its unique root; for uniform tokens
/// α* = log V / (log V − log(1−s)).
pub fn alpha_star(g: &Geometric) -> f64 {
    if g.zipf.is_none() || g.vocab == 1 {
        let lv = (g.vocab as f64).ln();
        return lv / (lv - (1.0 - g.stop).ln());
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    while hi - lo > 1e-15 {
        let mid = 0.5 * (lo + hi);
        if log_continuation_weight(g, mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// T5 in closed form: the length marginal of π_ref^α on the geometric family, for any cap
/// (no tree needed, so caps of hundreds of tokens are fine).
pub fn geometric_length_pmf(g: &Geometric, alpha: f64) -> Vec<f64> {
    let lc = log_continuation_weight(g, alpha);
    let log_s = alpha * g.stop.ln();
    let log_w: Vec<f64> = (0..=g.max_len).map(|l| l as f64 * lc + if l < g.max_len { log_s } else { 0.0 }).collect();
    softmax(&log_w).0
}

/// T5 read off the DP: the α at which the tree's π_ref^α puts equal mass on lengths 0 and 1
/// (on the geometric family, where P(L=ℓ+1)/P(L=ℓ) = c(α) below the cap, that is α*).
/// `None` when the cap is below 2 or the ratio does not cross 1 on [0, 1].
pub fn alpha_star_dp(tree: &Tree) -> Option<f64> {
    if tree.max_len() < 2 {
        return None;
    }
    let log_ratio = |a: f64| {
        let pmf = solve(tree, &tempered(a, Normalization::Sum)).length_pmf;
        pmf[1].ln() - pmf[0].ln()
    };
    crate::logspace::unit_root(log_ratio, 1e-13)
}

/// T5: the length slope at α = 1 and its approximation −h̄·Var(L).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlopeAtOne {
    /// dE[L]/dα at α = 1 = Cov_{π_ref}(L, log π_ref), exact.
    pub slope: f64,
    pub var_length: f64,
    /// h̄: mean surprisal of a non-EOS token, E[−Σ_{t≤L} log p(y_t|y_<t)] / E[L].
    pub surprisal_per_token: f64,
    /// −h̄·Var(L): exact on the geometric family with a distant cap (Wald's identity).
    pub approximation: f64,
}

pub fn slope_at_one(tree: &Tree) -> SlopeAtOne {
    let log_q = sequence_log_probs(tree, tree.base());
    let prefix = prefix_log_probs(tree, tree.base());
    let len = |n: usize| tree.depth(n) as f64;
    let var_length = covariance(&log_q, len, len);
    let mean_len = expect(&log_q, len);
    let surprisal_per_token = if mean_len > 0.0 { -expect(&log_q, |n| prefix[n]) / mean_len } else { 0.0 };
    SlopeAtOne {
        slope: covariance(&log_q, len, |n| log_q[n]),
        var_length,
        surprisal_per_token,
        approximation: -surprisal_per_token * var_length,
    }
}

/// T6: the exact power target π_ref^α against token temperature 1/α.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerVsTemperature {
    pub alpha: f64,
    /// KL(power ‖ temperature) and KL(temperature ‖ power), in nats.
    pub kl_power_temperature: f64,
    pub kl_temperature_power: f64,
    /// max over prefixes of the spread of log Z_α across continuations: 0 ⟺ the two coincide.
    pub z_spread: f64,
    pub power: Summary,
    pub temperature: Summary,
}

pub fn power_vs_temperature(tree: &Tree, alpha: f64) -> PowerVsTemperature {
    let power = sequence_log_probs(tree, &power_conditionals(tree, alpha));
    let temp = sequence_log_probs(tree, &temperature_conditionals(tree, alpha));
    PowerVsTemperature {
        alpha,
        kl_power_temperature: kl(&power, &temp),
        kl_temperature_power: kl(&temp, &power),
        z_spread: continuation_spread(tree, alpha),
        power: summarize(tree, &power),
        temperature: summarize(tree, &temp),
    }
}

/// T3 on a tree (T8 when the tree is fixed-length): accuracy of π_ref, of the sharpening
/// optimum, of π_ref^α and of the tilted targets; maj@k of π_ref over answers.
pub fn unfavourable_optimum(tree: &Tree, alphas: &[f64], beta_invs: &[f64]) -> UnfavourableOptimum {
    let base = summarize(tree, &sequence_log_probs(tree, tree.base()));
    let mut reward_sum = vec![(0.0, 0usize); tree.answers().len()];
    for n in (0..tree.len()).filter(|&n| tree.is_terminal(n)) {
        let e = &mut reward_sum[tree.answer_ids()[n] as usize];
        e.0 += tree.reward(n);
        e.1 += 1;
    }
    let q: Vec<f64> = tree.answers().iter().map(|a| base.answers[a]).collect();
    let r: Vec<f64> = reward_sum.iter().map(|(s, c)| s / *c as f64).collect();
    let acc = |regime: Regime| solve(tree, &regime).accuracy;
    UnfavourableOptimum {
        p_ref_correct: base.accuracy,
        tempered_accuracy: alphas.iter().map(|&a| (a, acc(tempered(a, Normalization::Sum)))).collect(),
        sharpening_accuracy: acc(Regime::sharpening()),
        maj_at_k: (1..=16).map(|k| (k, majority::maj_at_k(&q, &r, k))).collect(),
        tilted_accuracy: beta_invs.iter().map(|&b| (b, acc(Regime::tilted(1.0, b).expect("beta_inv >= 0")))).collect(),
    }
}
