//! Evidence over steps for the prediction checks: a trend (OLS slope with a bootstrap CI) or a
//! first-versus-last window comparison (difference of means with a bootstrap CI).
//!
//! The unit of resampling is the run when a group has at least [`MIN_RUNS_FOR_CLUSTER`] runs
//! (seeds are the honest replicates); with fewer runs it is a block of consecutive steps
//! (moving-block bootstrap, block length ⌈n^{1/3}⌉), which respects autocorrelation over steps.

use crate::stats::{bootstrap, mean, ols_slope, Ci, BOOTSTRAP_RESAMPLES};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Fewest points a run needs for a trend or a window comparison.
pub const MIN_POINTS: usize = 6;
/// Runs from which the bootstrap resamples runs instead of blocks of steps.
pub const MIN_RUNS_FOR_CLUSTER: usize = 3;
/// Each window holds this fraction of a run's points (at least 3).
pub const WINDOW_FRACTION: f64 = 0.1;

/// (step, value) pairs of one run, in step order.
pub type Series = Vec<(f64, f64)>;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub ci: Ci,
}

fn usable(runs: &[Series]) -> Vec<&Series> {
    runs.iter().filter(|s| s.len() >= MIN_POINTS).collect()
}

/// The mean over runs of each run's slope per step.
pub fn trend(runs: &[Series], seed: u64) -> Option<Estimate> {
    let runs = usable(runs);
    if runs.is_empty() {
        return None;
    }
    let slopes: Vec<f64> = runs.iter().map(|s| slope(s)).collect::<Option<_>>()?;
    let value = mean(&slopes);
    let ci = if runs.len() >= MIN_RUNS_FOR_CLUSTER {
        bootstrap(slopes.len(), BOOTSTRAP_RESAMPLES, seed, |idx| {
            Some(idx.iter().map(|&i| slopes[i]).sum::<f64>() / idx.len() as f64)
        })?
    } else {
        block_bootstrap(&runs, seed, |s| slope(s))?
    };
    Some(Estimate { value, ci })
}

/// The mean over runs of (mean of the last window − mean of the first window).
pub fn window_change(runs: &[Series], seed: u64) -> Option<(Estimate, f64, f64)> {
    let runs = usable(runs);
    if runs.is_empty() {
        return None;
    }
    let firsts: Vec<f64> = runs.iter().map(|s| mean(&values(first(s)))).collect();
    let lasts: Vec<f64> = runs.iter().map(|s| mean(&values(last(s)))).collect();
    let diffs: Vec<f64> = firsts.iter().zip(&lasts).map(|(a, b)| b - a).collect();
    let ci = if runs.len() >= MIN_RUNS_FOR_CLUSTER {
        bootstrap(diffs.len(), BOOTSTRAP_RESAMPLES, seed, |idx| {
            Some(idx.iter().map(|&i| diffs[i]).sum::<f64>() / idx.len() as f64)
        })?
    } else {
        // Few runs: resample the points inside each window independently.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut reps = Vec::with_capacity(BOOTSTRAP_RESAMPLES);
        for _ in 0..BOOTSTRAP_RESAMPLES {
            let d: Vec<f64> = runs
                .iter()
                .map(|s| resampled_mean(&values(last(s)), &mut rng) - resampled_mean(&values(first(s)), &mut rng))
                .collect();
            reps.push(mean(&d));
        }
        percentile_ci(reps)?
    };
    Some((Estimate { value: mean(&diffs), ci }, mean(&firsts), mean(&lasts)))
}

/// The mean over runs of the last window's mean, with its CI.
pub fn last_window(runs: &[Series], seed: u64) -> Option<Estimate> {
    let runs = usable(runs);
    if runs.is_empty() {
        return None;
    }
    let lasts: Vec<Vec<f64>> = runs.iter().map(|s| values(last(s))).collect();
    let means: Vec<f64> = lasts.iter().map(|v| mean(v)).collect();
    let ci = if runs.len() >= MIN_RUNS_FOR_CLUSTER {
        bootstrap(means.len(), BOOTSTRAP_RESAMPLES, seed, |idx| {
            Some(idx.iter().map(|&i| means[i]).sum::<f64>() / idx.len() as f64)
        })?
    } else {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        percentile_ci(
            (0..BOOTSTRAP_RESAMPLES)
                .map(|_| mean(&lasts.iter().map(|v| resampled_mean(v, &mut rng)).collect::<Vec<_>>()))
                .collect(),
        )?
    };
    Some(Estimate { value: mean(&means), ci })
}

/// Largest drop from the best window to the last window, averaged over runs (collapse check).
pub fn drop_from_best(runs: &[Series], seed: u64) -> Option<Estimate> {
    let runs = usable(runs);
    if runs.is_empty() {
        return None;
    }
    let per_run = |s: &[(f64, f64)], rng: Option<&mut ChaCha8Rng>| -> f64 {
        let w = window_len(s.len());
        let vals = values(s);
        let mut means: Vec<f64> = vals.windows(w).map(mean).collect();
        if let Some(rng) = rng {
            means = vals.windows(w).map(|win| resampled_mean(win, rng)).collect();
        }
        let best = means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        best - means[means.len() - 1]
    };
    let drops: Vec<f64> = runs.iter().map(|s| per_run(s, None)).collect();
    let ci = if runs.len() >= MIN_RUNS_FOR_CLUSTER {
        bootstrap(drops.len(), BOOTSTRAP_RESAMPLES, seed, |idx| {
            Some(idx.iter().map(|&i| drops[i]).sum::<f64>() / idx.len() as f64)
        })?
    } else {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        percentile_ci(
            (0..BOOTSTRAP_RESAMPLES)
                .map(|_| mean(&runs.iter().map(|s| per_run(s, Some(&mut rng))).collect::<Vec<_>>()))
                .collect(),
        )?
    };
    Some(Estimate { value: mean(&drops), ci })
}

/// Points in a first or last window of a run of `n` points.
pub fn window_len(n: usize) -> usize {
    ((n as f64 * WINDOW_FRACTION).ceil() as usize).max(3).min(n / 2).max(1)
}

fn first(s: &[(f64, f64)]) -> &[(f64, f64)] {
    &s[..window_len(s.len())]
}

fn last(s: &[(f64, f64)]) -> &[(f64, f64)] {
    &s[s.len() - window_len(s.len())..]
}

fn values(s: &[(f64, f64)]) -> Vec<f64> {
    s.iter().map(|p| p.1).collect()
}

fn slope(s: &[(f64, f64)]) -> Option<f64> {
    let (x, y): (Vec<f64>, Vec<f64>) = s.iter().copied().unzip();
    ols_slope(&x, &y)
}

fn resampled_mean(v: &[f64], rng: &mut ChaCha8Rng) -> f64 {
    (0..v.len()).map(|_| v[rng.gen_range(0..v.len())]).sum::<f64>() / v.len() as f64
}

fn percentile_ci(mut reps: Vec<f64>) -> Option<Ci> {
    reps.retain(|x| x.is_finite());
    if reps.len() < BOOTSTRAP_RESAMPLES / 2 {
        return None;
    }
    let tail = (1.0 - crate::stats::LEVEL) / 2.0;
    Some(Ci { lo: crate::stats::quantile(&reps, tail), hi: crate::stats::quantile(&reps, 1.0 - tail) })
}

/// Moving-block bootstrap of mean-over-runs of `stat`, resampling blocks within each run.
fn block_bootstrap(runs: &[&Series], seed: u64, stat: impl Fn(&[(f64, f64)]) -> Option<f64>) -> Option<Ci> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut reps = Vec::with_capacity(BOOTSTRAP_RESAMPLES);
    let mut buf = Vec::new();
    for _ in 0..BOOTSTRAP_RESAMPLES {
        let mut acc = Vec::with_capacity(runs.len());
        for s in runs {
            let n = s.len();
            let b = (n as f64).cbrt().ceil() as usize;
            buf.clear();
            while buf.len() < n {
                let start = rng.gen_range(0..=n - b);
                buf.extend_from_slice(&s[start..start + b]);
            }
            buf.truncate(n);
            acc.extend(stat(&buf));
        }
        if acc.len() == runs.len() {
            reps.push(mean(&acc));
        }
    }
    percentile_ci(reps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: usize, a: f64, b: f64, noise: f64, seed: u64) -> Series {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|i| (i as f64, a + b * i as f64 + noise * (rng.gen::<f64>() - 0.5))).collect()
    }

    #[test]
    fn trend_finds_the_sign_with_one_or_many_runs() {
        let one = vec![line(100, 1.0, -0.01, 0.2, 1)];
        let t = trend(&one, 9).unwrap();
        assert!(t.ci.hi < 0.0 && (t.value + 0.01).abs() < 0.003, "{t:?}");
        let many: Vec<Series> = (0..5).map(|s| line(50, 0.0, 0.02, 0.5, s)).collect();
        let t = trend(&many, 9).unwrap();
        assert!(t.ci.lo > 0.0, "{t:?}");
        let flat: Vec<Series> = (0..5).map(|s| line(50, 0.0, 0.0, 0.5, s)).collect();
        let t = trend(&flat, 9).unwrap();
        assert!(t.ci.lo < 0.0 && t.ci.hi > 0.0, "{t:?}");
        assert!(trend(&[line(3, 0.0, 1.0, 0.0, 0)], 9).is_none());
    }

    #[test]
    fn windows_and_drops() {
        let rising = vec![line(100, 0.2, 0.005, 0.05, 3)];
        let (d, a, b) = window_change(&rising, 1).unwrap();
        assert!(d.ci.lo > 0.3 && a < b, "{d:?}");
        // Rise then collapse back to the start.
        let mut s = line(50, 0.2, 0.01, 0.0, 0);
        s.extend(line(50, 0.7, -0.01, 0.0, 0).into_iter().map(|(x, y)| (x + 50.0, y)));
        let drop = drop_from_best(&[s], 1).unwrap();
        assert!(drop.value > 0.4, "{drop:?}");
        let last = last_window(&rising, 1).unwrap();
        assert!(last.ci.lo < 0.7 && last.ci.hi > 0.65, "{last:?}");
    }
}
