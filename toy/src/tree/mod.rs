//! Tabular autoregressive models (docs/design.md §3, T4–T6 and T8): prefix trees with an EOS token and
//! a length cap, solved exactly by dynamic programming over the prefixes.
//!
//! * [`model`] — [`Tree`] (flat arrays indexed by prefix id) built from a [`Family`];
//!   [`Policy`] holds token conditionals on a tree.
//! * [`families`] — `geometric` (uniform or Zipf), `reasoning`, `loop`, and the `fixed-length`
//!   wrapper; [`spec`] picks one by name with defaults.
//! * [`dp`] — forward/backward recursions in log-space, the [`Target`] of any `Regime`
//!   (`sum`, `mean`, `weighted_mean`), and [`Summary`] (length pmf, mean length, accuracy,
//!   entropy, answers).
//! * [`power`] — the exact token conditionals of π_ref^α, q(v|n) ∝ p(v|n)^α·Z_α(n·v).
//! * [`mcmc`] — the MCMC power sampler on a tree beside the exact π_ref^α (`sharpen toy power`).
//! * [`temperature`] — token-level temperature 1/α, for comparison; [`sample`] draws sequences
//!   token by token from any conditionals.
//! * [`theory`] — T4, T5, T6, T8 as functions; [`report`] — `sharpen toy tree` (which answers with
//!   [`crate::statespace`] unless asked for the tree: the same report at any V and cap ≤ 4096);
//!   [`scenarios`] — the named `tree-*` scenarios.
//!
//! # Data for figures
//!
//! Build a tree with `FamilySpec::parse("geometric", &FamilyOptions::default())?.build(max_nodes)?`
//! (or `Tree::build(&Geometric::new(..)?, max_nodes)`), then:
//!
//! | figure | call | returns |
//! |---|---|---|
//! | length marginal per α | `theory::length_pmfs(&tree, &alphas, Normalization::Sum)` | `Vec<Vec<f64>>`, P(L=ℓ), ℓ = 0..=cap |
//! | mean length vs α (sum / mean / fixed length) | `theory::mean_length_curve(&tree, &alphas, norm)` (a `fixed-length:*` tree for the flat curve) | `Vec<f64>` |
//! | long caps, closed form | `theory::geometric_length_pmf(&g, alpha)` (any cap up to 4096) | `Vec<f64>` |
//! | critical α | `theory::alpha_star(&g)`, `theory::alpha_star_dp(&tree)` | `f64`, `Option<f64>` |
//! | slope at α = 1 | `theory::slope_at_one(&tree)` | `SlopeAtOne` (slope, Var L, h̄, −h̄·Var L) |
//! | dE[L]/dα anywhere | `theory::length_slope(&tree, &theory::tempered(alpha, norm))` | `f64` |
//! | sharpening optima, sum vs mean | `theory::length_bias(&tree)` | `LengthBias` |
//! | power vs temperature per α | `alphas.iter().map(|&a| theory::power_vs_temperature(&tree, a))` | `PowerVsTemperature` (KL both ways, Z_α spread, `Summary` of each) |
//! | T3 on a (fixed-length) tree | `theory::unfavourable_optimum(&tree, &alphas, &beta_invs)` | `crate::theory::UnfavourableOptimum` |
//! | any regime | `theory::solve(&tree, &regime)` | `Summary` |

pub mod dp;
pub mod families;
pub mod mcmc;
pub mod model;
pub mod power;
pub mod report;
pub mod sample;
pub mod scenarios;
pub mod spec;
pub mod temperature;
pub mod theory;

pub use dp::{Summary, Target};
pub use families::{FixedLength, Geometric, Loop, Reasoning};
pub use model::{Family, Policy, Tree, DEFAULT_MAX_NODES};
pub use spec::{FamilyKind, FamilyOptions, FamilySpec};
