//! The exact theory of `sharpen`: the four KL-regularised regimes of
//! "Beyond Distribution Sharpening" solved exactly on small problems.
//!
//! * [`regime`] — the one definition of the regimes (docs/design.md §1), shared with the LLM trainer.
//! * [`bandit`] — finite response sets with exact targets, accuracy, length and maj@k.
//! * [`theory`] — T1–T3 as functions (closed forms, local effect on accuracy, the unfavourable optimum).
//! * [`dynamics`] — T7: exact flows, fixed points and stochastic training of softmax policies.
//! * [`rloo`] — the leave-one-out advantage the toy and LLM trainers share.
//! * [`selfreward`] — self-rewards (self-certainty, negative entropy, majority pseudo-labels) as
//!   reward sources beside the task reward, shared with the LLM trainer.
//! * [`mcmc`] — inference-time power sampling: Metropolis–Hastings toward π_ref^α over any
//!   autoregressive model.
//! * [`tree`] — tabular autoregressive models with EOS: T4–T6 and T8 by exact DP over prefixes.
//! * [`statespace`] — the same exact quantities by DP over (position, state) with token
//!   multiplicities: an LLM's vocabulary and length, and calibration from a real model's samples.
//! * [`scenarios`] — named problems that make a point, printed by `sharpen toy scenario`.

pub mod bandit;
pub mod dynamics;
pub mod error;
pub mod logspace;
pub mod majority;
pub mod mcmc;
pub mod problems;
pub mod regime;
pub mod report;
pub mod rloo;
pub mod scenarios;
pub mod selfreward;
pub mod statespace;
pub mod theory;
pub mod tree;

pub use bandit::{Bandit, Response};
pub use error::ToyError;
pub use regime::{Mode, Normalization, Regime};
pub use selfreward::RewardSource;
