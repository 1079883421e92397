//! Metrics, run logs, prediction checks and figures for `sharpen`.
//! Depends on `sharpen-toy` for the exact computations it draws.
//!
//! * [`metrics`] — unbiased pass@k and maj@k (exact or seeded Monte Carlo).
//! * [`stats`], [`evidence`] — summary statistics, seeded bootstrap intervals, trends over steps.
//! * [`runlog`], [`runs`] — the JSONL run-log schema; loading and grouping logs by regime.
//! * [`predictions`] — P1–P7 of docs/design.md §5 as checks with verdicts.
//! * [`figures`] — every figure, drawn from the exact module or from run logs.

pub mod atomic;
pub mod evidence;
pub mod figures;
pub mod metrics;
pub mod predictions;
pub mod runlog;
pub mod runs;
pub mod stats;

pub use sharpen_toy as toy;
