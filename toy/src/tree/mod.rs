//! Tabular autoregressive models (DESIGN §3, T4–T6 and T8): prefix trees with an EOS token and
//! a length cap, solved exactly by dynamic programming over the prefixes.
//!
//! * [`model`] — [`Tree`] (flat arrays indexed by prefix id) built from a [`Family`];
//!   [`Policy`] holds token conditionals on a tree.
//! * [`families`] — `geometric` (uniform or Zipf), `reasoning`, `loop`, and the `fixed-length` wrapper;
//!   [`spec`] picks one by name with defaults.
//! * [`dp`] — forward/backward recursions in log-space, the [`Target`] of any `Regime`
//!   (`sum`, `mean`, `weighted_mean`), and [`Summary`] (length pmf, mean length, accuracy,
//!   entropy, answers).
//! * [`power`] — the exact token conditionals of π_ref^α, q(v|n) ∝ p(v|n)^α·Z_α(n·v).
//! * [`temperature`] — token-level temperature 1/α, for comparison.

pub mod dp;
pub mod families;
pub mod model;
pub mod power;
pub mod spec;
pub mod temperature;

pub use dp::{Summary, Target};
pub use families::{FixedLength, Geometric, Loop, Reasoning};
pub use model::{Family, Policy, Tree, DEFAULT_MAX_NODES};
pub use spec::{FamilyKind, FamilyOptions, FamilySpec};
