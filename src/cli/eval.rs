//! `sharpen eval`: pass@k and maj@k of a model (or a training checkpoint) on a dataset.

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use sharpen::eval::{evaluate, EvalSettings};
use sharpen::lm::LanguageModel;
use sharpen::model::LoadOptions;
use sharpen::quantized::QuantizedModel;
use sharpen::task::math::{problems_from_spec, PromptStyle};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// A Hugging Face folder, a training checkpoint folder (e.g. runs/x/best), or a .gguf file.
    #[arg(long)]
    pub model: PathBuf,
    /// `DATASET/SPLIT.jsonl` under the data folder, a JSONL path inside a folder named after its
    /// dataset, or `synthetic`.
    #[arg(long)]
    pub data: String,
    /// The data folder (default: $SHARPEN_DATA, else data/ of the repository you are in).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Samples per problem (paper: 16).
    #[arg(long, default_value_t = 16)]
    pub n: usize,
    /// The k of pass@k and maj@k.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16")]
    pub k: Vec<usize>,
    /// Cap on prompt + response tokens, per problem (the authors': 2048; 8192 for AIME).
    #[arg(long, default_value_t = 2048)]
    pub max_tokens: usize,
    /// A further cap on response tokens (0 = none beyond --max-tokens).
    #[arg(long, default_value_t = 0)]
    pub max_new_tokens: usize,
    #[command(flatten)]
    pub sampling: super::SamplingFlags,
    #[command(flatten)]
    pub power: super::PowerFlags,
    #[command(flatten)]
    pub device: super::DeviceFlags,
    /// Run a .gguf file's weights as stored (Q4_1, Q8_0, ...) on the CPU through candle-transformers'
    /// quantized llama / qwen2 / qwen3, instead of dequantising them into our decoder. For frozen
    /// models only (the base model's pass@k); each problem's n samples form one batch.
    #[arg(long)]
    pub quantized: bool,
    /// Evaluate only the first N problems (0 = all).
    #[arg(long, default_value_t = 0)]
    pub problems: usize,
    /// Synthetic task: difficulty 1..=10.
    #[arg(long, default_value_t = 1)]
    pub difficulty: u32,
    /// Rows (problems × n) sampled together.
    #[arg(long, default_value_t = 64)]
    pub batch_rows: usize,
    /// cot (the paper's prompt) or answer-prefix (for very small models).
    #[arg(long, value_enum, default_value = "cot")]
    pub prompt_style: StyleArg,
    /// Write the full results (per problem too) as JSON here, atomically.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: &EvalArgs) -> Result<()> {
    if a.n == 0 || a.k.iter().any(|&k| k == 0 || k > a.n) {
        bail!("need n >= 1 and every k in 1..=n (n = {}, k = {:?})", a.n, a.k);
    }
    let power = a.power.resolve(&a.sampling)?;
    // Check the output before hours of sampling, not after.
    if let Some(out) = &a.out {
        sharpen_analysis::atomic::check_writable(out)
            .with_context(|| format!("--out {} is not writable", out.display()))?;
    }
    let count = if a.problems > 0 { a.problems } else { 100 };
    let mut problems = problems_from_spec(&a.data, count, a.difficulty, a.sampling.seed, a.data_dir.as_deref())?;
    if a.problems > 0 {
        problems.truncate(a.problems);
    }
    let settings = EvalSettings {
        n: a.n,
        ks: a.k.clone(),
        max_tokens: a.max_tokens,
        max_new_tokens: a.max_new_tokens,
        temperature: a.sampling.temperature,
        top_p: a.sampling.top_p,
        seed: a.sampling.seed,
        batch_rows: a.batch_rows,
        prompt_style: match a.prompt_style {
            StyleArg::Cot => PromptStyle::Cot,
            StyleArg::AnswerPrefix => PromptStyle::AnswerPrefix,
        },
        power,
    };
    let bar = ProgressBar::new(problems.len() as u64);
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} problems [{elapsed} < {eta}]")?);
    let on_batch = |n: usize| bar.inc(n as u64);
    let loading = || format!("loading {}", a.model.display());
    if a.quantized && settings.power.is_some() {
        bail!("--power needs a model folder (power sampling is not available with --quantized)");
    }
    let res = if a.quantized {
        let device = super::quantized_device(&a.device)?;
        let lm = QuantizedModel::open(&a.model, &device).with_context(loading)?;
        evaluate(&lm, &problems, &settings, on_batch)?
    } else {
        // bf16 on a GPU (as the policy trained there), f32 on the CPU.
        let (device, dtype) = a.device.resolve("auto")?;
        let lm =
            LanguageModel::open(&a.model, &LoadOptions { dtype, device, trainable: false }).with_context(loading)?;
        evaluate(&lm, &problems, &settings, on_batch)?
    };
    bar.finish_and_clear();
    if let Some(out) = &a.out {
        sharpen_analysis::atomic::write(out, &serde_json::to_vec_pretty(&res)?)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    if a.json {
        let summary = serde_json::json!({
            "problems": res.problems, "samples_per_problem": res.samples_per_problem,
            "pass_at_k": res.pass_at_k, "maj_at_k": res.maj_at_k, "mean_length": res.mean_length,
            "cost": res.cost,
        });
        println!("{summary}");
    } else {
        println!(
            "{} problems × {} samples, mean length {:.1} tokens",
            res.problems, res.samples_per_problem, res.mean_length
        );
        if let Some(c) = &res.cost {
            print!(
                "forward tokens per sample: {:.1} next-token evaluations + {:.1} prompt prefill",
                c.forward_tokens_per_sample, c.prefill_tokens_per_sample
            );
            match &c.power {
                Some(p) => println!(
                    " (power α = {}, {} proposal, {} moves per block, acceptance {:.3})",
                    p.sampler.alpha,
                    p.sampler.proposal.name(),
                    p.sampler.steps,
                    p.acceptance_rate
                ),
                None => println!(),
            }
        }
        println!("{:>4}  {:>8}  {:>8}", "k", "pass@k", "maj@k");
        for (k, p) in &res.pass_at_k {
            println!("{k:>4}  {p:>8.4}  {:>8.4}", res.maj_at_k[k]);
        }
    }
    Ok(())
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum StyleArg {
    Cot,
    AnswerPrefix,
}
