//! The regime table of docs/design.md §1 — the single source of truth for every reward in `sharpen`.
//!
//! Per response y: task reward r ∈ [0,1], reference log-likelihood S = Σ log π_ref, policy
//! log-likelihood P = Σ log π_θ, length L, and the normalised likelihood N (0, S, S/L or S/L^w).
//!
//! | mode         | b = 0             | b > 0                               |
//! |--------------|-------------------|-------------------------------------|
//! | none         | r                 | r                                   |
//! | optimization | α·N               | r + (α/b)·N                         |
//! | sampling     | (α−1)·N + S − P   | r + ((α−1)/b)·N + (1/b)·(S − P)     |
//!
//! Sampling mode carries an entropy term (through −P), so its optimum is the Gibbs target
//! π* ∝ π_ref·exp((α−1)N + b·r); optimization mode does not, so its optima sit on the argmax
//! of b·r + α·N.

use crate::error::ToyError;
use crate::logspace::scaled;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    None,
    Optimization,
    Sampling,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "weight")]
pub enum Normalization {
    None,
    Sum,
    Mean,
    /// S / L^w; w = 0 is `sum`, w = 1 is `mean`.
    WeightedMean(f64),
}

/// One point of the regime grid. Construct with [`Regime::new`] or a named constructor so the
/// parameters are always valid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Regime {
    pub mode: Mode,
    pub alpha: f64,
    pub beta_inv: f64,
    pub normalization: Normalization,
}

/// The per-response quantities the reward is computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Task reward r ∈ [0, 1].
    pub task: f64,
    /// S: Σ_t log π_ref(y_t | …).
    pub ref_logprob: f64,
    /// P: Σ_t log π_θ(y_t | …), a constant in the gradient.
    pub policy_logprob: f64,
    /// L: number of response tokens.
    pub length: usize,
}

/// The α values of the paper's sweep.
pub const PAPER_ALPHAS: [f64; 5] = [0.5, 1.0, 1.25, 2.0, 4.0];
/// The β⁻¹ values of the paper's sweep (0 = tempered, > 0 = tilted).
pub const PAPER_BETA_INVS: [f64; 3] = [0.0, 100.0, 1e4];

impl Regime {
    pub fn new(mode: Mode, alpha: f64, beta_inv: f64, normalization: Normalization) -> Result<Self, ToyError> {
        if !(alpha.is_finite() && alpha >= 0.0) {
            return Err(ToyError::BadAlpha(alpha));
        }
        if !(beta_inv.is_finite() && beta_inv >= 0.0) {
            return Err(ToyError::BadBetaInv(beta_inv));
        }
        if let Normalization::WeightedMean(w) = normalization {
            if !(w.is_finite() && w >= 0.0) {
                return Err(ToyError::BadWeight(w));
            }
        }
        Ok(Self { mode, alpha, beta_inv, normalization })
    }

    /// Task-reward RL: optimization, α = 0, β⁻¹ = 1 (reward = r).
    pub fn task_reward() -> Self {
        Self { mode: Mode::Optimization, alpha: 0.0, beta_inv: 1.0, normalization: Normalization::Sum }
    }

    /// Distribution sharpening: optimization, α = 1, β⁻¹ = 0 (reward = log π_ref(y)).
    pub fn sharpening() -> Self {
        Self { mode: Mode::Optimization, alpha: 1.0, beta_inv: 0.0, normalization: Normalization::Sum }
    }

    /// Tempered sampling: target ∝ π_ref^α (α = 1 is the no-op control).
    pub fn tempered(alpha: f64) -> Result<Self, ToyError> {
        Self::new(Mode::Sampling, alpha, 0.0, Normalization::Sum)
    }

    /// Tilted sampling: target ∝ π_ref^α · e^{β⁻¹ r}.
    pub fn tilted(alpha: f64, beta_inv: f64) -> Result<Self, ToyError> {
        Self::new(Mode::Sampling, alpha, beta_inv, Normalization::Sum)
    }

    /// The control run: sampling, α = 1, β⁻¹ = 0, whose target is π_ref itself.
    pub fn control() -> Self {
        Self { mode: Mode::Sampling, alpha: 1.0, beta_inv: 0.0, normalization: Normalization::Sum }
    }

    /// The paper's sampling sweep: α ∈ {0.5, 1, 1.25, 2, 4} × β⁻¹ ∈ {0, 100, 10⁴}.
    pub fn paper_sweep() -> Vec<Self> {
        PAPER_BETA_INVS
            .iter()
            .flat_map(|&b| PAPER_ALPHAS.iter().map(move |&a| Self::tilted(a, b).expect("valid constants")))
            .collect()
    }

    /// N(y): the normalised reference log-likelihood. An empty response counts as one token
    /// (its end-of-sequence) so that `mean` stays finite.
    pub fn normalized(&self, ref_logprob: f64, length: usize) -> f64 {
        let l = length.max(1) as f64;
        match self.normalization {
            Normalization::None => 0.0,
            Normalization::Sum => ref_logprob,
            Normalization::Mean => ref_logprob / l,
            Normalization::WeightedMean(w) => ref_logprob / l.powf(w),
        }
    }

    /// The scalar reward handed to the policy gradient: the docs/design.md §1 table, cell by cell.
    pub fn reward(&self, s: &Scores) -> f64 {
        let (a, b, r) = (self.alpha, self.beta_inv, s.task);
        let n = self.normalized(s.ref_logprob, s.length);
        let entropy_term = s.ref_logprob - s.policy_logprob;
        match (self.mode, b > 0.0) {
            (Mode::None, _) => r,
            (Mode::Optimization, false) => scaled(a, n),
            (Mode::Optimization, true) => r + scaled(a / b, n),
            (Mode::Sampling, false) => scaled(a - 1.0, n) + entropy_term,
            (Mode::Sampling, true) => r + scaled((a - 1.0) / b, n) + entropy_term / b,
        }
    }

    /// Sampling mode: log of the unnormalised Gibbs target, log π_ref + (α−1)N + b·r.
    /// Optimization and none: the score whose argmax set holds the maximisers (b·r + α·N, or r).
    pub fn log_target_weight(&self, task: f64, ref_logprob: f64, length: usize) -> f64 {
        let n = self.normalized(ref_logprob, length);
        match self.mode {
            Mode::Sampling => {
                if ref_logprob == f64::NEG_INFINITY {
                    f64::NEG_INFINITY
                } else {
                    ref_logprob + scaled(self.alpha - 1.0, n) + self.beta_inv * task
                }
            }
            Mode::Optimization => self.beta_inv * task + scaled(self.alpha, n),
            Mode::None => task,
        }
    }

    /// A short human name ("task", "sharpening", "tempered α=2", "tilted α=1 β⁻¹=100", …).
    pub fn name(&self) -> String {
        let norm_suffix = match self.normalization {
            Normalization::Sum => String::new(),
            Normalization::None => " N=none".into(),
            Normalization::Mean => " N=mean".into(),
            Normalization::WeightedMean(w) => format!(" N=L^{w}"),
        };
        let base = match self.mode {
            Mode::None => "task (mode none)".to_string(),
            Mode::Optimization if self.alpha == 0.0 && self.beta_inv > 0.0 => "task".into(),
            Mode::Optimization if self.beta_inv == 0.0 && self.alpha == 1.0 => "sharpening".into(),
            Mode::Optimization => format!("optimization α={} β⁻¹={}", self.alpha, self.beta_inv),
            Mode::Sampling if self.beta_inv == 0.0 && self.alpha == 1.0 => "control".into(),
            Mode::Sampling if self.beta_inv == 0.0 => format!("tempered α={}", self.alpha),
            Mode::Sampling => format!("tilted α={} β⁻¹={}", self.alpha, self.beta_inv),
        };
        base + &norm_suffix
    }
}

impl fmt::Display for Regime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for Mode {
    type Err = ToyError;
    fn from_str(s: &str) -> Result<Self, ToyError> {
        match s {
            "none" => Ok(Mode::None),
            "optimization" => Ok(Mode::Optimization),
            "sampling" => Ok(Mode::Sampling),
            _ => Err(ToyError::UnknownName { what: "mode", got: s.into(), expected: "none, optimization, sampling" }),
        }
    }
}

impl Normalization {
    /// Parse `none | sum | mean | weighted_mean` with the weight given separately.
    pub fn parse(name: &str, weight: f64) -> Result<Self, ToyError> {
        match name {
            "none" => Ok(Normalization::None),
            "sum" => Ok(Normalization::Sum),
            "mean" => Ok(Normalization::Mean),
            "weighted_mean" | "weighted-mean" => {
                if !(weight.is_finite() && weight >= 0.0) {
                    return Err(ToyError::BadWeight(weight));
                }
                Ok(Normalization::WeightedMean(weight))
            }
            _ => Err(ToyError::UnknownName {
                what: "normalization",
                got: name.into(),
                expected: "none, sum, mean, weighted_mean",
            }),
        }
    }
}

/// Named regimes for command lines: `task`, `sharpening`, `control`, `tempered:ALPHA`,
/// `tilted:ALPHA:BETA_INV`.
impl FromStr for Regime {
    type Err = ToyError;
    fn from_str(s: &str) -> Result<Self, ToyError> {
        let parts: Vec<&str> = s.split(':').collect();
        let num = |x: &str| -> Result<f64, ToyError> {
            x.parse::<f64>().map_err(|_| ToyError::Invalid(format!("regime '{s}': '{x}' is not a number")))
        };
        match parts.as_slice() {
            ["task"] => Ok(Regime::task_reward()),
            ["sharpening"] => Ok(Regime::sharpening()),
            ["control"] => Ok(Regime::control()),
            ["tempered", a] => Regime::tempered(num(a)?),
            ["tilted", a, b] => Regime::tilted(num(a)?, num(b)?),
            _ => Err(ToyError::UnknownName {
                what: "regime",
                got: s.into(),
                expected: "task, sharpening, control, tempered:ALPHA, tilted:ALPHA:BETA_INV",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sc(task: f64, s: f64, p: f64, l: usize) -> Scores {
        Scores { task, ref_logprob: s, policy_logprob: p, length: l }
    }

    #[test]
    fn table_cells() {
        let x = sc(1.0, -6.0, -4.0, 3);
        assert_eq!(Regime::task_reward().reward(&x), 1.0);
        assert_eq!(Regime::sharpening().reward(&x), -6.0);
        // sampling b=0, α=2: (α−1)S + S − P = -6 -6 +4
        assert_eq!(Regime::tempered(2.0).unwrap().reward(&x), -8.0);
        // sampling b=100, α=2: r + S/100 + (S−P)/100
        let t = Regime::tilted(2.0, 100.0).unwrap().reward(&x);
        assert!((t - (1.0 - 0.06 - 0.02)).abs() < 1e-12);
        let mean = Regime::new(Mode::Optimization, 1.0, 0.0, Normalization::Mean).unwrap();
        assert_eq!(mean.reward(&x), -2.0);
        let wm = Regime::new(Mode::Optimization, 1.0, 0.0, Normalization::WeightedMean(0.5)).unwrap();
        assert!((wm.reward(&x) + 6.0 / 3f64.sqrt()).abs() < 1e-12);
        let none = Regime::new(Mode::None, 3.0, 0.0, Normalization::Sum).unwrap();
        assert_eq!(none.reward(&x), 1.0);
    }

    #[test]
    fn rejects_bad_parameters() {
        assert!(matches!(Regime::tempered(-1.0), Err(ToyError::BadAlpha(_))));
        assert!(matches!(Regime::tilted(1.0, f64::NAN), Err(ToyError::BadBetaInv(_))));
        assert!(matches!(
            Regime::new(Mode::Sampling, 1.0, 0.0, Normalization::WeightedMean(-0.1)),
            Err(ToyError::BadWeight(_))
        ));
        assert!(Regime::tempered(f64::INFINITY).is_err());
        assert!("tilted:1".parse::<Regime>().is_err());
        assert_eq!("tilted:2:100".parse::<Regime>().unwrap(), Regime::tilted(2.0, 100.0).unwrap());
    }

    #[test]
    fn sweep_has_fifteen_points() {
        let s = Regime::paper_sweep();
        assert_eq!(s.len(), 15);
        assert!(s.iter().all(|r| r.mode == Mode::Sampling));
    }
}
