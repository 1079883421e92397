//! `sharpen`: distribution sharpening versus task rewards, from exact theory to real models.
//!
//! The exact module lives in the `sharpen-toy` crate, metrics and figures in
//! `sharpen-analysis`; this crate holds the command line and the full-scale module.

pub mod bench_cmd;
pub mod bench_device;
pub mod bench_rl;
pub mod chat;
pub mod check_cmd;
pub mod cli;
pub mod data;
pub mod data_cmd;
pub mod device;
pub mod eval;
pub mod eval_cmd;
pub mod figures_cmd;
pub mod gguf;
pub mod hub;
pub mod lm;
pub mod model;
pub mod problem;
pub mod rollout;
pub mod sample_cmd;
pub mod table;
pub mod tokenizer;
pub mod toy_cmd;
pub mod toy_dynamics;
pub mod train;
pub mod train_cmd;
pub mod verify;
pub mod verify_cmd;

pub use sharpen_analysis as analysis;
pub use sharpen_toy as toy;
