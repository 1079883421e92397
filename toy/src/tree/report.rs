//! What `sharpen toy tree FAMILY` computes: the base model, each requested regime and the
//! power-vs-temperature comparison, as data (`--json`) or as tables.

use super::dp::{sequence_log_probs, summarize, Summary};
use super::model::Tree;
use super::spec::FamilySpec;
use super::theory::{
    alpha_star, alpha_star_dp, power_vs_temperature, slope_at_one, solve, PowerVsTemperature, SlopeAtOne,
};
use crate::error::ToyError;
use crate::regime::{Mode, Normalization, Regime};
use crate::report::{Report, Table};
use crate::row;
use crate::statespace::dp::log10_prefixes;
use crate::statespace::{Solver, StateModel};
use serde::Serialize;

/// The regimes to solve: one per α, all sharing mode, β⁻¹ and normalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeQuery {
    pub alphas: Vec<f64>,
    pub mode: Mode,
    pub beta_inv: f64,
    pub normalization: Normalization,
    pub max_nodes: usize,
    pub method: Method,
}

/// Which exact solver answers: the prefix tree, or dynamic programming over (position, state)
/// ([`crate::statespace`]), which reaches an LLM's vocabulary and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// The state-space solver whenever the family has a state-space form (all named ones do).
    Auto,
    Tree,
    StateSpace,
}

/// One requested regime's exact target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegimeResult {
    pub alpha: f64,
    pub beta_inv: f64,
    pub mode: Mode,
    pub normalization: Normalization,
    pub mean_length: f64,
    pub accuracy: f64,
    pub entropy: f64,
    /// P(L = ℓ) for ℓ = 0..=cap.
    pub length_pmf: Vec<f64>,
    pub answers: std::collections::BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TreeResult {
    pub family: String,
    /// Which solver answered: "tree" or "state-space".
    pub solver: Method,
    /// Prefixes of the tree (null when the count does not fit an integer).
    pub prefixes: Option<usize>,
    pub log10_prefixes: f64,
    /// States of the state-space model (null for the tree solver).
    pub states: Option<usize>,
    pub max_len: usize,
    /// Closed-form α* (geometric family with EOS; null otherwise).
    pub alpha_star: Option<f64>,
    /// The same read off the DP's length marginal.
    pub alpha_star_dp: Option<f64>,
    pub base: Summary,
    pub slope_at_one: SlopeAtOne,
    pub regimes: Vec<RegimeResult>,
    /// π_ref^α (sequence power) against token temperature 1/α, per requested α.
    pub temperature: Vec<PowerVsTemperature>,
}

pub fn analyze(spec: &FamilySpec, q: &TreeQuery) -> Result<TreeResult, ToyError> {
    let regimes =
        q.alphas.iter().map(|&a| Regime::new(q.mode, a, q.beta_inv, q.normalization)).collect::<Result<Vec<_>, _>>()?;
    if q.method == Method::Tree {
        let tree = spec.build(q.max_nodes)?;
        return Ok(analyze_tree(&tree, spec, &regimes));
    }
    let model = crate::statespace::from_spec(spec)?;
    Ok(analyze_states(&model, spec, &regimes))
}

/// The same report from the state-space solver.
pub fn analyze_states(model: &StateModel, spec: &FamilySpec, regimes: &[Regime]) -> TreeResult {
    let solver = Solver::new(model);
    let geometric = spec.geometric();
    let log10_prefixes = log10_prefixes(model);
    TreeResult {
        family: model.name.clone(),
        solver: Method::StateSpace,
        // Exact below 2^53; above, only the logarithm is reported.
        prefixes: (log10_prefixes < 15.0).then(|| 10f64.powf(log10_prefixes).round() as usize),
        log10_prefixes,
        states: Some(model.len()),
        max_len: model.max_len,
        alpha_star: geometric.map(alpha_star),
        alpha_star_dp: geometric.and_then(|_| solver.alpha_star_dp()),
        base: solver.base_summary(),
        slope_at_one: solver.slope_at_one(),
        regimes: regimes.iter().map(|r| regime_result(r, solver.solve(r))).collect(),
        temperature: regimes.iter().map(|r| solver.power_vs_temperature(r.alpha)).collect(),
    }
}

fn regime_result(r: &Regime, s: Summary) -> RegimeResult {
    RegimeResult {
        alpha: r.alpha,
        beta_inv: r.beta_inv,
        mode: r.mode,
        normalization: r.normalization,
        mean_length: s.mean_length,
        accuracy: s.accuracy,
        entropy: s.entropy,
        length_pmf: s.length_pmf,
        answers: s.answers,
    }
}

fn analyze_tree(tree: &Tree, spec: &FamilySpec, regimes: &[Regime]) -> TreeResult {
    let geometric = spec.geometric();
    TreeResult {
        family: tree.name().to_string(),
        solver: Method::Tree,
        prefixes: Some(tree.len()),
        log10_prefixes: (tree.len() as f64).log10(),
        states: None,
        max_len: tree.max_len(),
        alpha_star: geometric.map(alpha_star),
        alpha_star_dp: geometric.and_then(|_| alpha_star_dp(tree)),
        base: summarize(tree, &sequence_log_probs(tree, tree.base())),
        slope_at_one: slope_at_one(tree),
        regimes: regimes.iter().map(|r| regime_result(r, solve(tree, r))).collect(),
        temperature: regimes.iter().map(|r| power_vs_temperature(tree, r.alpha)).collect(),
    }
}

fn pmf_columns(max_len: usize) -> Vec<String> {
    (0..=max_len).map(|l| format!("L={l}")).collect()
}

/// The result as tables: length marginals, accuracy and entropy; the temperature comparison.
pub fn to_report(r: &TreeResult) -> Report {
    let mut cols = vec!["target".to_string(), "mean L".into(), "accuracy".into(), "entropy".into()];
    cols.extend(pmf_columns(r.max_len));
    let col_refs: Vec<&str> = cols.iter().map(|s| s.as_str()).collect();
    let mut lengths = Table::new("Length marginal, accuracy and entropy (nats) of each target", &col_refs);
    let mut push = |name: String, mean: f64, acc: f64, ent: f64, pmf: &[f64]| {
        let mut row = row![name, mean, acc, ent];
        row.extend(pmf.iter().map(|&p| p.into()));
        lengths.push(row);
    };
    push("π_ref".into(), r.base.mean_length, r.base.accuracy, r.base.entropy, &r.base.length_pmf);
    for g in &r.regimes {
        let regime = Regime { mode: g.mode, alpha: g.alpha, beta_inv: g.beta_inv, normalization: g.normalization };
        push(regime.name(), g.mean_length, g.accuracy, g.entropy, &g.length_pmf);
    }
    let mut temp = Table::new(
        "Sequence power π_ref^α vs token temperature 1/α",
        &["alpha", "KL(power‖temp)", "KL(temp‖power)", "Z_α spread", "acc power", "acc temp", "L power", "L temp"],
    );
    for c in &r.temperature {
        temp.push(row![
            c.alpha,
            c.kl_power_temperature,
            c.kl_temperature_power,
            c.z_spread,
            c.power.accuracy,
            c.temperature.accuracy,
            c.power.mean_length,
            c.temperature.mean_length
        ]);
    }
    let mut facts = Table::new("The base model and the critical α", &["quantity", "value"]);
    match (r.prefixes, r.states) {
        (Some(n), None) => facts.push(row!["prefixes in the tree", n]),
        (_, states) => {
            facts.push(row!["solver", "state space (position × state)"]);
            facts.push(row!["states", states.unwrap_or(0)]);
            facts.push(row!["prefixes of the equivalent tree", format!("1e{:.2}", r.log10_prefixes)]);
        }
    }
    facts.push(row!["dE[L]/dα at α=1 = Cov(L, log π_ref)", r.slope_at_one.slope]);
    facts.push(row!["−h̄·Var(L)", r.slope_at_one.approximation]);
    let star = |x: Option<f64>, none: &str| x.map_or_else(|| none.to_string(), |a| format!("{a:.9}"));
    facts.push(row!["α* closed form", star(r.alpha_star, "— (geometric family only)")]);
    facts.push(row![
        "α* from the DP",
        star(r.alpha_star_dp, "— (needs the geometric family, cap ≥ 2, a crossing in (0, 1))")
    ]);
    let message = match r.alpha_star {
        Some(a) => format!(
            "{}: below α* = {a:.4} the mass of π_ref^α runs to the cap; at α = 1 the length is the base's; above, it collapses.",
            r.family
        ),
        None => match r.states {
            None => format!("{}: exact targets by dynamic programming over {} prefixes.", r.family, r.prefixes.unwrap_or(0)),
            Some(k) => format!("{}: exact targets by dynamic programming over {k} states × {} positions.", r.family, r.max_len + 1),
        },
    };
    Report { scenario: format!("tree {}", r.family), message, tables: vec![facts, lengths, temp] }
}
