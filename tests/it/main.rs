//! The integration tests of the `sharpen` crate and its binary, one test binary (linking candle
//! once): one module per area, fixtures in tests/fixtures and tests/data.

mod chat_templates;
mod cli_analysis;
mod cli_bench;
mod cli_power;
mod cli_reliability;
mod cli_sample;
mod cli_toy;
mod cli_toy_dynamics;
mod cli_train;
mod cli_tree;
mod cli_verify;
mod common;
mod data_load;
mod data_sets;
mod data_synthetic;
mod gguf_synthetic;
mod model_backward;
mod model_fixtures;
mod problem_parser;
mod quantized_gguf;
mod reference_candle;
mod rollout_device;
mod rollout_power;
mod rollout_tiny;
mod shape_configs;
mod smollm2_gguf;
mod smollm2_model;
mod train_selfreward;
mod train_tiny;
mod verifier_cases;
mod verifier_total;
