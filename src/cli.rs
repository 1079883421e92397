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
    }
}

/// Errors print on one line: the context chain joined by ": ".
pub fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}
