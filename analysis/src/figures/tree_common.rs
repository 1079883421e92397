//! Shared helpers of the tree figures (T4–T6, T8).

use sharpen_toy::tree::{FamilyOptions, FamilySpec, Tree};

/// A named tree family with its default parameters (`geometric`, `reasoning`, `loop`,
/// `fixed-length:FAMILY`).
pub fn tree(name: &str) -> Tree {
    FamilySpec::parse(name, &FamilyOptions::default())
        .and_then(|s| s.build(sharpen_toy::tree::DEFAULT_MAX_NODES))
        .expect("default families are valid")
}

/// α from `lo` to `hi` in steps of `step` (inclusive, without rounding drift).
pub fn alpha_grid(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let n = ((hi - lo) / step).round() as usize;
    (0..=n).map(|i| lo + i as f64 * step).collect()
}
