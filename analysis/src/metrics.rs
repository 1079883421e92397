//! Evaluation metrics over n samples per problem: the unbiased pass@k estimator and maj@k.
//!
//! maj@k is the expected reward of the majority answer among k samples drawn *without
//! replacement* from the n samples of a problem (a uniformly random k-subset, as in the paper's
//! protocol). Tie rule: when t answers tie for the most votes, each gets credit 1/t — the
//! expectation of breaking the tie uniformly at random, the same rule as the exact maj@k of a
//! distribution in `sharpen_toy::majority`. Samples with no extracted answer take a slot in the
//! subset but never win the vote; a subset of abstentions only scores 0.

use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricError {
    #[error("k must be in 1..=n (k = {k}, n = {n})")]
    BadK { k: usize, n: usize },
    #[error("{c} correct samples out of {n}")]
    BadCount { c: usize, n: usize },
    #[error("answers and rewards differ in length ({answers} vs {rewards})")]
    Mismatch { answers: usize, rewards: usize },
}

/// Unbiased pass@k from n samples of which c are correct: 1 − C(n−c, k)/C(n, k), computed as
/// 1 − Π_{i=n−c+1}^{n} (1 − k/i) so that no binomial coefficient is ever formed.
pub fn pass_at_k(n: usize, c: usize, k: usize) -> Result<f64, MetricError> {
    if k == 0 || k > n {
        return Err(MetricError::BadK { k, n });
    }
    if c > n {
        return Err(MetricError::BadCount { c, n });
    }
    if n - c < k {
        return Ok(1.0);
    }
    let miss: f64 = ((n - c + 1)..=n).map(|i| 1.0 - k as f64 / i as f64).product();
    Ok(1.0 - miss)
}

/// The samples of one problem grouped by answer: (count, reward) per answer, plus abstentions.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerCounts {
    /// One entry per distinct answer: how many samples gave it and its reward (the mean reward
    /// of those samples; they normally agree).
    pub answers: Vec<(usize, f64)>,
    /// Samples with no extracted answer.
    pub abstain: usize,
}

impl AnswerCounts {
    /// Group samples by answer; `None` is an abstention.
    pub fn from_samples(answers: &[Option<String>], rewards: &[f64]) -> Result<Self, MetricError> {
        if answers.len() != rewards.len() {
            return Err(MetricError::Mismatch { answers: answers.len(), rewards: rewards.len() });
        }
        let mut by: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
        let mut abstain = 0;
        for (a, &r) in answers.iter().zip(rewards) {
            match a {
                Some(a) => {
                    let e = by.entry(a.as_str()).or_insert((0, 0.0));
                    e.0 += 1;
                    e.1 += r;
                }
                None => abstain += 1,
            }
        }
        Ok(Self { answers: by.into_values().map(|(c, s)| (c, s / c as f64)).collect(), abstain })
    }

    pub fn n(&self) -> usize {
        self.abstain + self.answers.iter().map(|a| a.0).sum::<usize>()
    }
}

/// How a maj@k value was obtained.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MajMethod {
    Exact,
    MonteCarlo { subsets: usize, seed: u64 },
}

/// Exact evaluation is used while ln C(n, k) ≤ this (C(n,k) ≲ 1e217: every product of binomials
/// below stays finite in f64). n = 16 with any k, or n = 1000 with k ≤ 80, are exact.
const EXACT_LN_LIMIT: f64 = 500.0;

/// The paper's Monte Carlo budget: 1000 random k-subsets.
pub const PAPER_SUBSETS: usize = 1000;

/// maj@k of one problem: exact when the counts allow it, otherwise `subsets` random k-subsets
/// drawn from a ChaCha8 generator seeded with `seed`.
pub fn maj_at_k(counts: &AnswerCounts, k: usize, subsets: usize, seed: u64) -> Result<(f64, MajMethod), MetricError> {
    let n = counts.n();
    if k == 0 || k > n {
        return Err(MetricError::BadK { k, n });
    }
    if ln_binom(n, k) <= EXACT_LN_LIMIT {
        Ok((maj_at_k_exact(counts, k)?, MajMethod::Exact))
    } else {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Ok((maj_at_k_monte_carlo(counts, k, subsets, &mut rng)?, MajMethod::MonteCarlo { subsets, seed }))
    }
}

/// Exact maj@k over all C(n, k) subsets, weighted by the multivariate hypergeometric law.
/// For each answer a and its vote count v, a dynamic programme over the other answers tracks
/// (slots used, answers tied at v) instead of enumerating count vectors.
pub fn maj_at_k_exact(counts: &AnswerCounts, k: usize) -> Result<f64, MetricError> {
    let n = counts.n();
    if k == 0 || k > n {
        return Err(MetricError::BadK { k, n });
    }
    let total = ln_binom(n, k);
    let mut value = 0.0;
    for (a, &(ca, ra)) in counts.answers.iter().enumerate() {
        if ra == 0.0 {
            continue;
        }
        for v in 1..=ca.min(k) {
            let rest = k - v;
            let tmax = rest / v;
            // dp[s][t]: Σ Π C(c_j, x_j) over the answers seen so far, s = Σ x_j, t = #{x_j = v}.
            let mut dp = vec![vec![0.0; tmax + 1]; rest + 1];
            dp[0][0] = 1.0;
            for (j, &(cj, _)) in counts.answers.iter().enumerate() {
                if j == a {
                    continue;
                }
                let mut next = vec![vec![0.0; tmax + 1]; rest + 1];
                for s in 0..=rest {
                    for t in 0..=tmax {
                        let w = dp[s][t];
                        if w == 0.0 {
                            continue;
                        }
                        for x in 0..=cj.min(v).min(rest - s) {
                            let tt = t + usize::from(x == v);
                            if tt <= tmax {
                                next[s + x][tt] += w * binom(cj, x);
                            }
                        }
                    }
                }
                dp = next;
            }
            let mut credit = 0.0;
            for (s, row) in dp.iter().enumerate() {
                let fill = binom(counts.abstain, rest - s);
                if fill == 0.0 {
                    continue;
                }
                credit += fill * row.iter().enumerate().map(|(t, w)| w / (t + 1) as f64).sum::<f64>();
            }
            value += ra * (ln_binom(ca, v) - total).exp() * credit;
        }
    }
    Ok(value)
}

/// maj@k estimated from `subsets` uniformly random k-subsets (ties credited 1/t, as in the exact
/// version, so the estimate is unbiased for the same quantity).
pub fn maj_at_k_monte_carlo(
    counts: &AnswerCounts,
    k: usize,
    subsets: usize,
    rng: &mut ChaCha8Rng,
) -> Result<f64, MetricError> {
    let n = counts.n();
    if k == 0 || k > n {
        return Err(MetricError::BadK { k, n });
    }
    // Sample i carries answer label[i] (usize::MAX = abstention).
    let mut label = Vec::with_capacity(n);
    for (a, &(c, _)) in counts.answers.iter().enumerate() {
        label.extend(std::iter::repeat_n(a, c));
    }
    label.extend(std::iter::repeat_n(usize::MAX, counts.abstain));
    let mut votes = vec![0usize; counts.answers.len()];
    let mut sum = 0.0;
    for _ in 0..subsets {
        votes.iter_mut().for_each(|x| *x = 0);
        for i in sample(rng, n, k) {
            if label[i] != usize::MAX {
                votes[label[i]] += 1;
            }
        }
        let best = votes.iter().copied().max().unwrap_or(0);
        if best == 0 {
            continue;
        }
        let tied: Vec<usize> = (0..votes.len()).filter(|&j| votes[j] == best).collect();
        sum += tied.iter().map(|&j| counts.answers[j].1).sum::<f64>() / tied.len() as f64;
    }
    Ok(if subsets == 0 { 0.0 } else { sum / subsets as f64 })
}

fn ln_binom(n: usize, k: usize) -> f64 {
    if k > n {
        return f64::NEG_INFINITY;
    }
    statrs::function::factorial::ln_binomial(n as u64, k as u64)
}

fn binom(n: usize, k: usize) -> f64 {
    if k > n {
        0.0
    } else {
        ln_binom(n, k).exp().round()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every k-subset of n items as a bit mask.
    fn subsets(n: usize, k: usize) -> impl Iterator<Item = u32> {
        (0u32..1 << n).filter(move |m| m.count_ones() as usize == k)
    }

    fn expand(counts: &AnswerCounts) -> Vec<Option<usize>> {
        let mut v: Vec<Option<usize>> =
            counts.answers.iter().enumerate().flat_map(|(a, &(c, _))| std::iter::repeat_n(Some(a), c)).collect();
        v.extend(std::iter::repeat_n(None, counts.abstain));
        v
    }

    fn brute_maj(counts: &AnswerCounts, k: usize) -> f64 {
        let labels = expand(counts);
        let n = labels.len();
        let (mut total, mut count) = (0.0, 0usize);
        for m in subsets(n, k) {
            let mut votes = vec![0usize; counts.answers.len()];
            for (i, l) in labels.iter().enumerate() {
                if m >> i & 1 == 1 {
                    if let Some(a) = l {
                        votes[*a] += 1;
                    }
                }
            }
            let best = *votes.iter().max().unwrap_or(&0);
            if best > 0 {
                let tied: Vec<usize> = (0..votes.len()).filter(|&j| votes[j] == best).collect();
                total += tied.iter().map(|&j| counts.answers[j].1).sum::<f64>() / tied.len() as f64;
            }
            count += 1;
        }
        total / count as f64
    }

    fn counts_strategy() -> impl Strategy<Value = AnswerCounts> {
        (prop::collection::vec((1usize..5, prop::bool::ANY), 1..4), 0usize..3).prop_map(|(a, abstain)| AnswerCounts {
            answers: a.into_iter().map(|(c, r)| (c, if r { 1.0 } else { 0.0 })).collect(),
            abstain,
        })
    }

    #[test]
    fn pass_at_k_edges() {
        assert_eq!(pass_at_k(16, 0, 4).unwrap(), 0.0);
        assert_eq!(pass_at_k(16, 16, 1).unwrap(), 1.0);
        assert!((pass_at_k(16, 4, 1).unwrap() - 0.25).abs() < 1e-15);
        assert_eq!(pass_at_k(4, 1, 4).unwrap(), 1.0);
        assert!(pass_at_k(4, 1, 5).is_err());
        assert!(pass_at_k(4, 5, 1).is_err());
        assert!(pass_at_k(4, 1, 0).is_err());
    }

    #[test]
    fn maj_tie_rule_and_abstentions() {
        // Two answers with one vote each at k = 2: each wins half the time.
        let c = AnswerCounts { answers: vec![(1, 1.0), (1, 0.0)], abstain: 0 };
        assert!((maj_at_k_exact(&c, 2).unwrap() - 0.5).abs() < 1e-15);
        // Only abstentions drawn: 0.
        let c = AnswerCounts { answers: vec![(1, 1.0)], abstain: 3 };
        assert!((maj_at_k_exact(&c, 1).unwrap() - 0.25).abs() < 1e-15);
        let from = AnswerCounts::from_samples(
            &[Some("4".into()), None, Some("4".into()), Some("5".into())],
            &[1.0, 0.0, 1.0, 0.0],
        )
        .unwrap();
        assert_eq!(from, AnswerCounts { answers: vec![(2, 1.0), (1, 0.0)], abstain: 1 });
        assert!(AnswerCounts::from_samples(&[None], &[]).is_err());
    }

    #[test]
    fn large_counts_fall_back_to_a_seeded_monte_carlo() {
        let c = AnswerCounts { answers: vec![(600, 1.0), (400, 0.0), (200, 0.0)], abstain: 0 };
        let (v1, m1) = maj_at_k(&c, 200, PAPER_SUBSETS, 7).unwrap();
        let (v2, _) = maj_at_k(&c, 200, PAPER_SUBSETS, 7).unwrap();
        assert_eq!(m1, MajMethod::MonteCarlo { subsets: PAPER_SUBSETS, seed: 7 });
        assert_eq!(v1, v2);
        // Half of the samples say the right answer with a 200-sample vote: it wins almost surely.
        assert!(v1 > 0.99, "{v1}");
        let small = AnswerCounts { answers: vec![(10, 1.0), (6, 0.0)], abstain: 0 };
        assert_eq!(maj_at_k(&small, 8, PAPER_SUBSETS, 7).unwrap().1, MajMethod::Exact);
    }

    proptest! {
        #[test]
        fn pass_at_k_is_the_average_over_subsets(n in 1usize..11, c_frac in 0.0f64..=1.0, k_frac in 0.0f64..=1.0) {
            let c = (c_frac * n as f64).round() as usize;
            let k = 1 + (k_frac * (n - 1) as f64).round() as usize;
            // Samples 0..c are the correct ones.
            let hits: Vec<f64> = subsets(n, k).map(|m| f64::from(m & ((1u32 << c) - 1) != 0)).collect();
            let brute = hits.iter().sum::<f64>() / hits.len() as f64;
            prop_assert!((pass_at_k(n, c, k).unwrap() - brute).abs() < 1e-12);
        }

        #[test]
        fn pass_at_k_is_monotone_in_k(n in 1usize..200, c_frac in 0.0f64..=1.0) {
            let c = (c_frac * n as f64).round() as usize;
            let v: Vec<f64> = (1..=n).map(|k| pass_at_k(n, c, k).unwrap()).collect();
            prop_assert!(v.windows(2).all(|w| w[1] >= w[0] - 1e-12), "{v:?}");
        }

        #[test]
        fn maj_exact_is_the_average_over_subsets(counts in counts_strategy(), k_frac in 0.0f64..=1.0) {
            let n = counts.n();
            let k = 1 + (k_frac * (n - 1) as f64).round() as usize;
            let exact = maj_at_k_exact(&counts, k).unwrap();
            prop_assert!((exact - brute_maj(&counts, k)).abs() < 1e-12);
        }

        #[test]
        fn maj_monte_carlo_agrees_with_exact(counts in counts_strategy(), k_frac in 0.0f64..=1.0, seed in 0u64..1000) {
            let n = counts.n();
            let k = 1 + (k_frac * (n - 1) as f64).round() as usize;
            let exact = maj_at_k_exact(&counts, k).unwrap();
            let mc = maj_at_k_monte_carlo(&counts, k, 4000, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap();
            // Credits lie in [0, 1]: the standard error is at most 0.5/sqrt(4000) ≈ 0.008.
            prop_assert!((mc - exact).abs() < 0.04, "mc {mc} exact {exact}");
        }
    }
}
