//! The integration and property tests of `sharpen-toy`, one test binary: closed forms (T1–T3),
//! trees (T4–T6, T8), dynamics (T7), state-space models and the MCMC power sampler, each against
//! brute force, finite differences or the prefix-tree reference.

mod common;
mod selfreward;
mod statespace;
mod t1_closed_forms;
mod t2_local_effect;
mod t3_unfavourable_optimum;
mod t7_dynamics;
mod tree_common;
mod tree_dp;
mod tree_mcmc;
mod tree_sample;
mod tree_theory;
