//! Log-space helpers: every distribution in the exact module is computed from log-weights so
//! that alpha = 100 or beta_inv = 1e4 neither overflows nor produces NaN.

/// log Σ exp(x_i); -inf for an empty slice or when every term is -inf.
pub fn logsumexp(xs: &[f64]) -> f64 {
    let m = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return f64::NEG_INFINITY;
    }
    m + xs.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// Normalise log-weights into probabilities (and return log Z). Dividing by the sum after
/// shifting by the max keeps Σp = 1 to rounding even when log Z is ~1e4.
pub fn softmax(log_w: &[f64]) -> (Vec<f64>, f64) {
    let m = log_w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return (vec![f64::NAN; log_w.len()], m);
    }
    let w: Vec<f64> = log_w.iter().map(|x| (x - m).exp()).collect();
    let z: f64 = w.iter().sum();
    (w.iter().map(|x| x / z).collect(), m + z.ln())
}

/// `coef * x` with the convention 0 · (−∞) = 0: a term switched off by its coefficient stays off
/// even for zero-probability responses.
pub fn scaled(coef: f64, x: f64) -> f64 {
    if coef == 0.0 {
        0.0
    } else {
        coef * x
    }
}

/// Σ p log p terms as entropy, skipping zeros.
pub fn entropy(p: &[f64]) -> f64 {
    -p.iter().filter(|&&x| x > 0.0).map(|&x| x * x.ln()).sum::<f64>()
}

/// KL(p ‖ q); +inf when p puts mass where q has none.
pub fn kl(p: &[f64], q: &[f64]) -> f64 {
    p.iter()
        .zip(q)
        .filter(|(&a, _)| a > 0.0)
        .map(|(&a, &b)| if b > 0.0 { a * (a.ln() - b.ln()) } else { f64::INFINITY })
        .sum()
}

/// E_p[f].
pub fn mean(p: &[f64], f: &[f64]) -> f64 {
    p.iter().zip(f).filter(|(&a, _)| a > 0.0).map(|(a, b)| a * b).sum()
}

/// Cov_p(f, g), skipping zero-probability entries (where f or g may be infinite).
pub fn cov(p: &[f64], f: &[f64], g: &[f64]) -> f64 {
    let (mf, mg) = (mean(p, f), mean(p, g));
    p.iter().zip(f.iter().zip(g)).filter(|(&a, _)| a > 0.0).map(|(a, (x, y))| a * (x - mf) * (y - mg)).sum()
}

/// The α in (0, 1) where `f` crosses from positive to negative, by bisection to width `tol`
/// (α* of the length collapse and its estimates); None when f(0) ≤ 0 or f(1) ≥ 0.
pub fn unit_root(f: impl Fn(f64) -> f64, tol: f64) -> Option<f64> {
    let (mut lo, mut hi) = (0.0, 1.0);
    if !(f(lo) > 0.0 && f(hi) < 0.0) {
        return None;
    }
    while hi - lo > tol {
        let mid = 0.5 * (lo + hi);
        if f(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(0.5 * (lo + hi))
}
