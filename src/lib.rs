//! `sharpen`: distribution sharpening versus task rewards, from exact theory to real models.
//!
//! The exact module lives in the `sharpen-toy` crate, metrics and figures in
//! `sharpen-analysis`; this crate holds the full-scale module (models, sampling, the verifier,
//! datasets, the RLOO trainer, evaluation). The `sharpen` binary's command line is its own
//! (src/cli/), and calls into this library.

pub mod chat;
pub mod data;
pub mod device;
pub mod eval;
pub mod gguf;
pub mod hub;
pub mod lm;
pub mod model;
pub mod problem;
pub mod quantized;
pub mod rollout;
pub mod task;
pub mod tokenizer;
pub mod train;
pub mod verify;

pub use sharpen_analysis as analysis;
pub use sharpen_toy as toy;
