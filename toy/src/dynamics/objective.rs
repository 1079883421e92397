//! What the policy gradient is asked to climb: one of the paper's regimes, or the
//! self-referential sharpening reward (the policy's own log-likelihood).
//!
//! Every reward here is affine in the policy's log-likelihood P: reward = base(y) + c·P(y), with
//! c = 0 in optimization/none mode, c = −1 (b = 0) or −1/b (b > 0) in sampling mode, and c = +1
//! for self-certainty. The split is read off [`Regime::reward`] itself, so the regime table is
//! never restated here.

use crate::error::ToyError;
use crate::regime::{Regime, Scores};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Objective {
    /// A point of the regime grid (docs/design.md §1).
    Regime { regime: Regime },
    /// Reward = P, the current policy's own sequence log-likelihood (entropy minimisation, as in
    /// self-certainty or entropy rewards). Not a point of the regime grid: there P only enters
    /// with a minus sign.
    SelfCertainty,
}

impl From<Regime> for Objective {
    fn from(regime: Regime) -> Self {
        Objective::Regime { regime }
    }
}

impl Objective {
    /// The scalar reward of one response.
    pub fn reward(&self, s: &Scores) -> f64 {
        match self {
            Objective::Regime { regime } => regime.reward(s),
            Objective::SelfCertainty => s.policy_logprob,
        }
    }

    /// (base, c) with reward = base + c·P for a response with task reward `task`, reference
    /// log-likelihood `ref_logprob` and `length` tokens.
    pub fn affine(&self, task: f64, ref_logprob: f64, length: usize) -> (f64, f64) {
        let at = |p: f64| self.reward(&Scores { task, ref_logprob, policy_logprob: p, length });
        let base = at(0.0);
        (base, base - at(-1.0))
    }

    /// ∂reward/∂P, the same for every response (see the module note).
    pub fn policy_coefficient(&self) -> f64 {
        self.affine(0.0, -1.0, 1).1
    }

    pub fn regime(&self) -> Option<Regime> {
        match self {
            Objective::Regime { regime } => Some(*regime),
            Objective::SelfCertainty => None,
        }
    }

    pub fn name(&self) -> String {
        match self {
            Objective::Regime { regime } => regime.name(),
            Objective::SelfCertainty => "self-certainty".into(),
        }
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// `self-certainty` (alias `entropy`), or any name [`Regime`] parses.
impl FromStr for Objective {
    type Err = ToyError;
    fn from_str(s: &str) -> Result<Self, ToyError> {
        match s {
            "self-certainty" | "entropy" => Ok(Objective::SelfCertainty),
            _ => s.parse::<Regime>().map(Objective::from).map_err(|e| match e {
                ToyError::UnknownName { got, .. } => ToyError::UnknownName {
                    what: "regime",
                    got,
                    expected: "task, sharpening, control, tempered:ALPHA, tilted:ALPHA:BETA_INV, self-certainty",
                },
                other => other,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regime::{Mode, Normalization};

    #[test]
    fn coefficients_of_p() {
        assert_eq!(Objective::from(Regime::task_reward()).policy_coefficient(), 0.0);
        assert_eq!(Objective::from(Regime::sharpening()).policy_coefficient(), 0.0);
        assert_eq!(Objective::from(Regime::tempered(2.0).unwrap()).policy_coefficient(), -1.0);
        assert_eq!(Objective::from(Regime::tilted(2.0, 100.0).unwrap()).policy_coefficient(), -0.01);
        assert_eq!(Objective::SelfCertainty.policy_coefficient(), 1.0);
    }

    #[test]
    fn affine_split_reproduces_the_reward() {
        let regimes = [
            Regime::task_reward(),
            Regime::sharpening(),
            Regime::control(),
            Regime::tempered(0.5).unwrap(),
            Regime::tilted(4.0, 100.0).unwrap(),
            Regime::new(Mode::Sampling, 2.0, 3.0, Normalization::Mean).unwrap(),
        ];
        for o in regimes.map(Objective::from).into_iter().chain([Objective::SelfCertainty]) {
            for &(task, s, p, l) in &[(1.0, -7.0, -3.0, 4), (0.0, -0.5, -12.0, 1), (0.3, -20.0, -0.1, 30)] {
                let (base, c) = o.affine(task, s, l);
                let direct = o.reward(&Scores { task, ref_logprob: s, policy_logprob: p, length: l });
                assert!((base + c * p - direct).abs() < 1e-12, "{o}: {direct} vs {}", base + c * p);
            }
        }
    }

    #[test]
    fn parses_names() {
        assert_eq!("self-certainty".parse::<Objective>().unwrap(), Objective::SelfCertainty);
        assert_eq!("sharpening".parse::<Objective>().unwrap(), Objective::from(Regime::sharpening()));
        let e = "bogus".parse::<Objective>().unwrap_err().to_string();
        assert!(e.contains("self-certainty"), "{e}");
        assert!("tempered:-1".parse::<Objective>().is_err());
    }
}
