//! Metrics, run logs, prediction checks and figures for `sharpen`.
//! Depends on `sharpen-toy` for the exact computations it draws.

pub use sharpen_toy as toy;
