//! State-space autoregressive models (issue 14): the exact module at an LLM's vocabulary and
//! length. A prefix tree stops at about 10^6 prefixes; when the next-token law depends only on
//! a small state and the position, dynamic programming over (position, state) with token
//! multiplicities gives every quantity the tree gives, at any V and caps in the thousands.
//!
//! * [`model`] — [`StateModel`]: states, per-state laws as groups of equiprobable tokens, EOS,
//!   the cap; readable as a tree [`crate::tree::Family`], so the prefix-tree DP stays the
//!   reference (`toy/tests/statespace.rs`).
//! * [`families`] — geometric (uniform or Zipf), reasoning, loop, fixed-length as state models.
//! * [`dp`] — targets of every [`crate::Regime`] as (length, final state) cells, summaries,
//!   the exact power conditionals and token temperature, KL, Z_α spread (costs in its docs).
//! * [`theory`] — [`Solver`]: α* from the length law, the slope at α = 1, power vs temperature.
//! * [`calibrate`] — fit a state model to a real model's per-position stop hazard and
//!   per-token entropy; predict the length law of π_ref^α and α*.

pub mod calibrate;
pub mod dp;
pub mod families;
pub mod model;
pub mod theory;

pub use families::from_spec;
pub use model::{Group, Law, State, StateModel};
pub use theory::Solver;
