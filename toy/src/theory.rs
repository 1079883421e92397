//! T1–T3 of docs/design.md §3 on finite response sets.
//!
//! * T1 — closed forms: the Gibbs target maximises the sampling objective and
//!   J(π) = c·(log Z − KL(π‖π*)) with c = 1/β⁻¹ (or 1 when β⁻¹ = 0); optimization-mode maximisers
//!   are the argmax set.
//! * T2 — local effect on accuracy: along π_α ∝ π_ref^α, dE[r]/dα = Cov(r, log π_ref) (any sign);
//!   along π_b ∝ π_ref·e^{b r}, dE[r]/db = Var(r) ≥ 0.
//! * T3 — the unfavourable optimum: the mode can be wrong while most mass is on the right answer.

use crate::bandit::Bandit;
use crate::logspace::{cov, kl};
use crate::regime::{Mode, Regime};

/// The factor c in J(π) = c·(log Z − KL(π‖π*)) for a sampling-mode regime.
pub fn objective_scale(regime: &Regime) -> f64 {
    if regime.beta_inv > 0.0 {
        1.0 / regime.beta_inv
    } else {
        1.0
    }
}

/// Right-hand side of the Gibbs identity for a sampling-mode regime: c·(log Z − KL(π‖π*)).
pub fn gibbs_rhs(bandit: &Bandit, regime: &Regime, policy: &[f64]) -> f64 {
    debug_assert_eq!(regime.mode, Mode::Sampling);
    let target = bandit.target(regime);
    objective_scale(regime) * (bandit.log_partition(regime) - kl(policy, &target))
}

/// The value an optimization-mode maximiser attains: max over responses of the reward.
pub fn optimization_value(bandit: &Bandit, regime: &Regime) -> f64 {
    let target = bandit.target(regime);
    bandit.objective(regime, &target)
}

/// The tempered path π_α ∝ π_ref^α (sum normalisation).
pub fn tempered(bandit: &Bandit, alpha: f64) -> Vec<f64> {
    bandit.target(&Regime::tempered(alpha).expect("alpha >= 0"))
}

/// The tilted path π_b ∝ π_ref·e^{b r}.
pub fn tilted(bandit: &Bandit, beta_inv: f64) -> Vec<f64> {
    bandit.target(&Regime::tilted(1.0, beta_inv).expect("beta_inv >= 0"))
}

/// T2: dE[r]/dα along the tempered path, in closed form: Cov_{π_α}(r, log π_ref).
pub fn tempered_accuracy_slope(bandit: &Bandit, alpha: f64) -> f64 {
    cov(&tempered(bandit, alpha), &bandit.rewards(), bandit.log_ref())
}

/// T2: dE[r]/db along the tilted path, in closed form: Var_{π_b}(r).
pub fn tilted_accuracy_slope(bandit: &Bandit, beta_inv: f64) -> f64 {
    let r = bandit.rewards();
    cov(&tilted(bandit, beta_inv), &r, &r)
}

/// T3 summary of one problem.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UnfavourableOptimum {
    /// P_ref(correct) = E_{π_ref}[r].
    pub p_ref_correct: f64,
    /// Accuracy of π_ref^α for each α.
    pub tempered_accuracy: Vec<(f64, f64)>,
    /// Accuracy of the sharpening optimum (the mode of π_ref).
    pub sharpening_accuracy: f64,
    /// maj@k of π_ref for k = 1..=16.
    pub maj_at_k: Vec<(usize, f64)>,
    /// Accuracy of the tilted targets π_ref·e^{b r} for each b.
    pub tilted_accuracy: Vec<(f64, f64)>,
}

pub fn unfavourable_optimum(bandit: &Bandit, alphas: &[f64], beta_invs: &[f64]) -> UnfavourableOptimum {
    let base = bandit.base();
    UnfavourableOptimum {
        p_ref_correct: bandit.expected_reward(&base),
        tempered_accuracy: alphas.iter().map(|&a| (a, bandit.expected_reward(&tempered(bandit, a)))).collect(),
        sharpening_accuracy: bandit.expected_reward(&bandit.target(&Regime::sharpening())),
        maj_at_k: (1..=16).map(|k| (k, bandit.maj_at_k(&base, k))).collect(),
        tilted_accuracy: beta_invs.iter().map(|&b| (b, bandit.expected_reward(&tilted(bandit, b)))).collect(),
    }
}
