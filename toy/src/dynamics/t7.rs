//! T7 (a)–(d) of docs/design.md §3 as functions returning the data behind the tables and figures.

use super::bandit_policy::TabularBandit;
use super::estimator::Trainable;
use super::fixed_points::{fixed_points, FixedPoint};
use super::flow::exact_flow_to;
use super::objective::Objective;
use super::summary::{final_summary, per_step, FinalSummary, StepSummary};
use super::train::{train_seeds, TrainConfig};
use crate::bandit::Bandit;
use crate::error::ToyError;
use crate::regime::Regime;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// (a) Where the exact flow from π_ref ends, against the closed-form optimum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowEnd {
    pub objective: String,
    pub t_end: f64,
    pub end: Vec<f64>,
    /// Closed form: the Gibbs target (sampling), π_ref restricted to the argmax set
    /// (optimization), the mode vertex of π_ref (self-certainty).
    pub target: Vec<f64>,
    /// max_y |π_end(y) − π*(y)|.
    pub max_abs_error: f64,
    pub end_accuracy: f64,
    pub target_accuracy: f64,
    pub completed: bool,
}

/// The closed-form end point of the flow from π_ref.
pub fn closed_form_target(bandit: &Bandit, objective: &Objective) -> Vec<f64> {
    match objective {
        Objective::Regime { regime } => bandit.target(regime),
        Objective::SelfCertainty => {
            let p = bandit.base();
            let m = (0..p.len()).max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a))).unwrap_or(0);
            (0..p.len()).map(|i| if i == m { 1.0 } else { 0.0 }).collect()
        }
    }
}

pub fn flow_end(bandit: &Bandit, objective: Objective, t_end: f64) -> Result<FlowEnd, ToyError> {
    let model = TabularBandit::new(bandit.clone(), objective)?;
    let flow = exact_flow_to(&model, t_end);
    let end = flow.end().policy.clone();
    let target = closed_form_target(bandit, &objective);
    let max_abs_error = end.iter().zip(&target).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    Ok(FlowEnd {
        objective: objective.name(),
        t_end,
        end_accuracy: bandit.expected_reward(&end),
        target_accuracy: bandit.expected_reward(&target),
        end,
        target,
        max_abs_error,
        completed: flow.completed,
    })
}

/// (b) One regime's stochastic runs over many seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedSpread {
    pub objective: String,
    pub per_step: Vec<StepSummary>,
    pub last: FinalSummary,
}

pub fn seed_spread(
    bandit: &Bandit,
    objective: Objective,
    cfg: &TrainConfig,
    seeds: usize,
    threads: usize,
) -> Result<SeedSpread, ToyError> {
    let model = TabularBandit::new(bandit.clone(), objective)?;
    Ok(seed_spread_of(&model, objective, cfg, seeds, threads))
}

/// (b) on any tabular policy (a bandit or a tree).
pub fn seed_spread_of(
    model: &impl Trainable,
    objective: Objective,
    cfg: &TrainConfig,
    seeds: usize,
    threads: usize,
) -> SeedSpread {
    let runs = train_seeds(model, cfg, seeds, threads, &|| {});
    SeedSpread { objective: objective.name(), per_step: per_step(&runs), last: final_summary(&runs) }
}

/// (c) The fixed points of the self-referential flow with their eigenvalues.
pub fn self_certainty_fixed_points(bandit: &Bandit, max_all: usize) -> Result<Vec<FixedPoint>, ToyError> {
    Ok(fixed_points(&TabularBandit::new(bandit.clone(), Objective::SelfCertainty)?, max_all))
}

/// (c) Which vertex the seeds reach when π_ref's two top responses are `gap` nats apart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapRow {
    pub objective: String,
    /// log π_ref(top) − log π_ref(runner-up).
    pub gap: f64,
    /// Fractions of seeds whose final mode is π_ref's mode, the runner-up, or another response.
    pub to_mode: f64,
    pub to_runner_up: f64,
    pub to_other: f64,
    /// Fraction of seeds whose final policy is within 0.01 of a vertex.
    pub at_vertex: f64,
    pub accuracy: f64,
}

/// Train `seeds` seeds on [`crate::problems::near_tie`]`(gap)` for each gap.
pub fn seed_vs_gap(
    objective: Objective,
    gaps: &[f64],
    cfg: &TrainConfig,
    seeds: usize,
    threads: usize,
) -> Result<Vec<GapRow>, ToyError> {
    gaps.iter()
        .map(|&gap| {
            let b = crate::problems::near_tie(gap);
            let s = seed_spread(&b, objective, cfg, seeds, threads)?.last;
            let frac = |i: usize| *s.modes.get(&i).unwrap_or(&0) as f64 / seeds as f64;
            Ok(GapRow {
                objective: objective.name(),
                gap,
                to_mode: frac(0),
                to_runner_up: frac(1),
                to_other: 1.0 - frac(0) - frac(1),
                at_vertex: s.at_vertex,
                accuracy: s.accuracy.mean,
            })
        })
        .collect()
}

/// (d) How each regime's optimum responds to perturbing log π_ref by ε·u, u ~ U[−1, 1] per response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerturbationRow {
    pub regime: String,
    pub epsilon: f64,
    pub draws: usize,
    /// Fraction of draws whose optimum's accuracy moved by more than 0.5 (a jump).
    pub jump_fraction: f64,
    /// Fraction whose optimum's accuracy moved by more than 0.01.
    pub changed_fraction: f64,
    pub mean_abs_accuracy_change: f64,
    /// Mean and max total-variation distance between the optima, divided by ε.
    pub mean_tv_over_eps: f64,
    pub max_tv_over_eps: f64,
}

pub fn perturbation_sensitivity(
    bandit: &Bandit,
    regimes: &[Regime],
    epsilons: &[f64],
    draws: usize,
    seed: u64,
) -> Result<Vec<PerturbationRow>, ToyError> {
    let rewards = bandit.rewards();
    let lengths: Vec<usize> = bandit.responses().iter().map(|r| r.length).collect();
    let answers: Vec<String> = bandit.responses().iter().map(|r| r.answer.clone()).collect();
    let mut rows = Vec::new();
    for (ri, regime) in regimes.iter().enumerate() {
        let t0 = bandit.target(regime);
        let a0 = bandit.expected_reward(&t0);
        for (ei, &eps) in epsilons.iter().enumerate() {
            // One stream per (regime, ε) so rows do not depend on the order they are computed in.
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream((ri * epsilons.len() + ei) as u64);
            let (mut jumps, mut changed, mut dacc, mut tv_sum, mut tv_max) = (0usize, 0usize, 0.0, 0.0, 0.0f64);
            for _ in 0..draws {
                let lw: Vec<f64> = bandit.log_ref().iter().map(|s| s + eps * rng.gen_range(-1.0..=1.0)).collect();
                let b = Bandit::from_log_weights(&lw, &rewards, &lengths, &answers)?;
                let t = b.target(regime);
                let d = (b.expected_reward(&t) - a0).abs();
                jumps += (d > 0.5) as usize;
                changed += (d > 0.01) as usize;
                dacc += d;
                let tv = 0.5 * t.iter().zip(&t0).map(|(a, b)| (a - b).abs()).sum::<f64>();
                tv_sum += tv;
                tv_max = tv_max.max(tv);
            }
            let n = draws.max(1) as f64;
            rows.push(PerturbationRow {
                regime: regime.name(),
                epsilon: eps,
                draws,
                jump_fraction: jumps as f64 / n,
                changed_fraction: changed as f64 / n,
                mean_abs_accuracy_change: dacc / n,
                mean_tv_over_eps: tv_sum / n / eps,
                max_tv_over_eps: tv_max / eps,
            });
        }
    }
    Ok(rows)
}
