//! A softmax tabular policy over a finite response set: one logit θ_y per response,
//! π_θ = softmax(θ), initialised at θ = log π_ref.
//!
//! With reward r_y(θ) = base_y + c·log π_θ(y) (see [`Objective::affine`]), the estimator's
//! expected gradient — E over samples of A_i ∇log π(y_i) with the reward held constant — is
//!   G_y(θ) = π_y (r_y − r̄),  r̄ = Σ π r.
//! It equals the true gradient of J(θ) = E_{π_θ}[r(θ)]: the θ-dependence of r through P adds
//! c·E_π[∇log π] = 0. So the exact flow is a gradient flow and its Jacobian is the (symmetric)
//! Hessian of J:
//!   ∂G_k/∂θ_j = π_k(δ_kj − π_j)(r_k − r̄) + c·π_k(δ_kj − π_j) − π_k π_j (r_j − r̄).
//! Adding a constant to every logit changes nothing (the softmax gauge): G sums to zero and the
//! all-ones vector is a null direction of the Jacobian.

use super::objective::Objective;
use crate::bandit::Bandit;
use crate::error::ToyError;
use crate::logspace::{entropy, softmax};
use crate::regime::Scores;
use nalgebra::DMatrix;

#[derive(Debug, Clone)]
pub struct TabularBandit {
    bandit: Bandit,
    objective: Objective,
    base: Vec<f64>,
    c: f64,
}

impl TabularBandit {
    /// Every response needs π_ref > 0: a softmax policy initialised at π_ref can never reach a
    /// response with zero reference mass, so such a response has no place in the table.
    pub fn new(bandit: Bandit, objective: Objective) -> Result<Self, ToyError> {
        if let Some(i) = bandit.log_ref().iter().position(|&s| s == f64::NEG_INFINITY) {
            return Err(ToyError::Invalid(format!(
                "response {i} has π_ref = 0; the tabular policy starts at π_ref and cannot reach it"
            )));
        }
        let (base, cs): (Vec<f64>, Vec<f64>) = bandit
            .responses()
            .iter()
            .zip(bandit.log_ref())
            .map(|(r, &s)| objective.affine(r.reward, s, r.length))
            .unzip();
        let c = cs[0];
        Ok(Self { bandit, objective, base, c })
    }

    pub fn bandit(&self) -> &Bandit {
        &self.bandit
    }
    pub fn objective(&self) -> Objective {
        self.objective
    }
    pub fn len(&self) -> usize {
        self.bandit.len()
    }
    pub fn is_empty(&self) -> bool {
        self.bandit.is_empty()
    }
    /// base_y: the reward with P = 0.
    pub fn base(&self) -> &[f64] {
        &self.base
    }
    /// c = ∂reward/∂P.
    pub fn policy_coefficient(&self) -> f64 {
        self.c
    }
    /// θ at initialisation: log π_ref.
    pub fn initial_logits(&self) -> Vec<f64> {
        self.bandit.log_ref().to_vec()
    }

    pub fn policy(&self, theta: &[f64]) -> Vec<f64> {
        softmax(theta).0
    }

    /// The reward of response y under the policy θ (P = log π_θ(y)), exactly as a sample of y would get it.
    pub fn reward_of(&self, y: usize, log_pi: f64) -> f64 {
        let r = &self.bandit.responses()[y];
        self.objective.reward(&Scores {
            task: r.reward,
            ref_logprob: self.bandit.log_ref()[y],
            policy_logprob: log_pi,
            length: r.length,
        })
    }

    /// r_y(θ) for every response.
    pub fn rewards(&self, theta: &[f64]) -> Vec<f64> {
        let (_, log_z) = softmax(theta);
        self.base.iter().zip(theta).map(|(b, t)| b + self.c * (t - log_z)).collect()
    }

    /// J(θ) = E_{π_θ}[r(θ)]: the objective whose gradient the trainer follows in expectation.
    pub fn objective_value(&self, theta: &[f64]) -> f64 {
        let pi = self.policy(theta);
        pi.iter().zip(self.rewards(theta)).map(|(p, r)| p * r).sum()
    }

    /// G(θ) = E[A ∇log π]: the expected gradient of the RLOO estimator (sequence-level loss).
    pub fn expected_gradient(&self, theta: &[f64]) -> Vec<f64> {
        let pi = self.policy(theta);
        let r = self.rewards(theta);
        let mean: f64 = pi.iter().zip(&r).map(|(p, r)| p * r).sum();
        pi.iter().zip(&r).map(|(p, r)| p * (r - mean)).collect()
    }

    /// ∂G/∂θ in closed form (module note), at the policy `pi` with rewards `r` — also valid on
    /// a face of the simplex, where θ itself is infinite.
    pub fn jacobian_at(&self, pi: &[f64], r: &[f64]) -> DMatrix<f64> {
        let n = pi.len();
        let mean: f64 = pi.iter().zip(r).filter(|(p, _)| **p > 0.0).map(|(p, r)| p * r).sum();
        let adv: Vec<f64> = pi.iter().zip(r).map(|(&p, &r)| if p > 0.0 { r - mean } else { 0.0 }).collect();
        DMatrix::from_fn(n, n, |k, j| {
            let d = if k == j { 1.0 } else { 0.0 };
            pi[k] * (d - pi[j]) * (adv[k] + self.c) - pi[k] * pi[j] * adv[j]
        })
    }

    pub fn jacobian(&self, theta: &[f64]) -> DMatrix<f64> {
        self.jacobian_at(&self.policy(theta), &self.rewards(theta))
    }

    /// E_π[task reward].
    pub fn accuracy(&self, pi: &[f64]) -> f64 {
        self.bandit.expected_reward(pi)
    }
    /// E_π[L].
    pub fn expected_length(&self, pi: &[f64]) -> f64 {
        self.bandit.expected_length(pi)
    }
    pub fn entropy(&self, pi: &[f64]) -> f64 {
        entropy(pi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problems::many_paths;
    use crate::regime::Regime;

    fn objectives() -> Vec<Objective> {
        vec![
            Regime::task_reward().into(),
            Regime::sharpening().into(),
            Regime::tempered(2.0).unwrap().into(),
            Regime::tilted(1.0, 10.0).unwrap().into(),
            Objective::SelfCertainty,
        ]
    }

    fn theta0(m: &TabularBandit) -> Vec<f64> {
        // Away from π_ref so that no regime sits at a fixed point.
        m.initial_logits().iter().enumerate().map(|(i, t)| t + 0.3 * ((i * 7 % 5) as f64 - 2.0)).collect()
    }

    #[test]
    fn gradient_matches_finite_differences_of_the_objective() {
        for o in objectives() {
            let m = TabularBandit::new(many_paths(), o).unwrap();
            let th = theta0(&m);
            let g = m.expected_gradient(&th);
            let h = 1e-6;
            for k in 0..m.len() {
                let (mut a, mut b) = (th.clone(), th.clone());
                a[k] += h;
                b[k] -= h;
                let fd = (m.objective_value(&a) - m.objective_value(&b)) / (2.0 * h);
                assert!((fd - g[k]).abs() < 1e-7, "{o} k={k}: fd {fd} vs closed form {}", g[k]);
            }
            assert!(g.iter().sum::<f64>().abs() < 1e-12, "gauge: G sums to zero");
        }
    }

    #[test]
    fn jacobian_matches_finite_differences_and_is_symmetric_with_gauge_null() {
        for o in objectives() {
            let m = TabularBandit::new(many_paths(), o).unwrap();
            let th = theta0(&m);
            let jac = m.jacobian(&th);
            let h = 1e-6;
            for j in 0..m.len() {
                let (mut a, mut b) = (th.clone(), th.clone());
                a[j] += h;
                b[j] -= h;
                let (ga, gb) = (m.expected_gradient(&a), m.expected_gradient(&b));
                for k in 0..m.len() {
                    let fd = (ga[k] - gb[k]) / (2.0 * h);
                    assert!((fd - jac[(k, j)]).abs() < 1e-7, "{o} ({k},{j}): {fd} vs {}", jac[(k, j)]);
                }
            }
            assert!((&jac - jac.transpose()).amax() < 1e-12, "{o}: Hessian of J is symmetric");
            let ones = nalgebra::DVector::from_element(m.len(), 1.0);
            assert!((&jac * ones).amax() < 1e-12, "{o}: all-ones logit shift is a null direction");
        }
    }

    #[test]
    fn rejects_zero_reference_mass() {
        let b = Bandit::from_log_weights(
            &[0.0, f64::NEG_INFINITY],
            &[1.0, 0.0],
            &[1, 1],
            &["a".to_string(), "b".to_string()],
        )
        .unwrap();
        assert!(TabularBandit::new(b, Regime::sharpening().into()).is_err());
    }
}
