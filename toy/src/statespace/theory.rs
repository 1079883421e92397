//! What `sharpen toy tree` reports, computed on a state-space model: the same quantities as
//! [`crate::tree::theory`], by the passes of [`super::dp`].

use super::dp::{
    answer_names, base_cells, continuation_spread, policy_law, power_policy, summarize, target, temperature_policy,
    Cell, Target,
};
use super::model::StateModel;
use crate::regime::{Mode, Normalization, Regime};
use crate::tree::dp::Summary;
use crate::tree::theory::{PowerVsTemperature, SlopeAtOne};

/// A model together with its base law's cells and its answer list, shared by every query.
pub struct Solver<'m> {
    pub model: &'m StateModel,
    pub base: Vec<Cell>,
    pub answers: Vec<String>,
}

impl<'m> Solver<'m> {
    pub fn new(model: &'m StateModel) -> Self {
        let base = base_cells(model);
        let answers = answer_names(model, &base);
        Self { model, base, answers }
    }

    /// The exact target of a regime.
    pub fn target(&self, regime: &Regime) -> Target {
        target(self.model, regime)
    }

    /// Exact summary of a regime's target.
    pub fn solve(&self, regime: &Regime) -> Summary {
        summarize(self.model, &self.target(regime), &self.answers)
    }

    /// The base model π_ref.
    pub fn base_summary(&self) -> Summary {
        self.solve(&Regime::control())
    }

    /// T5 read off the length law, as [`crate::tree::theory::alpha_star_dp`]: the α in [0, 1]
    /// at which π_ref^α puts equal mass on lengths 0 and 1.
    pub fn alpha_star_dp(&self) -> Option<f64> {
        if self.model.max_len < 2 {
            return None;
        }
        // In log space: at an LLM's size P(L = 0) underflows near α = 0 (the mass is at the cap).
        let log_ratio = |a: f64| {
            let r = Regime::new(Mode::Sampling, a, 0.0, Normalization::Sum).expect("alpha in [0, 1]");
            let t = self.target(&r);
            let at = |len: usize| {
                let w: Vec<f64> = t.cells.iter().filter(|c| c.len == len).map(|c| c.log_mass).collect();
                crate::logspace::logsumexp(&w)
            };
            at(1) - at(0)
        };
        crate::logspace::unit_root(log_ratio, 1e-13)
    }

    /// T5: dE[L]/dα at α = 1 = Cov(L, log π_ref), Var L, and −h̄·Var L. Within a cell L is
    /// fixed, so Cov(L, S) = Σ_cells q·(ℓ − E L)·(E[S | cell] − E S).
    pub fn slope_at_one(&self) -> SlopeAtOne {
        let m = self.model;
        let log_z = crate::logspace::logsumexp(&self.base.iter().map(|c| c.log_mass).collect::<Vec<_>>());
        let q: Vec<f64> = self.base.iter().map(|c| (c.log_mass - log_z).exp()).collect();
        let e = |f: &dyn Fn(&Cell) -> f64| self.base.iter().zip(&q).map(|(c, q)| q * f(c)).sum::<f64>();
        let mean_len = e(&|c| c.len as f64);
        let mean_s = e(&|c| c.mean_s);
        let var_length = e(&|c| (c.len as f64 - mean_len).powi(2));
        let slope = e(&|c| (c.len as f64 - mean_len) * (c.mean_s - mean_s));
        // The prefix's log-probability leaves out the stop.
        let prefix = e(&|c| c.mean_s - m.log_stop(c.len, c.state));
        let surprisal_per_token = if mean_len > 0.0 { -prefix / mean_len } else { 0.0 };
        SlopeAtOne { slope, var_length, surprisal_per_token, approximation: -surprisal_per_token * var_length }
    }

    /// T6: the exact power target π_ref^α against token temperature 1/α.
    pub fn power_vs_temperature(&self, alpha: f64) -> PowerVsTemperature {
        let (p, t) = (power_policy(self.model, alpha), temperature_policy(self.model, alpha));
        let (power, kl_pt) = policy_law(self.model, &p, Some(&t), &self.answers);
        let (temperature, kl_tp) = policy_law(self.model, &t, Some(&p), &self.answers);
        PowerVsTemperature {
            alpha,
            kl_power_temperature: kl_pt,
            kl_temperature_power: kl_tp,
            z_spread: continuation_spread(self.model, alpha),
            power,
            temperature,
        }
    }
}
