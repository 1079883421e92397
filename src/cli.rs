//! Command-line definitions and dispatch: one library call per subcommand.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "sharpen", version, about = "Distribution sharpening vs task rewards: exact theory and full-scale RL", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The exact module: solve regimes on finite problems and run named scenarios.
    #[command(subcommand)]
    Toy(ToyCommand),
    /// Check math answers against gold answers (the task reward's verifier).
    Verify(VerifyArgs),
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["pred", "cases"])))]
pub struct VerifyArgs {
    /// A response or bare answer; its last \boxed{} (or `####`, "the answer is") is used if present.
    #[arg(long, requires = "gold", conflicts_with = "cases")]
    pub pred: Option<String>,
    /// The gold answer, or a solution whose last \boxed{} holds it.
    #[arg(long, requires = "pred")]
    pub gold: Option<String>,
    /// JSONL file with one {"pred": ..., "gold": ...} per line; prints one {"correct": true|false} per line.
    #[arg(long)]
    pub cases: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ToyCommand {
    /// Solve one regime exactly on a finite response set given as JSON.
    Solve(SolveArgs),
    /// Print the tables of a named scenario (see `sharpen toy list`).
    Scenario {
        /// Scenario name, e.g. many-paths.
        name: String,
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// List the named scenarios.
    List,
    /// T7: train a softmax tabular policy with the trainer's estimator (RLOO, AdamW, warm-up,
    /// clipping) over many seeds and print per-step quantiles across seeds.
    Train(TrainArgs),
    /// T7: integrate the exact gradient flow from π_ref and list the fixed points with their
    /// eigenvalues (stable / unstable / saddle).
    Flow(FlowArgs),
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Problem: many-paths, near-tie, near-tie:GAP, small-four, or a JSON problem file.
    pub scenario: String,
    /// task | sharpening | control | tempered:ALPHA | tilted:ALPHA:BETA_INV | self-certainty
    #[arg(long)]
    pub regime: String,
    /// Number of seeds (independent runs, trained in parallel).
    #[arg(long, default_value_t = 64)]
    pub seeds: usize,
    /// Optimiser steps per seed.
    #[arg(long, default_value_t = 200)]
    pub steps: usize,
    /// Peak learning rate of AdamW (betas 0.9/0.999, eps 1e-8, weight decay 0.01).
    #[arg(long, default_value_t = 0.05)]
    pub lr: f64,
    /// K: rollouts per prompt (one leave-one-out group).
    #[arg(long, default_value_t = 8)]
    pub samples: usize,
    /// Prompts (RLOO groups) per optimiser step.
    #[arg(long, default_value_t = 4)]
    pub prompts: usize,
    /// Linear warm-up steps from 0.1× to 1× the learning rate [default: steps / 10].
    #[arg(long)]
    pub warmup: Option<usize>,
    /// token (Σ over the batch's tokens / number of tokens, the paper's) | sequence (per rollout).
    #[arg(long, default_value = "token")]
    pub loss: String,
    /// Gradient-norm clipping threshold.
    #[arg(long = "max-grad-norm", default_value_t = 1.0)]
    pub max_grad_norm: f64,
    /// Base seed; seed i uses stream i of ChaCha8 seeded with it.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Worker threads [default: all cores]; results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print one JSON object (config, per-step summaries, final summary) instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Write one JSONL run log per seed into DIR (header record, then one record per step).
    #[arg(long = "log-dir")]
    pub log_dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct FlowArgs {
    /// Problem: many-paths, near-tie, near-tie:GAP, small-four, or a JSON problem file.
    pub scenario: String,
    /// task | sharpening | control | tempered:ALPHA | tilted:ALPHA:BETA_INV | self-certainty
    #[arg(long)]
    pub regime: String,
    /// Integrate the flow up to this time.
    #[arg(long = "t-end", default_value_t = 1e6)]
    pub t_end: f64,
    /// Enumerate every face when the problem has at most this many responses; otherwise the
    /// vertices and the nested faces of π_ref's top-k responses.
    #[arg(long = "max-faces", default_value_t = 10)]
    pub max_faces: usize,
    /// Print one JSON object (flow, closed form, fixed points) instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct RegimeArgs {
    /// none | optimization | sampling
    #[arg(long, default_value = "sampling")]
    pub mode: String,
    /// α ≥ 0: exponent on the reference likelihood.
    #[arg(long, default_value_t = 1.0)]
    pub alpha: f64,
    /// β⁻¹ ≥ 0: weight of the task reward (0 = no task reward).
    #[arg(long = "beta-inv", default_value_t = 0.0)]
    pub beta_inv: f64,
    /// none | sum | mean | weighted_mean
    #[arg(long, default_value = "sum")]
    pub normalization: String,
    /// w for weighted_mean (N = S / L^w).
    #[arg(long, default_value_t = 1.0)]
    pub weight: f64,
}

impl RegimeArgs {
    pub fn regime(&self) -> anyhow::Result<sharpen_toy::Regime> {
        use sharpen_toy::{Normalization, Regime};
        let mode = self.mode.parse()?;
        let norm = Normalization::parse(&self.normalization, self.weight)?;
        Ok(Regime::new(mode, self.alpha, self.beta_inv, norm)?)
    }
}

#[derive(Args, Debug)]
pub struct SolveArgs {
    /// JSON file: {"responses": [{"prob": 0.1, "reward": 0, "length": 3, "answer": "7"}, ...]}
    #[arg(long)]
    pub problem: PathBuf,
    #[command(flatten)]
    pub regime: RegimeArgs,
    /// Print one JSON object (target, expected_reward, expected_length, answers, argmax).
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Toy(ToyCommand::Solve(a)) => crate::toy_cmd::solve(&a),
        Command::Toy(ToyCommand::Scenario { name, json }) => crate::toy_cmd::scenario(&name, json),
        Command::Toy(ToyCommand::List) => crate::toy_cmd::list(),
        Command::Toy(ToyCommand::Train(a)) => crate::toy_dynamics::train(&a),
        Command::Toy(ToyCommand::Flow(a)) => crate::toy_dynamics::flow(&a),
        Command::Verify(a) => match (&a.pred, &a.gold, &a.cases) {
            (Some(p), Some(g), None) => crate::verify_cmd::verify_one(p, g),
            (None, None, Some(path)) => crate::verify_cmd::verify_cases(path),
            _ => anyhow::bail!("give either --pred and --gold, or --cases FILE"),
        },
    }
}

/// Errors print on one line: the context chain joined by ": ".
pub fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}
