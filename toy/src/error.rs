use thiserror::Error;

/// Everything the exact module can reject. Messages are one line and name the culprit.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ToyError {
    #[error("alpha must be a finite number >= 0, got {0}")]
    BadAlpha(f64),
    #[error("beta_inv must be a finite number >= 0, got {0}")]
    BadBetaInv(f64),
    #[error("normalization weight must be a finite number >= 0, got {0}")]
    BadWeight(f64),
    #[error("unknown {what} '{got}' (expected one of: {expected})")]
    UnknownName { what: &'static str, got: String, expected: &'static str },
    #[error("the response list is empty")]
    Empty,
    #[error("response {index}: probability {value} is negative or not finite")]
    BadProb { index: usize, value: f64 },
    #[error("response {index}: reward {value} is outside [0, 1]")]
    BadReward { index: usize, value: f64 },
    #[error("probabilities sum to {0}, not 1 (tolerance 1e-6)")]
    NotNormalized(f64),
    #[error("{0}")]
    Invalid(String),
}
