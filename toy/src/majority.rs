//! Exact maj@k of an answer distribution.
//!
//! Draw k answers i.i.d. from q; the majority answer wins; a tie between t answers is broken
//! uniformly at random, so each tied answer gets credit 1/t. maj@k is the expected reward of
//! the winner. For each answer a and its count c we sum, over the other answers' counts (all ≤ c),
//! the multinomial probability — a dynamic programme over (draws used, answers tied at c)
//! instead of enumerating count vectors.

/// Exact maj@k for answer probabilities `q` (summing to 1) with answer rewards `reward`.
pub fn maj_at_k(q: &[f64], reward: &[f64], k: usize) -> f64 {
    assert_eq!(q.len(), reward.len());
    if k == 0 {
        return 0.0;
    }
    let ln_fact: Vec<f64> = (0..=k)
        .scan(0.0, |s, i| {
            if i > 0 {
                *s += (i as f64).ln();
            }
            Some(*s)
        })
        .collect();
    let support: Vec<usize> = (0..q.len()).filter(|&i| q[i] > 0.0).collect();
    let mut total = 0.0;
    for &a in &support {
        if reward[a] == 0.0 {
            continue;
        }
        for c in 1..=k {
            let rest = k - c;
            let tmax = rest / c;
            // dp[n][t]: Σ over the other answers so far of Π q_j^{n_j}/n_j!, n = Σ n_j, t ties at c.
            let mut dp = vec![vec![0.0; tmax + 1]; rest + 1];
            dp[0][0] = 1.0;
            for &j in support.iter().filter(|&&j| j != a) {
                let mut next = vec![vec![0.0; tmax + 1]; rest + 1];
                let term: Vec<f64> = (0..=c.min(rest)).map(|x| (x as f64 * q[j].ln() - ln_fact[x]).exp()).collect();
                for n in 0..=rest {
                    for t in 0..=tmax {
                        let v = dp[n][t];
                        if v == 0.0 {
                            continue;
                        }
                        for (x, &w) in term.iter().enumerate().take(rest - n + 1) {
                            let tt = t + usize::from(x == c);
                            if tt <= tmax {
                                next[n + x][tt] += v * w;
                            }
                        }
                    }
                }
                dp = next;
            }
            let lead = (ln_fact[k] - ln_fact[c] + c as f64 * q[a].ln()).exp();
            let credit: f64 = dp[rest].iter().enumerate().map(|(t, v)| v / (t + 1) as f64).sum();
            total += reward[a] * lead * credit;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Brute force over all m^k ordered draws.
    fn brute(q: &[f64], r: &[f64], k: usize) -> f64 {
        let m = q.len();
        let mut total = 0.0;
        for code in 0..m.pow(k as u32) {
            let (mut x, mut counts, mut p) = (code, vec![0usize; m], 1.0);
            for _ in 0..k {
                counts[x % m] += 1;
                p *= q[x % m];
                x /= m;
            }
            let best = *counts.iter().max().unwrap();
            let tied: Vec<usize> = (0..m).filter(|&i| counts[i] == best).collect();
            total += p * tied.iter().map(|&i| r[i]).sum::<f64>() / tied.len() as f64;
        }
        total
    }

    #[test]
    fn one_sample_is_accuracy() {
        let q = [0.2, 0.5, 0.3];
        let r = [1.0, 0.0, 1.0];
        assert!((maj_at_k(&q, &r, 1) - 0.5).abs() < 1e-12);
    }

    proptest! {
        #[test]
        fn matches_brute_force(w in prop::collection::vec(0.0f64..1.0, 1..5), bits in prop::collection::vec(any::<bool>(), 5), k in 1usize..6) {
            let s: f64 = w.iter().sum();
            prop_assume!(s > 1e-6);
            let q: Vec<f64> = w.iter().map(|x| x / s).collect();
            let r: Vec<f64> = (0..q.len()).map(|i| if bits[i] { 1.0 } else { 0.0 }).collect();
            let exact = maj_at_k(&q, &r, k);
            let bf = brute(&q, &r, k);
            prop_assert!((exact - bf).abs() < 1e-9, "exact {exact} brute {bf}");
        }
    }
}
