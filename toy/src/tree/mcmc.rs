//! Power sampling checked against the exact module: the MCMC sampler of [`crate::mcmc`] run on
//! a prefix tree, beside the exact π_ref^α ([`super::power`]) and token temperature 1/α
//! ([`super::temperature`]) — what `sharpen toy power` prints.

use super::dp::{sequence_log_probs, summarize, Summary};
use super::model::Tree;
use super::power::power_conditionals;
use super::sample::sample;
use super::spec::FamilySpec;
use super::temperature::temperature_conditionals;
use crate::error::ToyError;
use crate::mcmc::{chain_rng, sample_many, Autoregressive, Draw, PowerSampler, Proposal};
use crate::report::{Report, Table};
use crate::row;
use serde::Serialize;

impl Autoregressive for Tree {
    fn vocab(&self) -> usize {
        Tree::vocab(self)
    }
    fn max_len(&self) -> usize {
        Tree::max_len(self)
    }
    /// A prefix the tree does not hold (the sampler never asks for one) is answered with a
    /// certain EOS, so a caller's mistake ends the response instead of panicking.
    fn next_log_probs(&self, prefix: &[u32], out: &mut [f64]) -> f64 {
        out.iter_mut().for_each(|x| *x = f64::NEG_INFINITY);
        let Some(n) = self.find(prefix) else { return 0.0 };
        for c in self.children(n) {
            out[self.token(c) as usize] = self.base().log_edge[c];
        }
        self.base().log_stop[n]
    }
}

/// The nodes where the draws stop (every draw is a complete response of the tree).
pub fn draw_nodes(tree: &Tree, draws: &[Draw]) -> Vec<usize> {
    draws.iter().map(|d| tree.find(&d.tokens).unwrap_or(0)).collect()
}

/// log of the empirical law of `nodes` per node (−∞ where no draw stopped).
pub fn empirical_log_q(tree: &Tree, nodes: &[usize]) -> Vec<f64> {
    let mut counts = vec![0usize; tree.len()];
    nodes.iter().for_each(|&n| counts[n] += 1);
    let total = nodes.len().max(1) as f64;
    counts.iter().map(|&c| if c == 0 { f64::NEG_INFINITY } else { (c as f64 / total).ln() }).collect()
}

/// Total variation between two laws over complete sequences given as log-probabilities per node.
pub fn tv(log_p: &[f64], log_q: &[f64]) -> f64 {
    0.5 * log_p.iter().zip(log_q).map(|(a, b)| (a.exp() - b.exp()).abs()).sum::<f64>()
}

/// Total variation between two length laws.
pub fn length_tv(p: &[f64], q: &[f64]) -> f64 {
    0.5 * p.iter().zip(q).map(|(a, b)| (a - b).abs()).sum::<f64>()
}

/// What `sharpen toy power` reports of each law.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Law {
    pub accuracy: f64,
    pub mean_length: f64,
    /// P(L = ℓ) for ℓ = 0..=cap.
    pub length_pmf: Vec<f64>,
}

impl From<Summary> for Law {
    fn from(s: Summary) -> Self {
        Self { accuracy: s.accuracy, mean_length: s.mean_length, length_pmf: s.length_pmf }
    }
}

/// The MCMC estimate: its law, how often moves were accepted and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct McmcLaw {
    #[serde(flatten)]
    pub law: Law,
    pub acceptance_rate: f64,
    /// Next-token evaluations per sample (forward tokens with a KV cache of the kept prefix).
    pub forward_tokens_per_sample: f64,
    /// Total variation to the exact π_ref^α over complete responses and over lengths.
    pub tv: f64,
    pub length_tv: f64,
}

/// Distance of N draws to the exact π_ref^α, after K moves per block.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TvPoint {
    pub steps: usize,
    pub tv: f64,
    pub length_tv: f64,
    pub accuracy: f64,
}

/// The same distances for N exact draws: the Monte Carlo floor no sampler can beat.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoiseFloor {
    pub tv: f64,
    pub length_tv: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PowerQuery {
    pub alpha: f64,
    /// K: moves per block.
    pub steps: usize,
    /// N: independent chains, one sample each.
    pub samples: usize,
    pub seed: u64,
    pub proposal: Proposal,
    pub block: Option<usize>,
    pub threads: usize,
    pub max_nodes: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerResult {
    pub family: String,
    pub alpha: f64,
    pub mcmc_steps: usize,
    pub samples: usize,
    pub seed: u64,
    pub proposal: Proposal,
    /// Tokens per block (the cap when there is a single block).
    pub block: usize,
    /// π_ref^α, exact (dynamic programming).
    pub exact: Law,
    pub mcmc: McmcLaw,
    /// Token temperature 1/α, exact.
    pub temperature: Law,
    /// TV to the exact law for K = 0, 1, 2, 4, … up to the requested K (same seed).
    pub tv_by_steps: Vec<TvPoint>,
    pub noise_floor: NoiseFloor,
}

/// K = 0, 1, 2, 4, … below `k`, then `k` itself.
pub fn steps_grid(k: usize) -> Vec<usize> {
    let mut g = vec![0];
    g.extend((0..).map(|i| 1usize << i).take_while(|&s| s < k));
    if k > 0 {
        g.push(k);
    }
    g
}

/// The MCMC estimate of π_ref^α on a tree and its distances to the exact law.
pub fn mcmc_law(tree: &Tree, sampler: &PowerSampler, samples: usize, seed: u64, threads: usize) -> McmcLaw {
    let exact = sequence_log_probs(tree, &power_conditionals(tree, sampler.alpha));
    let draws = sample_many(tree, sampler, samples, seed, threads);
    let log_q = empirical_log_q(tree, &draw_nodes(tree, &draws));
    let law: Law = summarize(tree, &log_q).into();
    let (proposed, accepted, fwd) =
        draws.iter().fold((0, 0, 0), |(p, a, f), d| (p + d.proposed, a + d.accepted, f + d.forward_tokens));
    let n = draws.len().max(1) as f64;
    McmcLaw {
        length_tv: length_tv(&law.length_pmf, &summarize(tree, &exact).length_pmf),
        tv: tv(&log_q, &exact),
        law,
        acceptance_rate: if proposed == 0 { 0.0 } else { accepted as f64 / proposed as f64 },
        forward_tokens_per_sample: fwd as f64 / n,
    }
}

/// N exact draws of π_ref^α and their distances to it (stream `u64::MAX`, apart from the chains').
pub fn noise_floor(tree: &Tree, alpha: f64, samples: usize, seed: u64) -> NoiseFloor {
    let policy = power_conditionals(tree, alpha);
    let exact = sequence_log_probs(tree, &policy);
    let mut rng = chain_rng(seed, usize::MAX);
    let nodes: Vec<usize> = (0..samples).map(|_| sample(tree, &policy, &mut rng)).collect();
    let log_q = empirical_log_q(tree, &nodes);
    NoiseFloor {
        tv: tv(&log_q, &exact),
        length_tv: length_tv(&summarize(tree, &log_q).length_pmf, &summarize(tree, &exact).length_pmf),
    }
}

pub fn analyze(spec: &FamilySpec, q: &PowerQuery) -> Result<PowerResult, ToyError> {
    let tree = spec.build(q.max_nodes)?;
    analyze_tree(&tree, q)
}

pub fn analyze_tree(tree: &Tree, q: &PowerQuery) -> Result<PowerResult, ToyError> {
    if q.samples == 0 {
        return Err(ToyError::Invalid("--samples must be at least 1".into()));
    }
    let sampler = PowerSampler::new(q.alpha, q.proposal, q.steps, q.block)?;
    let exact = summarize(tree, &sequence_log_probs(tree, &power_conditionals(tree, q.alpha)));
    let temperature = summarize(tree, &sequence_log_probs(tree, &temperature_conditionals(tree, q.alpha)));
    // The grid ends at K itself, so its last run (same seed) is the reported MCMC law.
    let mut by_steps: Vec<(usize, McmcLaw)> = steps_grid(q.steps)
        .into_iter()
        .map(|k| (k, mcmc_law(tree, &PowerSampler { steps: k, ..sampler }, q.samples, q.seed, q.threads)))
        .collect();
    let tv_by_steps = by_steps
        .iter()
        .map(|(k, m)| TvPoint { steps: *k, tv: m.tv, length_tv: m.length_tv, accuracy: m.law.accuracy })
        .collect();
    let mcmc = by_steps.pop().map(|(_, m)| m).expect("the grid holds K");
    Ok(PowerResult {
        family: tree.name().to_string(),
        alpha: q.alpha,
        mcmc_steps: q.steps,
        samples: q.samples,
        seed: q.seed,
        proposal: q.proposal,
        block: sampler.block_ends(tree.max_len())[0],
        exact: exact.into(),
        mcmc,
        temperature: temperature.into(),
        tv_by_steps,
        noise_floor: noise_floor(tree, q.alpha, q.samples, q.seed),
    })
}

/// The result as tables.
pub fn to_report(r: &PowerResult) -> Report {
    let mut cols = vec!["law".to_string(), "accuracy".into(), "mean L".into()];
    cols.extend((0..r.exact.length_pmf.len()).map(|l| format!("L={l}")));
    let col_refs: Vec<&str> = cols.iter().map(|s| s.as_str()).collect();
    let mut laws = Table::new(format!("π_ref^α at α = {}: exact, MCMC and token temperature 1/α", r.alpha), &col_refs);
    for (name, law) in [
        "exact π_ref^α".to_string(),
        format!("MCMC (K = {}, N = {}, {} proposal)", r.mcmc_steps, r.samples, r.proposal.name()),
        "token temperature 1/α".into(),
    ]
    .into_iter()
    .zip([&r.exact, &r.mcmc.law, &r.temperature])
    {
        let mut row = row![name, law.accuracy, law.mean_length];
        row.extend(law.length_pmf.iter().map(|&p| p.into()));
        laws.push(row);
    }
    let mut conv = Table::new(
        "Distance of the MCMC law to the exact π_ref^α against K (moves per block)",
        &["K", "TV (responses)", "TV (lengths)", "accuracy"],
    );
    for p in &r.tv_by_steps {
        conv.push(row![p.steps, p.tv, p.length_tv, p.accuracy]);
    }
    conv.push(row!["N exact draws", r.noise_floor.tv, r.noise_floor.length_tv, r.exact.accuracy]);
    let message = format!(
        "{}: acceptance rate {:.3}, {:.1} forward tokens per sample, block of {} tokens.",
        r.family, r.mcmc.acceptance_rate, r.mcmc.forward_tokens_per_sample, r.block
    );
    Report { scenario: format!("power {}", r.family), message, tables: vec![laws, conv] }
}
