//! ODE integrators for the exact flow dθ/dt = G(θ): classical RK4 with a fixed step, and the
//! Dormand–Prince 5(4) pair with adaptive steps. Adaptive steps matter here: near an
//! optimization-mode vertex the softmax flow slows down like 1/t, so a fixed step would need
//! millions of steps to reach t = 10⁶ while the adaptive one lengthens its step as the flow slows.

/// One RK4 step of size h.
pub fn rk4_step(f: &impl Fn(&[f64]) -> Vec<f64>, y: &[f64], h: f64) -> Vec<f64> {
    let add = |a: &[f64], b: &[f64], s: f64| -> Vec<f64> { a.iter().zip(b).map(|(x, d)| x + s * d).collect() };
    let k1 = f(y);
    let k2 = f(&add(y, &k1, h / 2.0));
    let k3 = f(&add(y, &k2, h / 2.0));
    let k4 = f(&add(y, &k3, h));
    (0..y.len()).map(|i| y[i] + h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])).collect()
}

/// Integrate from t = 0 to `t_end` with fixed RK4 steps of size at most `h`.
pub fn rk4(f: impl Fn(&[f64]) -> Vec<f64>, y0: &[f64], t_end: f64, h: f64) -> Vec<f64> {
    let steps = (t_end / h).ceil().max(1.0) as usize;
    let h = t_end / steps as f64;
    (0..steps).fold(y0.to_vec(), |y, _| rk4_step(&f, &y, h))
}

/// Tolerances of the adaptive integrator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    pub rtol: f64,
    pub atol: f64,
    /// Give up after this many accepted + rejected steps.
    pub max_steps: usize,
}

impl Default for Tolerance {
    fn default() -> Self {
        Self { rtol: 1e-10, atol: 1e-12, max_steps: 2_000_000 }
    }
}

/// What the adaptive integrator returns: y at each requested time, and the work it did.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub times: Vec<f64>,
    pub states: Vec<Vec<f64>>,
    pub accepted: usize,
    pub rejected: usize,
    /// False when `max_steps` ran out before the last requested time.
    pub completed: bool,
}

// Dormand–Prince 5(4) tableau (the system is autonomous, so the nodes c_i are not needed).
const A: [[f64; 6]; 7] = [
    [0.0; 6],
    [1.0 / 5.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
    [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
    [19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0, 0.0, 0.0],
    [9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0, 0.0],
    [35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0],
];
/// 5th-order weights (equal to the last row of A: first-same-as-last).
const B5: [f64; 7] = [35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0, 0.0];
const B4: [f64; 7] =
    [5179.0 / 57600.0, 0.0, 7571.0 / 16695.0, 393.0 / 640.0, -92097.0 / 339200.0, 187.0 / 2100.0, 1.0 / 40.0];

/// Integrate dy/dt = f(y) from t = 0 with Dormand–Prince 5(4), reporting y at each time in
/// `report_at` (sorted, ≥ 0). Steps are shortened to land exactly on report times.
pub fn dopri5(f: impl Fn(&[f64]) -> Vec<f64>, y0: &[f64], report_at: &[f64], tol: Tolerance) -> Path {
    let n = y0.len();
    let mut y = y0.to_vec();
    let mut t = 0.0f64;
    let mut h = 1e-3f64;
    let mut out = Path { times: Vec::new(), states: Vec::new(), accepted: 0, rejected: 0, completed: true };
    let mut k = vec![vec![0.0; n]; 7];
    k[0] = f(&y);
    for &target in report_at {
        while t < target {
            if out.accepted + out.rejected >= tol.max_steps {
                out.completed = false;
                return out;
            }
            let step = h.min(target - t);
            for s in 1..7 {
                let ys: Vec<f64> =
                    (0..n).map(|i| y[i] + step * (0..s).map(|j| A[s][j] * k[j][i]).sum::<f64>()).collect();
                k[s] = f(&ys);
            }
            let y5: Vec<f64> = (0..n).map(|i| y[i] + step * (0..7).map(|j| B5[j] * k[j][i]).sum::<f64>()).collect();
            let err = (0..n)
                .map(|i| {
                    let e = step * (0..7).map(|j| (B5[j] - B4[j]) * k[j][i]).sum::<f64>();
                    let sc = tol.atol + tol.rtol * y[i].abs().max(y5[i].abs());
                    (e / sc).powi(2)
                })
                .sum::<f64>()
                / n.max(1) as f64;
            let err = err.sqrt();
            let factor = if err == 0.0 { 5.0 } else { (0.9 * err.powf(-0.2f64)).clamp(0.2, 5.0) };
            if err <= 1.0 && y5.iter().all(|v| v.is_finite()) {
                t = if step == target - t { target } else { t + step };
                y = y5;
                k[0] = std::mem::take(&mut k[6]);
                k[6] = vec![0.0; n];
                out.accepted += 1;
                // A step shortened to hit a report time says nothing about the step size the
                // flow allows, so only full steps grow h.
                if step == h {
                    h *= factor;
                }
            } else {
                out.rejected += 1;
                h = step * factor.clamp(0.1, 1.0);
            }
        }
        out.times.push(target);
        out.states.push(y.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rotation plus decay: y(t) = e^{−t/10}(cos t, −sin t) from (1, 0).
    fn spiral(y: &[f64]) -> Vec<f64> {
        vec![-0.1 * y[0] + y[1], -y[0] - 0.1 * y[1]]
    }

    #[test]
    fn dopri5_matches_the_exact_solution() {
        let path = dopri5(spiral, &[1.0, 0.0], &[1.0, 5.0, 20.0], Tolerance::default());
        assert!(path.completed);
        for (t, y) in path.times.iter().zip(&path.states) {
            let (a, b) = ((-t / 10.0).exp() * t.cos(), -(-t / 10.0).exp() * t.sin());
            assert!((y[0] - a).abs() < 1e-8 && (y[1] - b).abs() < 1e-8, "t={t}: {y:?} vs ({a}, {b})");
        }
    }

    #[test]
    fn rk4_is_fourth_order() {
        let exact = ((-2.0f64).exp() * 20.0f64.cos(), -(-2.0f64).exp() * 20.0f64.sin());
        let err = |h: f64| {
            let y = rk4(spiral, &[1.0, 0.0], 20.0, h);
            ((y[0] - exact.0).powi(2) + (y[1] - exact.1).powi(2)).sqrt()
        };
        let (e1, e2) = (err(0.1), err(0.05));
        let order = (e1 / e2).log2();
        assert!((order - 4.0).abs() < 0.3, "observed order {order} ({e1}, {e2})");
    }

    #[test]
    fn adaptive_steps_grow_on_a_slow_flow() {
        // dy/dt = −y²: y = 1/(1+t), the 1/t slow-down of a softmax flow near a vertex.
        let path = dopri5(|y| vec![-y[0] * y[0]], &[1.0], &[1e6], Tolerance::default());
        assert!(path.completed);
        assert!((path.states[0][0] - 1.0 / (1.0 + 1e6)).abs() < 1e-12);
        assert!(path.accepted < 20_000, "took {} steps", path.accepted);
    }
}
