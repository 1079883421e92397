//! The `sharpen` command line, owned by the binary: one module per command, each holding its
//! clap Args and its `run`; the flags several commands share are here. Everything a command
//! calls is the library (`sharpen::…`).

mod bench;
mod bench_device;
mod bench_rl;
mod check;
mod convert;
mod data;
mod eval;
mod figures;
mod sample;
mod table;
mod toy;
mod toy_dynamics;
mod train;
mod verify;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "sharpen", version, about = "Distribution sharpening vs task rewards: exact theory and full-scale RL", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// On error, print the whole error with every cause and backtrace, not one line.
    #[arg(long, global = true)]
    pub debug: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The exact module: solve regimes on finite problems and run named scenarios.
    #[command(subcommand)]
    Toy(toy::ToyCommand),
    /// Regenerate every figure of the exact module (and, with --runs, the run-log figures) as
    /// SVG, PNG and the CSV of the plotted numbers.
    Figures(figures::FiguresArgs),
    /// Check the theory's predictions P1–P7 on run logs and print the verdict table.
    Check(check::CheckArgs),
    /// Check math answers against gold answers (the task reward's verifier).
    Verify(verify::VerifyArgs),
    /// Load a dataset (or generate the synthetic task) and print its load summary and prompts.
    Data(data::DataArgs),
    /// Sample continuations of prompts from a model (Hugging Face folder, .gguf file or hub id).
    Sample(sample::SampleArgs),
    /// Speed and device checks: sampling and training on a real model (vs scripts/bench/bench_baseline.py),
    /// an RLOO step at a paper model's shape, correctness on a device (scripts/gpu/device-check.sh).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Train a model with RLOO under one regime (task reward, sharpening, tempered, tilted).
    Train(train::TrainArgs),
    /// Evaluate a model or checkpoint: n samples per problem, pass@k, maj@k, mean length.
    Eval(eval::EvalArgs),
    /// Convert a GGUF file (llama architecture) into a Hugging Face folder (f32 safetensors,
    /// config.json, tokenizer.json, tokenizer_config.json with the chat template,
    /// generation_config.json).
    Convert(convert::ConvertArgs),
}

/// The sampling flags `sharpen sample` and `sharpen eval` share.
#[derive(Args, Debug, Clone)]
pub struct SamplingFlags {
    /// Softmax temperature (> 0; the paper samples at 1).
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f64,
    /// Nucleus sampling mass in (0, 1]; 1 = whole vocabulary.
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f64,
    /// Seed of every random draw.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Inference-time power sampling, shared by `sharpen sample` and `sharpen eval`: samples from
/// π_ref^α by Metropolis–Hastings over whole responses (`sharpen::rollout::power_sample`).
#[derive(Args, Debug, Clone)]
pub struct PowerFlags {
    /// Sample from π_ref^α (sequence-level power, α > 0) by MCMC instead of at --temperature.
    #[arg(long, value_name = "ALPHA")]
    pub power: Option<f64>,
    /// K: Metropolis–Hastings moves per block (needed with --power).
    #[arg(long, value_name = "K")]
    pub mcmc_steps: Option<usize>,
    /// The moves' proposal: temperature (token temperature 1/α, the paper's) or base (π_ref).
    #[arg(long, value_name = "LAW")]
    pub proposal: Option<String>,
    /// B: tokens per block of the block-wise schedule [default: one block, whole responses].
    #[arg(long, value_name = "B")]
    pub block: Option<usize>,
}

impl PowerFlags {
    /// The power sampler, or None without --power; inconsistent flags are errors, not ignored.
    pub fn resolve(&self, sampling: &SamplingFlags) -> anyhow::Result<Option<sharpen::toy::mcmc::PowerSampler>> {
        use sharpen::toy::mcmc::{PowerSampler, Proposal};
        let Some(alpha) = self.power else {
            if self.mcmc_steps.is_some() || self.proposal.is_some() || self.block.is_some() {
                anyhow::bail!("--mcmc-steps, --proposal and --block need --power ALPHA");
            }
            return Ok(None);
        };
        if !(alpha.is_finite() && alpha > 0.0) {
            anyhow::bail!("--power must be a finite α > 0, got {alpha}");
        }
        let steps = match self.mcmc_steps {
            None => anyhow::bail!("--power needs --mcmc-steps K (Metropolis–Hastings moves per block)"),
            Some(0) => anyhow::bail!("--mcmc-steps must be >= 1 (K = 0 is plain sampling at temperature 1/α)"),
            Some(k) => k,
        };
        if self.block == Some(0) {
            anyhow::bail!("--block must be >= 1 token");
        }
        if sampling.temperature != 1.0 || sampling.top_p != 1.0 {
            anyhow::bail!("--power samples from its own proposal: leave --temperature and --top-p at 1");
        }
        let proposal = Proposal::parse(self.proposal.as_deref().unwrap_or("temperature"))?;
        Ok(Some(PowerSampler::new(alpha, proposal, steps, self.block)?))
    }
}

/// Where and in what precision a model runs: the same flags on sample, eval, train and bench rl.
#[derive(Args, Debug, Clone)]
pub struct DeviceFlags {
    /// cpu, cuda or auto (the GPU when this binary has CUDA and one is present).
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// f32, bf16 or auto (bf16 on a GPU, f32 on the CPU) [default: auto; train: the config's dtype].
    #[arg(long)]
    pub dtype: Option<String>,
}

impl DeviceFlags {
    /// The device, and the dtype: the flag's, else `default` (a name `sharpen::device::dtype` takes).
    pub fn resolve(&self, default: &str) -> anyhow::Result<(candle_core::Device, candle_core::DType)> {
        let device = sharpen::device::select(&self.device)?;
        let dtype = sharpen::device::dtype(self.dtype.as_deref().unwrap_or(default), &device)?;
        Ok((device, dtype))
    }
}

/// The device of `--quantized` (sample, eval): the CPU, where candle's quantized kernels are the
/// ones this path was checked on; `--dtype` has no meaning there (the file's types are kept).
pub fn quantized_device(flags: &DeviceFlags) -> anyhow::Result<candle_core::Device> {
    if !matches!(flags.device.as_str(), "auto" | "cpu") {
        anyhow::bail!("--quantized runs on the CPU, not --device {}", flags.device);
    }
    if let Some(d) = &flags.dtype {
        anyhow::bail!("--quantized keeps the GGUF file's own types; drop --dtype {d}");
    }
    Ok(candle_core::Device::Cpu)
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Convert(a) => convert::run(&a),
        Command::Bench(c) => bench::run(&c),
        Command::Sample(a) => sample::run(&a),
        Command::Train(a) => train::run(&a),
        Command::Eval(a) => eval::run(&a),
        Command::Toy(c) => toy::run(c),
        Command::Data(a) => data::run(&a),
        Command::Verify(a) => verify::run(&a),
        Command::Figures(a) => figures::run(&a),
        Command::Check(a) => check::run(&a),
    }
}

/// Errors print on one line: the context chain joined by ": ", each link once (an I/O error
/// whose context already quotes it is not repeated), without the backtraces some libraries
/// embed in their messages under RUST_BACKTRACE (`--debug` shows everything).
pub fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        let cut = ["Stack backtrace:", "stack backtrace:", "\nbacktrace:"]
            .iter()
            .filter_map(|m| text.find(m))
            .min()
            .unwrap_or(text.len());
        let text = text[..cut].split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() || parts.last().is_some_and(|p| p.contains(&text)) {
            continue;
        }
        parts.push(text);
    }
    parts.join(": ")
}

/// The run logs under `paths` that hold every planned step, for `check` and `figures`; the
/// unfinished ones (a sweep still running) are named on stderr and left out.
pub(crate) fn load_finished_runs(paths: &[std::path::PathBuf]) -> anyhow::Result<Vec<sharpen_analysis::runs::Run>> {
    use anyhow::Context;
    let loaded = sharpen_analysis::runs::load(paths).context("reading run logs")?;
    if loaded.is_empty() {
        anyhow::bail!("no run logs (*.jsonl) found under the given paths");
    }
    let (finished, unfinished) = sharpen_analysis::runs::split_unfinished(loaded);
    if !unfinished.is_empty() {
        let names: Vec<String> = unfinished.iter().map(|p| p.display().to_string()).collect();
        eprintln!("note: left out {} unfinished run(s) (fewer steps than planned): {}", names.len(), names.join(", "));
    }
    if finished.is_empty() {
        anyhow::bail!("every run log under the given paths is unfinished");
    }
    Ok(finished)
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn one_line_drops_repeats_and_backtraces() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory (os error 2)");
        let e =
            anyhow::Error::new(io).context("reading x.json: No such file or directory (os error 2)").context("loading");
        assert_eq!(one_line(&e), "loading: reading x.json: No such file or directory (os error 2)");
        let e = anyhow::anyhow!("shape mismatch\nStack backtrace:\n   0: candle::foo\n   1: main");
        assert_eq!(one_line(&e), "shape mismatch");
    }
}
