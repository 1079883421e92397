//! Reading a finite response set from JSON: every malformed input is a one-line error.

use anyhow::{Context, Result};
use serde::Deserialize;
use sharpen_toy::{Bandit, Response};
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProblemFile {
    responses: Vec<ResponseSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseSpec {
    prob: f64,
    reward: f64,
    /// Defaults to 1 token.
    #[serde(default = "one")]
    length: usize,
    /// Defaults to the response's index, so that distinct responses are distinct answers.
    answer: Option<String>,
}

fn one() -> usize {
    1
}

/// Parse and validate a problem from JSON bytes.
pub fn parse_problem(bytes: &[u8]) -> Result<Bandit> {
    let file: ProblemFile = serde_json::from_slice(bytes).context("malformed problem JSON")?;
    let responses = file
        .responses
        .into_iter()
        .enumerate()
        .map(|(i, r)| Response {
            prob: r.prob,
            reward: r.reward,
            length: r.length,
            answer: r.answer.unwrap_or_else(|| i.to_string()),
        })
        .collect();
    Ok(Bandit::new(responses)?)
}

pub fn read_problem(path: &Path) -> Result<Bandit> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_problem(&bytes).with_context(|| format!("{}", path.display()))
}
