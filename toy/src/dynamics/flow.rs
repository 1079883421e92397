//! The exact gradient flow dθ/dt = G(θ) from θ = log π_ref: the path the trainer follows in
//! expectation, in the limit of small learning rates.

use super::bandit_policy::TabularBandit;
use super::ode::{dopri5, Tolerance};
use serde::Serialize;

/// The policy along the flow at a few times.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowPoint {
    pub t: f64,
    pub policy: Vec<f64>,
    pub accuracy: f64,
    pub expected_length: f64,
    pub entropy: f64,
    /// J(θ) = E_π[r].
    pub objective: f64,
    /// ‖G(θ)‖₂: zero at a fixed point.
    pub gradient_norm: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flow {
    pub points: Vec<FlowPoint>,
    /// False when the integrator ran out of steps (the points stop early).
    pub completed: bool,
    pub steps: usize,
}

impl Flow {
    pub fn end(&self) -> &FlowPoint {
        self.points.last().expect("a flow has at least its start")
    }
}

/// Log-spaced report times 0, t_end·10^{-decades}, …, t_end (`per_decade` points per decade).
pub fn log_times(t_end: f64, decades: usize, per_decade: usize) -> Vec<f64> {
    let n = decades * per_decade;
    let mut v = vec![0.0];
    v.extend((0..=n).map(|i| t_end * 10f64.powf(-(decades as f64) + i as f64 / per_decade as f64)));
    v
}

/// Integrate the exact flow from π_ref and report it at `times` (sorted, starting at 0 or later).
pub fn exact_flow(model: &TabularBandit, times: &[f64], tol: Tolerance) -> Flow {
    let path = dopri5(|th| model.expected_gradient(th), &model.initial_logits(), times, tol);
    let points = path
        .times
        .iter()
        .zip(&path.states)
        .map(|(&t, th)| {
            let pi = model.policy(th);
            let g = model.expected_gradient(th);
            FlowPoint {
                t,
                accuracy: model.accuracy(&pi),
                expected_length: model.expected_length(&pi),
                entropy: model.entropy(&pi),
                objective: model.objective_value(th),
                gradient_norm: g.iter().map(|x| x * x).sum::<f64>().sqrt(),
                policy: pi,
            }
        })
        .collect();
    Flow { points, completed: path.completed, steps: path.accepted + path.rejected }
}

/// The flow with the default report times (t = 10⁻²…t_end, 4 points per decade).
pub fn exact_flow_to(model: &TabularBandit, t_end: f64) -> Flow {
    let decades = (t_end.log10() + 2.0).ceil().max(1.0) as usize;
    exact_flow(model, &log_times(t_end, decades, 4), Tolerance::default())
}
