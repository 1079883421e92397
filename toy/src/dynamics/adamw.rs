//! The trainer's optimiser, written out so that the toy follows exactly the LLM trainer's
//! update: AdamW (PyTorch's decoupled weight decay), a linear warm-up of the learning rate from
//! 0.1× to 1× and then constant, and gradient-norm clipping.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamWConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl AdamWConfig {
    /// The paper's betas, eps and weight decay at learning rate `lr`.
    pub fn paper(lr: f64) -> Self {
        Self { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01 }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AdamW {
    pub config: AdamWConfig,
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl AdamW {
    pub fn new(config: AdamWConfig, n: usize) -> Self {
        Self { config, m: vec![0.0; n], v: vec![0.0; n], t: 0 }
    }

    /// One step on `params` with the loss gradient `grad` (descent) at learning rate `lr`.
    pub fn step(&mut self, params: &mut [f64], grad: &[f64], lr: f64) {
        let c = self.config;
        self.t += 1;
        let (bc1, bc2) = (1.0 - c.beta1.powi(self.t), 1.0 - c.beta2.powi(self.t));
        for i in 0..params.len() {
            params[i] *= 1.0 - lr * c.weight_decay;
            self.m[i] = c.beta1 * self.m[i] + (1.0 - c.beta1) * grad[i];
            self.v[i] = c.beta2 * self.v[i] + (1.0 - c.beta2) * grad[i] * grad[i];
            let denom = (self.v[i] / bc2).sqrt() + c.eps;
            params[i] -= lr * (self.m[i] / bc1) / denom;
        }
    }
}

/// Learning-rate multiplier at 0-based `step`: 0.1 → 1 linearly over `warmup` steps, then 1.
pub fn warmup_factor(step: usize, warmup: usize) -> f64 {
    if warmup == 0 {
        return 1.0;
    }
    0.1 + 0.9 * (step.min(warmup) as f64 / warmup as f64)
}

/// Scale `grad` in place so that its L2 norm is at most `max_norm` (PyTorch's
/// clip_grad_norm_: factor max_norm/(norm + 1e-6) when below 1). Returns the norm before
/// clipping and whether clipping scaled the gradient.
pub fn clip_grad_norm(grad: &mut [f64], max_norm: f64) -> (f64, bool) {
    let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
    let coef = max_norm / (norm + 1e-6);
    if coef < 1.0 {
        grad.iter_mut().for_each(|g| *g *= coef);
        (norm, true)
    } else {
        (norm, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_adam_step_is_lr_times_sign() {
        // With bias correction the first step is lr·g/(|g| + eps) after the decay.
        let mut p = vec![1.0, -2.0, 0.5];
        let mut opt = AdamW::new(AdamWConfig::paper(0.1), 3);
        opt.step(&mut p, &[0.3, -4.0, 0.0], 0.1);
        let decay = 1.0 - 0.1 * 0.01;
        let expected = [1.0 * decay - 0.1 * 0.3 / (0.3 + 1e-8), -2.0 * decay + 0.1 * 4.0 / (4.0 + 1e-8), 0.5 * decay];
        for (a, b) in p.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{p:?}");
        }
    }

    #[test]
    fn second_step_by_hand() {
        let c = AdamWConfig { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0 };
        let mut p = vec![0.0];
        let mut opt = AdamW::new(c, 1);
        opt.step(&mut p, &[1.0], 0.01);
        opt.step(&mut p, &[-1.0], 0.01);
        // m2 = 0.9·0.1 − 0.1 = −0.01, v2 = 0.999·0.001 + 0.001 = 0.001999
        let m_hat = -0.01 / (1.0 - 0.81);
        let v_hat = 0.001999 / (1.0 - 0.999f64.powi(2));
        let first = -0.01 / (1.0 + 1e-8);
        let expected = first - 0.01 * m_hat / (v_hat.sqrt() + 1e-8);
        assert!((p[0] - expected).abs() < 1e-12, "{} vs {expected}", p[0]);
    }

    #[test]
    fn warmup_and_clipping() {
        assert_eq!(warmup_factor(0, 50), 0.1);
        assert!((warmup_factor(25, 50) - 0.55).abs() < 1e-12);
        assert_eq!(warmup_factor(50, 50), 1.0);
        assert_eq!(warmup_factor(500, 50), 1.0);
        assert_eq!(warmup_factor(0, 0), 1.0);
        let mut g = vec![3.0, 4.0];
        let (n, clipped) = clip_grad_norm(&mut g, 1.0);
        assert_eq!(n, 5.0);
        assert!(clipped);
        assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
        let mut g = vec![0.3, 0.4];
        assert_eq!(clip_grad_norm(&mut g, 1.0), (0.5, false));
        assert_eq!(g, vec![0.3, 0.4]);
    }
}
