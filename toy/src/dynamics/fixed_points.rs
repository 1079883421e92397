//! Fixed points of the exact flow on every face of the simplex, their eigenvalues and their
//! stability.
//!
//! On a face S (the responses the policy keeps), G = 0 means r_y equal for all y ∈ S. With
//! r = base + c·log π this gives, for c ≠ 0, exactly one fixed point per face,
//! π_S ∝ exp(−base/c) on S (the Gibbs target restricted to S when c < 0; the uniform
//! distribution over S for self-certainty, where base = 0). For c = 0 (optimization mode) a face
//! holds fixed points only when base is tied on it, and then every policy on it is one; we report
//! each vertex and each maximal tie class (with π_ref restricted to it as its representative).
//!
//! Eigenvalues come in two kinds:
//! * internal — the Jacobian of the exact flow (the Hessian of J) restricted to the face, with the
//!   softmax gauge (the all-ones logit direction, always a zero eigenvalue) projected out;
//! * transverse — for each response y ∉ S, its invasion rate r_y − r̄ at π_y → 0 (the growth rate
//!   of log π_y under the replicator / natural-gradient flow, whose sign the softmax flow shares).
//!   The vanilla softmax flow has no exponential rate there: dθ_y/dt = π_y(r_y − r̄) → 0, which
//!   is why softmax policy gradients approach vertices only like 1/t. A vertex has no internal
//!   directions, so its stability is read from its transverse rates alone. With c > 0 a dropped
//!   response has r_y = c·log 0 = −∞ (it can never come back); with c < 0, +∞.

use super::bandit_policy::TabularBandit;
use crate::logspace::softmax;
use nalgebra::{DMatrix, SymmetricEigen};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stability {
    /// Every eigenvalue < 0.
    Stable,
    /// Every eigenvalue > 0 (a source).
    Unstable,
    /// Eigenvalues of both signs.
    Saddle,
    /// None > 0 but some = 0 (a continuum of fixed points, e.g. ties in the task reward).
    Marginal,
}

impl Stability {
    pub fn is_unstable(self) -> bool {
        matches!(self, Stability::Unstable | Stability::Saddle)
    }
    pub fn name(self) -> &'static str {
        match self {
            Stability::Stable => "stable",
            Stability::Unstable => "unstable",
            Stability::Saddle => "saddle",
            Stability::Marginal => "marginal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixedPoint {
    /// The responses with positive mass (sorted indices).
    pub support: Vec<usize>,
    pub policy: Vec<f64>,
    pub accuracy: f64,
    pub expected_length: f64,
    /// Eigenvalues within the face, gauge removed (ascending; empty for a vertex).
    pub internal: Vec<f64>,
    /// (response, invasion rate r_y − r̄) for each y outside the support.
    pub transverse: Vec<(usize, f64)>,
    pub stability: Stability,
}

/// Relative tolerance for "zero" eigenvalues and for ties in base rewards.
const ZERO_TOL: f64 = 1e-9;

/// All fixed points when the problem has at most `max_all` responses (every face), otherwise
/// the vertices and the nested faces of the top-k responses by π_ref (k = 2..n), which hold the
/// interior equilibria the flow from π_ref can meet.
pub fn fixed_points(model: &TabularBandit, max_all: usize) -> Vec<FixedPoint> {
    let n = model.len();
    let c = model.policy_coefficient();
    let faces: Vec<Vec<usize>> = if c == 0.0 {
        tie_faces(model)
    } else if n <= max_all {
        (1u64..(1u64 << n)).map(|mask| (0..n).filter(|&i| mask >> i & 1 == 1).collect()).collect()
    } else {
        let log_ref = model.bandit().log_ref();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| log_ref[b].total_cmp(&log_ref[a]).then(a.cmp(&b)));
        let mut f: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
        f.extend((2..=n).map(|k| {
            let mut s = order[..k].to_vec();
            s.sort();
            s
        }));
        f
    };
    faces.into_iter().map(|s| analyse(model, s)).collect()
}

/// Optimization mode: vertices, then each maximal class of responses with tied base reward.
fn tie_faces(model: &TabularBandit) -> Vec<Vec<usize>> {
    let base = model.base();
    let n = base.len();
    let mut faces: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
    let mut seen = vec![false; n];
    for i in 0..n {
        if seen[i] {
            continue;
        }
        let class: Vec<usize> = (i..n).filter(|&j| tied(base[i], base[j])).collect();
        class.iter().for_each(|&j| seen[j] = true);
        if class.len() > 1 {
            faces.push(class);
        }
    }
    faces
}

fn tied(a: f64, b: f64) -> bool {
    (a - b).abs() <= ZERO_TOL * a.abs().max(b.abs()).max(1.0)
}

/// The fixed point on face `support` and its eigenvalues.
pub fn analyse(model: &TabularBandit, support: Vec<usize>) -> FixedPoint {
    let n = model.len();
    let c = model.policy_coefficient();
    let base = model.base();
    let log_ref = model.bandit().log_ref();
    // Log-weights on the face: the restricted Gibbs/uniform point for c ≠ 0, π_ref restricted for c = 0.
    let mut log_w = vec![f64::NEG_INFINITY; n];
    for &i in &support {
        log_w[i] = if c == 0.0 { log_ref[i] } else { -base[i] / c };
    }
    let (pi, _) = softmax(&log_w);
    // Off the face, log π = −∞: r = ∓∞ when c ≷ 0, and r = base when c = 0.
    let r: Vec<f64> = (0..n)
        .map(|i| {
            if pi[i] > 0.0 {
                base[i] + c * pi[i].ln()
            } else if c == 0.0 {
                base[i]
            } else {
                -c.signum() * f64::INFINITY
            }
        })
        .collect();
    let r_bar: f64 = support.iter().map(|&i| pi[i] * r[i]).sum();

    let internal = internal_eigenvalues(model, &pi, &r, &support);
    let transverse: Vec<(usize, f64)> = (0..n).filter(|i| !support.contains(i)).map(|i| (i, r[i] - r_bar)).collect();
    let scale = base.iter().map(|b| b.abs()).fold(c.abs(), f64::max).max(1.0);
    let all: Vec<f64> = internal.iter().copied().chain(transverse.iter().map(|t| t.1)).collect();
    let stability = classify(&all, ZERO_TOL * scale);
    FixedPoint {
        accuracy: model.accuracy(&pi),
        expected_length: model.expected_length(&pi),
        support,
        policy: pi,
        internal,
        transverse,
        stability,
    }
}

/// Eigenvalues of the Jacobian on the face, in an orthonormal basis of the face's logit
/// directions orthogonal to the all-ones (gauge) direction.
pub fn internal_eigenvalues(model: &TabularBandit, pi: &[f64], r: &[f64], support: &[usize]) -> Vec<f64> {
    let s = support.len();
    if s < 2 {
        return Vec::new();
    }
    let full = model.jacobian_at(pi, r);
    let j = DMatrix::from_fn(s, s, |a, b| full[(support[a], support[b])]);
    let q = gauge_free_basis(s);
    let reduced = q.transpose() * &j * &q;
    // J is a Hessian, hence symmetric; symmetrise away rounding before the symmetric solver.
    let sym = (&reduced + reduced.transpose()) * 0.5;
    let mut ev: Vec<f64> = SymmetricEigen::new(sym).eigenvalues.iter().copied().collect();
    ev.sort_by(f64::total_cmp);
    ev
}

/// Helmert basis: s − 1 orthonormal columns orthogonal to (1, …, 1).
pub fn gauge_free_basis(s: usize) -> DMatrix<f64> {
    DMatrix::from_fn(s, s - 1, |i, j| {
        let k = (j + 1) as f64;
        let norm = (k * (k + 1.0)).sqrt();
        if i <= j {
            1.0 / norm
        } else if i == j + 1 {
            -k / norm
        } else {
            0.0
        }
    })
}

fn classify(eigs: &[f64], tol: f64) -> Stability {
    let pos = eigs.iter().any(|&x| x > tol);
    let neg = eigs.iter().any(|&x| x < -tol);
    let zero = eigs.iter().any(|&x| x.abs() <= tol);
    match (pos, neg, zero) {
        (true, true, _) => Stability::Saddle,
        (true, false, _) => Stability::Unstable,
        (false, _, true) => Stability::Marginal,
        (false, _, false) => Stability::Stable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helmert_basis_is_orthonormal_and_gauge_free() {
        let q = gauge_free_basis(5);
        let qtq = q.transpose() * &q;
        assert!((qtq - DMatrix::identity(4, 4)).amax() < 1e-12);
        let ones = DMatrix::from_element(1, 5, 1.0);
        assert!((ones * q).amax() < 1e-12);
    }

    #[test]
    fn classification() {
        assert_eq!(classify(&[-1.0, -2.0], 1e-9), Stability::Stable);
        assert_eq!(classify(&[1.0, 2.0], 1e-9), Stability::Unstable);
        assert_eq!(classify(&[1.0, -2.0], 1e-9), Stability::Saddle);
        assert_eq!(classify(&[0.0, -2.0], 1e-9), Stability::Marginal);
        assert_eq!(classify(&[f64::NEG_INFINITY], 1e-9), Stability::Stable);
    }
}
