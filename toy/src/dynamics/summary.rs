//! Summaries across seeds: per-step quantiles of accuracy, length, reward and the clip rate,
//! and where the seeds end up.

use super::train::SeedRun;
use serde::Serialize;
use std::collections::BTreeMap;

/// Mean and quantiles (linear interpolation between order statistics) of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Quantiles {
    pub mean: f64,
    pub q10: f64,
    pub q25: f64,
    pub q50: f64,
    pub q75: f64,
    pub q90: f64,
}

/// The q-quantile of sorted values (type 7: linear interpolation).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (pos - lo as f64) * (sorted[hi] - sorted[lo])
}

impl Quantiles {
    pub fn of(xs: &[f64]) -> Self {
        let mut s = xs.to_vec();
        s.sort_by(f64::total_cmp);
        Self {
            mean: s.iter().sum::<f64>() / s.len().max(1) as f64,
            q10: quantile(&s, 0.10),
            q25: quantile(&s, 0.25),
            q50: quantile(&s, 0.50),
            q75: quantile(&s, 0.75),
            q90: quantile(&s, 0.90),
        }
    }
}

/// One step across seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepSummary {
    pub step: usize,
    /// Exact accuracy E_π[r] of each seed's policy.
    pub accuracy: Quantiles,
    /// Exact expected length of each seed's policy.
    pub length: Quantiles,
    /// Each seed's batch-mean reward.
    pub reward: Quantiles,
    /// Each seed's within-batch standard deviation of the reward: the reward's scale, which a
    /// leave-one-out advantage without std normalisation passes straight to the gradient.
    pub reward_std: Quantiles,
    pub grad_norm: Quantiles,
    /// Fraction of seeds whose gradient was clipped at this step.
    pub clip_rate: f64,
}

pub fn per_step(runs: &[SeedRun]) -> Vec<StepSummary> {
    let steps = runs.iter().map(|r| r.steps.len()).min().unwrap_or(0);
    (0..steps)
        .map(|t| {
            let col = |f: &dyn Fn(&SeedRun) -> f64| -> Vec<f64> { runs.iter().map(f).collect() };
            StepSummary {
                step: t,
                accuracy: Quantiles::of(&col(&|r| r.steps[t].exact.accuracy)),
                length: Quantiles::of(&col(&|r| r.steps[t].exact.expected_length)),
                reward: Quantiles::of(&col(&|r| r.steps[t].reward.mean)),
                reward_std: Quantiles::of(&col(&|r| r.steps[t].reward.std)),
                grad_norm: Quantiles::of(&col(&|r| r.steps[t].grad_norm)),
                clip_rate: col(&|r| r.steps[t].clipped as u8 as f64).iter().sum::<f64>() / runs.len().max(1) as f64,
            }
        })
        .collect()
}

/// Where the seeds end up after the last update.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinalSummary {
    pub seeds: usize,
    pub accuracy: Quantiles,
    pub length: Quantiles,
    /// Exact J = E_π[r] of the final policy.
    pub objective: Quantiles,
    pub entropy: Quantiles,
    /// Fraction of steps with clipping, per seed.
    pub clip_fraction: Quantiles,
    /// Final most-likely response → number of seeds.
    pub modes: BTreeMap<usize, usize>,
    /// Fraction of seeds whose final policy puts ≥ 0.99 on one response.
    pub at_vertex: f64,
}

pub fn final_summary(runs: &[SeedRun]) -> FinalSummary {
    let col = |f: &dyn Fn(&SeedRun) -> f64| -> Vec<f64> { runs.iter().map(f).collect() };
    let mut modes = BTreeMap::new();
    for r in runs {
        *modes.entry(r.last.mode).or_insert(0) += 1;
    }
    FinalSummary {
        seeds: runs.len(),
        accuracy: Quantiles::of(&col(&|r| r.last.accuracy)),
        length: Quantiles::of(&col(&|r| r.last.expected_length)),
        objective: Quantiles::of(&col(&|r| r.last.objective)),
        entropy: Quantiles::of(&col(&|r| r.last.entropy)),
        clip_fraction: Quantiles::of(&col(&|r| r.clip_fraction)),
        modes,
        at_vertex: runs.iter().filter(|r| r.last.mode_prob >= 0.99).count() as f64 / runs.len().max(1) as f64,
    }
}

/// Rows at about every `every` fraction of the run (always the first and the last step).
pub fn every_fraction(summary: &[StepSummary], every: f64) -> Vec<&StepSummary> {
    let n = summary.len();
    if n == 0 {
        return Vec::new();
    }
    let stride = ((n as f64 * every).round() as usize).max(1);
    let mut rows: Vec<&StepSummary> = summary.iter().step_by(stride).collect();
    if rows.last().map(|r| r.step) != Some(n - 1) {
        rows.push(&summary[n - 1]);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_hand() {
        let q = Quantiles::of(&[4.0, 1.0, 3.0, 2.0, 5.0]);
        assert_eq!(q.mean, 3.0);
        assert_eq!(q.q50, 3.0);
        assert!((q.q10 - 1.4).abs() < 1e-12);
        assert!((q.q25 - 2.0).abs() < 1e-12);
        assert!((q.q90 - 4.6).abs() < 1e-12);
        assert!(quantile(&[], 0.5).is_nan());
    }
}
