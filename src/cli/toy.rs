//! `sharpen toy …`: the exact module on the command line.

use super::table::{render_report, render_table};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use sharpen::problem::read_problem;
use sharpen_toy::report::Table;
use sharpen_toy::{row, scenarios};
use std::path::PathBuf;

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
    Train(super::toy_dynamics::TrainArgs),
    /// T7: integrate the exact gradient flow from π_ref and list the fixed points with their
    /// eigenvalues (stable / unstable / saddle).
    Flow(super::toy_dynamics::FlowArgs),
    /// Solve a tabular autoregressive model exactly: length marginal, accuracy and entropy of
    /// π_ref and of each regime, and sequence power against token temperature.
    Tree(TreeArgs),
    /// Inference-time power sampling on a tree: the exact π_ref^α, the MCMC estimate
    /// (Metropolis–Hastings over responses) and token temperature 1/α side by side, with the
    /// total variation of the MCMC law to the exact one against the number of moves K.
    Power(PowerArgs),
    /// Fit a state-space model to samples of a real model (`sharpen sample --json` lines: the
    /// per-position stop hazard and per-token entropy) and predict the length law of π_ref^α and α*.
    Calibrate(CalibrateArgs),
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

/// A tabular autoregressive tree: the family and its parameters (`toy tree`, `toy power`).
#[derive(Args, Debug)]
pub struct TreeFamilyArgs {
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
    /// Refuse trees with more prefixes than this (memory guard of the prefix-tree solver;
    /// giving it asks for that solver in `toy tree`). Default 10,000,000.
    #[arg(long = "max-prefixes")]
    pub max_prefixes: Option<usize>,
}

impl TreeFamilyArgs {
    pub fn spec(&self) -> anyhow::Result<sharpen_toy::tree::FamilySpec> {
        let options = sharpen_toy::tree::FamilyOptions {
            vocab: self.vocab,
            max_len: self.max_len,
            stop: self.stop,
            zipf: self.zipf,
            p_direct: self.p_direct,
            acc_direct: self.acc_direct,
            acc_cot: self.acc_cot,
            p_loop: self.p_loop,
            acc: self.acc,
        };
        Ok(sharpen_toy::tree::FamilySpec::parse(&self.family, &options)?)
    }
}

#[derive(Args, Debug)]
pub struct TreeArgs {
    #[command(flatten)]
    pub tree: TreeFamilyArgs,
    /// α of a regime to solve; repeat the flag for several (default: 0.5 1 1.25 2 4).
    #[arg(long = "alpha")]
    pub alphas: Vec<f64>,
    #[command(flatten)]
    pub shape: RegimeShapeArgs,
    /// auto | tree | state-space. auto: dynamic programming over (position, state), which
    /// answers at any vocabulary and caps up to 4096, unless --max-prefixes asks for the tree.
    #[arg(long, default_value = "auto")]
    pub solver: String,
    /// Print one JSON object (alpha_star, base, regimes[], temperature[], …) instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["samples", "model"])))]
pub struct CalibrateArgs {
    /// JSON lines from `sharpen sample --json` (tokens, logprobs, stop), sampled at temperature 1.
    #[arg(long)]
    pub samples: Option<PathBuf>,
    /// Or sample them here from this model (folder, .gguf or hub id) at temperature 1.
    #[arg(long, requires = "prompts")]
    pub model: Option<PathBuf>,
    /// With --model: a JSONL file of prompts (a JSON string or {"prompt": ...} per line).
    #[arg(long)]
    pub prompts: Option<PathBuf>,
    /// With --model: samples per prompt.
    #[arg(long, default_value_t = 64)]
    pub n: usize,
    /// With --model: render each prompt in the model's chat template.
    #[arg(long)]
    pub chat: bool,
    /// With --model: the seed of the samples.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub device: super::DeviceFlags,
    /// The sampling cap (--max-tokens): with --samples, default the longest sample (one more if
    /// it ended with EOS); with --model, default 512.
    #[arg(long = "max-len")]
    pub max_len: Option<usize>,
    /// The model's vocabulary (bounds the fitted token counts).
    #[arg(long, default_value_t = 151_936)]
    pub vocab: usize,
    /// Positions with fewer samples at risk are pooled into a stationary tail.
    #[arg(long = "min-count", default_value_t = 50)]
    pub min_count: usize,
    /// α to predict; repeat for several (default: 0.5 1 1.25 2 4).
    #[arg(long = "alpha")]
    pub alphas: Vec<f64>,
    /// Print one JSON object (profile, prediction) instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct PowerArgs {
    #[command(flatten)]
    pub tree: TreeFamilyArgs,
    /// α ≥ 0: the target is π_ref^α (sequence-level power, sum normalisation).
    #[arg(long, default_value_t = 2.0)]
    pub alpha: f64,
    /// K: Metropolis–Hastings moves per chain and block.
    #[arg(long = "mcmc-steps", default_value_t = 64)]
    pub mcmc_steps: usize,
    /// N: independent chains, one sample each.
    #[arg(long, default_value_t = 20_000)]
    pub samples: usize,
    /// Base seed; chain i uses stream i of ChaCha8 seeded with it.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// temperature (token temperature 1/α, the paper's) | base (π_ref): the law suffixes are
    /// redrawn from.
    #[arg(long, default_value = "temperature")]
    pub proposal: String,
    /// B: tokens per block of the block-wise schedule (K moves after each block) [default: the
    /// cap, one block of K moves over complete responses].
    #[arg(long)]
    pub block: Option<usize>,
    /// Worker threads [default: all cores]; results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print one JSON object ({"exact", "mcmc", "temperature", "tv_by_steps", …}) instead of tables.
    #[arg(long)]
    pub json: bool,
}

pub fn solve(args: &SolveArgs) -> Result<()> {
    let regime = args.regime.regime()?;
    let bandit = read_problem(&args.problem)?;
    let sol = bandit.solve(&regime);
    if args.json {
        println!("{}", serde_json::to_string(&sol)?);
        return Ok(());
    }
    let mut t = Table::new(
        format!("{regime}: target over the responses"),
        &["response", "answer", "reward", "length", "π_ref", "target"],
    );
    for (i, (r, q)) in bandit.responses().iter().zip(&sol.target).enumerate() {
        t.push(row![i, r.answer.as_str(), r.reward, r.length, r.prob, *q]);
    }
    print!("{}", render_table(&t));
    println!("expected reward {:.6}, expected length {:.4}", sol.expected_reward, sol.expected_length);
    if !sol.argmax.is_empty() {
        println!("argmax set (optimization mode maximisers): {:?}", sol.argmax);
    }
    Ok(())
}

pub fn scenario(name: &str, json: bool) -> Result<()> {
    let Some(s) = scenarios::find(name) else {
        let names: Vec<_> = scenarios::all().iter().map(|s| s.name).collect();
        bail!("unknown scenario '{name}' (known: {})", names.join(", "));
    };
    let report = (s.run)();
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", render_report(&report));
    }
    Ok(())
}

pub fn list() -> Result<()> {
    for s in scenarios::all() {
        println!("{:<16} {}", s.name, s.summary);
    }
    Ok(())
}

pub fn tree(args: &TreeArgs) -> Result<()> {
    use sharpen_toy::regime::PAPER_ALPHAS;
    use sharpen_toy::tree::report::{analyze, to_report, Method, TreeQuery};
    let spec = args.tree.spec()?;
    let query = TreeQuery {
        alphas: if args.alphas.is_empty() { PAPER_ALPHAS.to_vec() } else { args.alphas.clone() },
        mode: args.shape.mode()?,
        beta_inv: args.shape.beta_inv,
        normalization: args.shape.normalization()?,
        max_nodes: args.tree.max_prefixes.unwrap_or(sharpen_toy::tree::DEFAULT_MAX_NODES),
        method: match (args.solver.as_str(), args.tree.max_prefixes) {
            ("auto", None) => Method::Auto,
            ("auto", Some(_)) | ("tree", _) => Method::Tree,
            ("state-space", _) => Method::StateSpace,
            (other, _) => bail!("unknown solver '{other}' (expected one of: auto, tree, state-space)"),
        },
    };
    let result = analyze(&spec, &query)?;
    if args.json {
        emit(&(serde_json::to_string(&result)? + "\n"))
    } else {
        emit(&render_report(&to_report(&result)))
    }
}

pub fn power(args: &PowerArgs) -> Result<()> {
    use sharpen_toy::mcmc::Proposal;
    use sharpen_toy::tree::mcmc::{analyze, to_report, PowerQuery};
    // The work is chains × moves (× the cap): bound it so that a typo cannot run for days.
    const MAX_MOVES: u128 = 1_000_000_000;
    if (args.samples as u128) * (args.mcmc_steps.max(1) as u128) > MAX_MOVES {
        bail!("--samples × --mcmc-steps = {} × {} is more than {MAX_MOVES} moves", args.samples, args.mcmc_steps);
    }
    let spec = args.tree.spec()?;
    let query = PowerQuery {
        alpha: args.alpha,
        steps: args.mcmc_steps,
        samples: args.samples,
        seed: args.seed,
        proposal: Proposal::parse(&args.proposal)?,
        block: args.block,
        threads: args.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)),
        max_nodes: args.tree.max_prefixes.unwrap_or(sharpen_toy::tree::DEFAULT_MAX_NODES),
    };
    let result = analyze(&spec, &query)?;
    if args.json {
        emit(&(serde_json::to_string(&result)? + "\n"))
    } else {
        emit(&render_report(&to_report(&result)))
    }
}

/// `sharpen toy calibrate`: read samples, estimate the hazard and entropy per position, fit the
/// state-space model and predict π_ref^α's length law and α*.
pub fn calibrate(args: &CalibrateArgs) -> Result<()> {
    use sharpen_toy::regime::PAPER_ALPHAS;
    use sharpen_toy::statespace::calibrate::{fit, predict, profile};
    let (samples, cap_seen) = match (&args.samples, &args.model) {
        (Some(path), _) => samples_from_file(path)?,
        (None, Some(model)) => samples_from_model(model, args)?,
        (None, None) => bail!("give --samples FILE or --model M --prompts FILE"),
    };
    let max_len = args.max_len.unwrap_or(cap_seen);
    let alphas = if args.alphas.is_empty() { PAPER_ALPHAS.to_vec() } else { args.alphas.clone() };
    let p = profile(&samples, max_len, args.min_count)?;
    let model = fit(&p, args.vocab)?;
    let pred = predict(&model, &p, &alphas)?;
    if args.json {
        let v = serde_json::json!({ "samples": samples.len(), "profile": p, "prediction": pred });
        return emit(&(v.to_string() + "\n"));
    }
    let mut t = Table::new(
        format!(
            "Predicted length of π_ref^α ({} samples, cap {max_len}, tail pooled from position {})",
            samples.len(),
            p.tail_from
        ),
        &["alpha", "mean L", "P(L = cap)"],
    );
    for ((a, m), c) in pred.alphas.iter().zip(&pred.mean_length).zip(&pred.cap_mass) {
        t.push(row![*a, *m, *c]);
    }
    let star = |x: Option<f64>| x.map_or_else(|| "— (no crossing in (0, 1))".to_string(), |a| format!("{a:.6}"));
    let mut out = render_table(&t);
    out += &format!(
        "tail hazard {:.5}, tail token entropy {:.4} nats\nα* (tail, log c(α) = 0, entropy-matched fit): {}\nα* (tail, Σu^α from the sampled tokens): {}\nα with half the mass at the cap: {}\n",
        pred.tail_hazard,
        pred.tail_entropy,
        star(pred.alpha_star),
        star(pred.alpha_star_sampled),
        star(pred.alpha_half_cap)
    );
    out += "caveat: the fit matches the Shannon entropy per position; π^α weighs Σp^α (a Rényi entropy), and the state is the position only.\n";
    emit(&out)
}

/// Samples of `sharpen sample --json` lines, and the longest response seen (EOS counted).
fn samples_from_file(path: &std::path::Path) -> Result<(Vec<sharpen_toy::statespace::calibrate::Sample>, usize)> {
    use sharpen_toy::statespace::calibrate::Sample;
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut samples = Vec::new();
    let mut cap_seen = 0;
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = || format!("{} line {}", path.display(), i + 1);
        let v: serde_json::Value = serde_json::from_str(line).with_context(at)?;
        let nums = |key: &str| -> Result<Vec<f64>> {
            v[key]
                .as_array()
                .with_context(|| format!("{}: no '{key}' array", at()))?
                .iter()
                .map(|x| x.as_f64().with_context(|| format!("{}: '{key}' holds a non-number", at())))
                .collect()
        };
        let (tokens, logprobs) = (nums("tokens")?, nums("logprobs")?);
        let eos = match v["stop"].as_str() {
            Some("eos") => true,
            Some("length") => false,
            _ => bail!("{}: 'stop' must be \"eos\" or \"length\"", at()),
        };
        if logprobs.len() != tokens.len() || (eos && tokens.is_empty()) {
            bail!("{}: {} tokens but {} log-probs", at(), tokens.len(), logprobs.len());
        }
        // With EOS the last token is the EOS itself; the response length leaves it out.
        let length = tokens.len() - usize::from(eos);
        cap_seen = cap_seen.max(length + usize::from(eos));
        samples.push(Sample { length, eos, token_logprobs: logprobs[..length].to_vec() });
    }
    Ok((samples, cap_seen))
}

/// `n` samples per prompt from a real model at temperature 1, as calibration samples; the cap is
/// `--max-len` (512 by default).
fn samples_from_model(
    model: &std::path::Path,
    args: &CalibrateArgs,
) -> Result<(Vec<sharpen_toy::statespace::calibrate::Sample>, usize)> {
    use sharpen::rollout::{sample, SamplingParams, StopReason};
    use sharpen_toy::statespace::calibrate::Sample;
    let prompts_file = args.prompts.as_deref().context("--model needs --prompts FILE")?;
    let cap = args.max_len.unwrap_or(512);
    if args.n == 0 || cap == 0 {
        bail!("--n and --max-len must be >= 1");
    }
    let (device, dtype) = args.device.resolve("auto")?;
    let opts = sharpen::model::LoadOptions { dtype, device, trainable: false };
    let lm = sharpen::lm::LanguageModel::open(model, &opts).with_context(|| format!("loading {}", model.display()))?;
    let texts = super::sample::read_prompts(prompts_file)?;
    let ids = texts.iter().map(|p| lm.encode_prompt(p, args.chat)).collect::<Result<Vec<_>, _>>()?;
    // One batch, as `sharpen sample --prompts FILE --n N --batch-size (prompts × N)` draws it.
    let params = SamplingParams { max_new_tokens: cap, seed: args.seed, ..SamplingParams::default() };
    let samples = sample(&lm.model, &ids, args.n, &lm.eos_ids, &params)?
        .into_iter()
        .map(|r| {
            let eos = r.stop == StopReason::Eos;
            let length = r.tokens.len() - usize::from(eos);
            Sample { length, eos, token_logprobs: r.logprobs[..length].iter().map(|&x| f64::from(x)).collect() }
        })
        .collect();
    Ok((samples, cap))
}

/// Write to stdout; a reader that goes away early (`| head`) is not an error.
fn emit(text: &str) -> Result<()> {
    use std::io::{ErrorKind, Write};
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

pub fn run(cmd: ToyCommand) -> Result<()> {
    match cmd {
        ToyCommand::Solve(a) => solve(&a),
        ToyCommand::Scenario { name, json } => scenario(&name, json),
        ToyCommand::List => list(),
        ToyCommand::Train(a) => super::toy_dynamics::train(&a),
        ToyCommand::Flow(a) => super::toy_dynamics::flow(&a),
        ToyCommand::Tree(a) => tree(&a),
        ToyCommand::Power(a) => power(&a),
        ToyCommand::Calibrate(a) => calibrate(&a),
    }
}
