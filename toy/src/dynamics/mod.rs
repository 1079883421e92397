//! T7: the learning dynamics of each regime on softmax tabular policies.
//!
//! * [`objective`] — a regime's reward, or the self-referential reward P, as base + c·P.
//! * [`bandit_policy`] — the softmax policy over a finite response set; exact expected gradient
//!   of the trainer's estimator and its Jacobian in closed form.
//! * [`ode`] — RK4 and adaptive Dormand–Prince integrators; [`flow`] — the exact flow from π_ref.
//! * [`fixed_points`] — fixed points on every face, eigenvalues, stable / unstable / saddle.
//! * [`estimator`], [`adamw`], [`train`] — the trainer's estimator (RLOO, token- or
//!   sequence-level loss) and optimiser (AdamW, warm-up, clipping), many seeds in parallel.
//! * [`summary`] — per-step quantiles across seeds; [`t7`] — T7 (a)–(d) as functions.

pub mod adamw;
pub mod bandit_policy;
pub mod estimator;
pub mod fixed_points;
pub mod flow;
pub mod objective;
pub mod ode;
pub mod reports;
pub mod summary;
pub mod t7;
pub mod train;
pub mod tree_policy;

pub use bandit_policy::TabularBandit;
pub use estimator::{LossAggregation, Trainable};
pub use fixed_points::{FixedPoint, Stability};
pub use objective::Objective;
pub use train::{train_seeds, SeedRun, StepStats, TrainConfig};
pub use tree_policy::TabularTree;
