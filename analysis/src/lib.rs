//! Metrics, run logs, prediction checks and figures for `sharpen`.
//! Depends on `sharpen-toy` for the exact computations it draws.

pub mod runlog;

pub use sharpen_toy as toy;
