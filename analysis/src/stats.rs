//! Summary statistics and seeded bootstrap confidence intervals.
//!
//! Bootstrap intervals are percentile intervals over resampled *indices*, so the caller decides
//! what the unit of resampling is (a sample, a run, a block of steps).

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

/// Resamples used by every bootstrap in `sharpen` unless told otherwise.
pub const BOOTSTRAP_RESAMPLES: usize = 1000;
/// Two-sided confidence level of every interval in `sharpen`.
pub const LEVEL: f64 = 0.95;

/// A confidence interval at `level`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ci {
    pub lo: f64,
    pub hi: f64,
}

impl Ci {
    pub fn above(&self, x: f64) -> bool {
        self.lo > x
    }
    pub fn below(&self, x: f64) -> bool {
        self.hi < x
    }
    pub fn within(&self, lo: f64, hi: f64) -> bool {
        self.lo >= lo && self.hi <= hi
    }
}

pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample standard deviation (n − 1 in the denominator); NaN below two values.
pub fn std(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return f64::NAN;
    }
    let m = mean(xs);
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

/// The q-quantile with linear interpolation between order statistics (type 7, numpy's default).
pub fn quantile(xs: &[f64], q: f64) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let h = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (i, f) = (h.floor() as usize, h - h.floor());
    if i + 1 < v.len() {
        v[i] + f * (v[i + 1] - v[i])
    } else {
        v[i]
    }
}

/// Ordinary least-squares slope of y on x; None when x has no spread.
pub fn ols_slope(x: &[f64], y: &[f64]) -> Option<f64> {
    let (mx, my) = (mean(x), mean(y));
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    if x.len() < 2 || sxx <= 0.0 {
        return None;
    }
    Some(x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum::<f64>() / sxx)
}

/// Percentile bootstrap: `stat` receives a resample of the indices 0..n (with replacement);
/// resamples where it returns None (e.g. a slope with no spread) are skipped.
pub fn bootstrap(n: usize, resamples: usize, seed: u64, mut stat: impl FnMut(&[usize]) -> Option<f64>) -> Option<Ci> {
    if n == 0 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut idx = vec![0usize; n];
    let mut values = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        idx.iter_mut().for_each(|i| *i = rng.gen_range(0..n));
        if let Some(v) = stat(&idx) {
            if v.is_finite() {
                values.push(v);
            }
        }
    }
    if values.len() < resamples / 2 {
        return None;
    }
    let tail = (1.0 - LEVEL) / 2.0;
    Some(Ci { lo: quantile(&values, tail), hi: quantile(&values, 1.0 - tail) })
}

/// Bootstrap CI of the mean of `xs`.
pub fn mean_ci(xs: &[f64], seed: u64) -> Option<Ci> {
    bootstrap(xs.len(), BOOTSTRAP_RESAMPLES, seed, |idx| {
        Some(idx.iter().map(|&i| xs[i]).sum::<f64>() / idx.len() as f64)
    })
}

/// Wilson score interval for a proportion of `successes` out of `n`.
pub fn wilson(successes: usize, n: usize) -> Option<Ci> {
    if n == 0 {
        return None;
    }
    let z = Normal::standard().inverse_cdf(1.0 - (1.0 - LEVEL) / 2.0);
    let (p, nf) = (successes as f64 / n as f64, n as f64);
    let centre = (p + z * z / (2.0 * nf)) / (1.0 + z * z / nf);
    let half = z * (p * (1.0 - p) / nf + z * z / (4.0 * nf * nf)).sqrt() / (1.0 + z * z / nf);
    Some(Ci { lo: (centre - half).max(0.0), hi: (centre + half).min(1.0) })
}

/// Normal-approximation interval for a mean of n values in [0, 1] with mean p: the variance of
/// such values is at most p(1 − p), so p ± z·sqrt(p(1 − p)/n) is conservative.
pub fn bounded_mean_ci(p: f64, n: usize) -> Option<Ci> {
    if n == 0 || !p.is_finite() {
        return None;
    }
    let z = Normal::standard().inverse_cdf(1.0 - (1.0 - LEVEL) / 2.0);
    let half = z * (p * (1.0 - p) / n as f64).max(0.0).sqrt();
    Some(Ci { lo: p - half, hi: p + half })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_slopes() {
        let xs = [3.0, 1.0, 2.0, 4.0];
        assert_eq!(quantile(&xs, 0.0), 1.0);
        assert_eq!(quantile(&xs, 1.0), 4.0);
        assert!((quantile(&xs, 0.5) - 2.5).abs() < 1e-15);
        assert!((std(&[1.0, 3.0]) - 2f64.sqrt()).abs() < 1e-15);
        let x: Vec<f64> = (0..10).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| 3.0 - 0.5 * v).collect();
        assert!((ols_slope(&x, &y).unwrap() + 0.5).abs() < 1e-12);
        assert!(ols_slope(&[1.0, 1.0], &[0.0, 1.0]).is_none());
    }

    #[test]
    fn bootstrap_is_seeded_and_covers_the_mean() {
        let xs: Vec<f64> = (0..200).map(|i| ((i * 37) % 100) as f64 / 100.0).collect();
        let a = mean_ci(&xs, 1).unwrap();
        assert_eq!(Some(a), mean_ci(&xs, 1));
        assert_ne!(Some(a), mean_ci(&xs, 2));
        let m = mean(&xs);
        assert!(a.lo < m && m < a.hi);
        // The half-width is close to 1.96 standard errors.
        let se = std(&xs) / (xs.len() as f64).sqrt();
        assert!(((a.hi - a.lo) / 2.0 / se - 1.96).abs() < 0.3, "{a:?} se {se}");
    }

    #[test]
    fn wilson_interval() {
        let ci = wilson(8, 10).unwrap();
        // Reference values of the 95% Wilson interval for 8/10.
        assert!((ci.lo - 0.4902).abs() < 1e-3 && (ci.hi - 0.9433).abs() < 1e-3, "{ci:?}");
        assert!(wilson(0, 0).is_none());
    }
}
