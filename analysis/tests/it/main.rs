//! The integration tests of `sharpen-analysis`, one test binary: prediction checks on synthetic
//! run logs, the run-log figures, and the committed figures against what the code draws.

mod common;
mod figures_match;
mod llm_figures;
mod predictions;
