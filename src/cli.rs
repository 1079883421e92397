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
    /// Regenerate every figure of the exact module (and, with --runs, the run-log figures) as
    /// SVG, PNG and the CSV of the plotted numbers.
    Figures(FiguresArgs),
    /// Check the theory's predictions P1–P6 on run logs and print the verdict table.
    Check(CheckArgs),
    /// Check math answers against gold answers (the task reward's verifier).
    Verify(VerifyArgs),
    /// Load a dataset (or generate the synthetic task) and print its load summary and prompts.
    Data(DataArgs),
    /// Sample continuations of prompts from a model (Hugging Face folder or .gguf file).
    Sample(crate::sample_cmd::SampleArgs),
    /// Speed and device checks: sampling and training on a real model (vs scripts/bench_baseline.py),
    /// an RLOO step at a paper model's shape, correctness on a device (scripts/device-check.sh).
    #[command(subcommand)]
    Bench(crate::bench_cmd::BenchCommand),
    /// Train a model with RLOO under one regime (task reward, sharpening, tempered, tilted).
    Train(crate::train_cmd::TrainArgs),
    /// Evaluate a model or checkpoint: n samples per problem, pass@k, maj@k, mean length.
    Eval(crate::eval_cmd::EvalArgs),
    /// Convert a GGUF file (llama architecture) into a Hugging Face folder (f32 safetensors,
    /// config.json, tokenizer.json, tokenizer_config.json with the chat template,
    /// generation_config.json).
    Convert(ConvertArgs),
}

#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// The .gguf file to read.
    pub gguf: PathBuf,
    /// The folder to create; it appears only when complete.
    pub out_dir: PathBuf,
    /// Replace OUT_DIR if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct DataArgs {
    /// gsm8k | math | math500 | minerva | aime24 | amc23 | arith (the synthetic task).
    #[arg(long)]
    pub dataset: String,
    /// Split file in the data folder ($SHARPEN_DATA, default ../shared/data): train or test.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Read this JSONL file instead of <data folder>/<dataset>/<split>.jsonl.
    #[arg(long)]
    pub path: Option<PathBuf>,
    /// Synthetic task only: number of problems.
    #[arg(long, default_value_t = 100)]
    pub n: usize,
    /// Synthetic task only: difficulty 1..=10 (operands = difficulty + 1, sizes up to 10·difficulty).
    #[arg(long, default_value_t = 3)]
    pub difficulty: u32,
    /// Synthetic task only: seed of the generator.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print this many problems as the paper's prompt text with their gold answers.
    #[arg(long, default_value_t = 1)]
    pub show: usize,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["pred", "cases"])))]
pub struct VerifyArgs {
    /// A model response (or a bare answer, read as a response); its answer is extracted as
    /// Math-Verify does with the authors' call (boxed answers, "final answer is", "answer:", ...).
    #[arg(long, requires = "gold", conflicts_with = "cases")]
    pub pred: Option<String>,
    /// The gold answer, or a solution whose last \boxed{} holds it.
    #[arg(long, requires = "pred")]
    pub gold: Option<String>,
    /// JSONL file with one {"pred": ..., "gold": ...} per line; prints one {"correct": true|false} per line.
    #[arg(long)]
    pub cases: Option<PathBuf>,
    /// Also print what was extracted from each side and why they are (not) equal (after the
    /// verdict with --pred; on stderr, one block per case, with --cases).
    #[arg(long)]
    pub explain: bool,
}

#[derive(Args, Debug)]
pub struct FiguresArgs {
    /// Folder the figures are written to (created if missing).
    #[arg(long, default_value = "figures")]
    pub out: PathBuf,
    /// Run logs (JSONL files, or folders searched for *.jsonl) to draw training curves, pass@k
    /// curves and a results table from.
    #[arg(long, num_args = 1..)]
    pub runs: Vec<PathBuf>,
    /// Draw only the figure with this name (see `sharpen figures --list`).
    #[arg(long)]
    pub only: Option<String>,
    /// List the figures' names and what each shows, then exit.
    #[arg(long)]
    pub list: bool,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Run logs (JSONL files, or folders searched for *.jsonl); runs are grouped by the regime
    /// in their header.
    #[arg(long, num_args = 1.., required = true)]
    pub runs: Vec<PathBuf>,
    /// Print the checks as one JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
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
    /// Solve a tabular autoregressive model exactly: length marginal, accuracy and entropy of
    /// π_ref and of each regime, and sequence power against token temperature.
    Tree(TreeArgs),
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Problem: many-paths, near-tie, near-tie:GAP, small-four, a JSON problem file, or a tabular
    /// autoregressive tree tree:FAMILY (geometric, reasoning, loop, fixed-length[:FAMILY]).
    pub scenario: String,
    /// task | sharpening | control | tempered:ALPHA | tilted:ALPHA:BETA_INV | self-certainty
    #[arg(long)]
    pub regime: String,
    /// Trees only: never sample EOS, roll out to the length cap (the paper's fixed-length runs);
    /// P and the gradient still use the full softmax, EOS included.
    #[arg(long = "ignore-eos")]
    pub ignore_eos: bool,
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

/// The regime flags other than α (shared by commands that take one α or several).
#[derive(Args, Debug)]
pub struct RegimeShapeArgs {
    /// none | optimization | sampling
    #[arg(long, default_value = "sampling")]
    pub mode: String,
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

impl RegimeShapeArgs {
    pub fn mode(&self) -> anyhow::Result<sharpen_toy::Mode> {
        Ok(self.mode.parse()?)
    }
    pub fn normalization(&self) -> anyhow::Result<sharpen_toy::Normalization> {
        Ok(sharpen_toy::Normalization::parse(&self.normalization, self.weight)?)
    }
}

#[derive(Args, Debug)]
pub struct RegimeArgs {
    /// α ≥ 0: exponent on the reference likelihood.
    #[arg(long, default_value_t = 1.0)]
    pub alpha: f64,
    #[command(flatten)]
    pub shape: RegimeShapeArgs,
}

impl RegimeArgs {
    pub fn regime(&self) -> anyhow::Result<sharpen_toy::Regime> {
        let s = &self.shape;
        Ok(sharpen_toy::Regime::new(s.mode()?, self.alpha, s.beta_inv, s.normalization()?)?)
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

#[derive(Args, Debug)]
pub struct TreeArgs {
    /// geometric | reasoning | loop | fixed-length (= fixed-length:reasoning) | fixed-length:FAMILY
    pub family: String,
    /// Number of ordinary tokens V (EOS not counted). Defaults: geometric 2, reasoning 4, loop 3.
    #[arg(long)]
    pub vocab: Option<usize>,
    /// Length cap L: a response that reaches L tokens stops. Defaults: geometric 12, reasoning 8, loop 12.
    #[arg(long = "max-len")]
    pub max_len: Option<usize>,
    /// Geometric: stop probability per step (0.3); reasoning: chance to conclude a chain per step (0.3);
    /// loop: the loop's EOS probability (0.05).
    #[arg(long)]
    pub stop: Option<f64>,
    /// α of a regime to solve; repeat the flag for several (default: 0.5 1 1.25 2 4).
    #[arg(long = "alpha")]
    pub alphas: Vec<f64>,
    #[command(flatten)]
    pub shape: RegimeShapeArgs,
    /// Geometric: Zipf exponent e of the token weights, u_v ∝ (v+1)^−e (default: uniform).
    #[arg(long)]
    pub zipf: Option<f64>,
    /// Reasoning: probability of answering directly at the first token (0.3).
    #[arg(long = "p-direct")]
    pub p_direct: Option<f64>,
    /// Reasoning: accuracy of the direct answer (0.2).
    #[arg(long = "acc-direct")]
    pub acc_direct: Option<f64>,
    /// Reasoning: accuracy of a chain of thought's answer (0.95).
    #[arg(long = "acc-cot")]
    pub acc_cot: Option<f64>,
    /// Loop: probability of entering the loop at the first token (0.2).
    #[arg(long = "p-loop")]
    pub p_loop: Option<f64>,
    /// Loop: accuracy of the short answers (0.7).
    #[arg(long)]
    pub acc: Option<f64>,
    /// Refuse trees with more prefixes than this (memory guard).
    #[arg(long = "max-prefixes", default_value_t = sharpen_toy::tree::DEFAULT_MAX_NODES)]
    pub max_prefixes: usize,
    /// Print one JSON object (alpha_star, base, regimes[], temperature[], …) instead of tables.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Convert(a) => crate::gguf::convert_cmd(&a.gguf, &a.out_dir, a.force),
        Command::Bench(c) => crate::bench_cmd::run(&c),
        Command::Sample(a) => crate::sample_cmd::run(&a),
        Command::Train(a) => crate::train_cmd::run(&a),
        Command::Eval(a) => crate::eval_cmd::run(&a),
        Command::Toy(ToyCommand::Solve(a)) => crate::toy_cmd::solve(&a),
        Command::Toy(ToyCommand::Scenario { name, json }) => crate::toy_cmd::scenario(&name, json),
        Command::Toy(ToyCommand::List) => crate::toy_cmd::list(),
        Command::Toy(ToyCommand::Train(a)) => crate::toy_dynamics::train(&a),
        Command::Toy(ToyCommand::Flow(a)) => crate::toy_dynamics::flow(&a),
        Command::Toy(ToyCommand::Tree(a)) => crate::toy_cmd::tree(&a),
        Command::Data(a) => crate::data_cmd::summary(&a),
        Command::Verify(a) => match (&a.pred, &a.gold, &a.cases) {
            (Some(p), Some(g), None) => crate::verify_cmd::verify_one(p, g, a.explain),
            (None, None, Some(path)) => crate::verify_cmd::verify_cases(path, a.explain),
            _ => anyhow::bail!("give either --pred and --gold, or --cases FILE"),
        },
        Command::Figures(a) => crate::figures_cmd::run(&a),
        Command::Check(a) => crate::check_cmd::run(&a),
    }
}

/// Errors print on one line: the context chain joined by ": ".
pub fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}
