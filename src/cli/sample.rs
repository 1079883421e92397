//! `sharpen sample`: prompts in, sampled continuations out (plain, or power samples with --power).

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::Value;
use sharpen::lm::LanguageModel;
use sharpen::model::LoadOptions;
use sharpen::quantized::QuantizedModel;
use sharpen::rollout::{power_sample, sample, Decoder, PowerRollout, Rollout, SamplingParams, StopReason};
use sharpen::toy::mcmc::PowerSampler;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct SampleArgs {
    /// A Hugging Face model folder (config.json, safetensors, tokenizer.json) or a .gguf file.
    #[arg(long)]
    pub model: PathBuf,
    /// One prompt.
    #[arg(long, conflicts_with = "prompts")]
    pub prompt: Option<String>,
    /// A JSONL file of prompts: one JSON string, or object with a "prompt" string, per line.
    #[arg(long)]
    pub prompts: Option<PathBuf>,
    /// Put each prompt as a user message in the model's chat template (with the assistant opening).
    #[arg(long)]
    pub chat: bool,
    /// Samples per prompt.
    #[arg(long, default_value_t = 1)]
    pub n: usize,
    /// Cap on generated tokens per sample.
    #[arg(long, default_value_t = 256)]
    pub max_tokens: usize,
    #[command(flatten)]
    pub sampling: super::SamplingFlags,
    #[command(flatten)]
    pub power: super::PowerFlags,
    /// Take the most likely token at every step (ignores temperature and top-p).
    #[arg(long)]
    pub greedy: bool,
    /// Do not stop at EOS: always generate --max-tokens tokens.
    #[arg(long)]
    pub ignore_eos: bool,
    /// Print one JSON object per sample (text, tokens, log-probs, stop reason).
    #[arg(long)]
    pub json: bool,
    /// Rows (prompts × samples) sampled together in one batch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    #[command(flatten)]
    pub device: super::DeviceFlags,
    /// Run a .gguf file's weights as stored on the CPU through candle-transformers' quantized
    /// llama / qwen2 / qwen3 instead of dequantising them (sampling only; prompts of equal
    /// length share a batch).
    #[arg(long)]
    pub quantized: bool,
}

/// The prompts of a JSONL file: each line a JSON string or an object with a "prompt" string.
pub fn read_prompts(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = vec![];
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).with_context(|| format!("{} line {}", path.display(), i + 1))?;
        match v.as_str().or_else(|| v.get("prompt").and_then(Value::as_str)) {
            Some(p) => out.push(p.to_string()),
            None => bail!("{} line {}: expected a string or an object with a \"prompt\" string", path.display(), i + 1),
        }
    }
    if out.is_empty() {
        bail!("{}: no prompts", path.display());
    }
    Ok(out)
}

pub fn run(a: &SampleArgs) -> Result<()> {
    if a.n == 0 || a.max_tokens == 0 || a.batch_size == 0 {
        bail!("--n, --max-tokens and --batch-size must be >= 1");
    }
    let power = a.power.resolve(&a.sampling)?;
    if power.is_some() && (a.greedy || a.ignore_eos) {
        bail!("--power samples from its own proposal: no --greedy or --ignore-eos");
    }
    let prompts = match (&a.prompt, &a.prompts) {
        (Some(p), None) => vec![p.clone()],
        (None, Some(f)) => read_prompts(f)?,
        _ => bail!("give exactly one of --prompt and --prompts"),
    };
    let loading = || format!("loading {}", a.model.display());
    if a.quantized {
        if power.is_some() {
            bail!("--power needs a model folder (power sampling is not available with --quantized)");
        }
        let lm = QuantizedModel::open(&a.model, &super::quantized_device(&a.device)?).with_context(loading)?;
        return emit(a, &prompts, &lm, None);
    }
    let (device, dtype) = a.device.resolve("auto")?;
    let opts = LoadOptions { dtype, device, trainable: false };
    let lm = LanguageModel::open(&a.model, &opts).with_context(loading)?;
    emit(a, &prompts, &lm, power.as_ref())
}

/// Sample every prompt and print the samples.
fn emit<M: Decoder>(
    a: &SampleArgs,
    prompts: &[String],
    lm: &LanguageModel<M>,
    power: Option<&PowerSampler>,
) -> Result<()> {
    let ids = prompts.iter().map(|p| lm.encode_prompt(p, a.chat)).collect::<Result<Vec<_>, _>>()?;
    let mut params = SamplingParams {
        max_new_tokens: a.max_tokens,
        max_total_tokens: 0,
        temperature: a.sampling.temperature,
        top_p: a.sampling.top_p,
        greedy: a.greedy,
        ignore_eos: a.ignore_eos,
        seed: a.sampling.seed,
        stream_offset: 0,
        sampler: sharpen::rollout::Sampler::Auto,
    };
    let per_call = (a.batch_size / a.n.max(1)).max(1);
    for (c, chunk) in ids.chunks(per_call).enumerate() {
        let first = c * per_call;
        params.stream_offset = (first * a.n) as u64;
        // Plain samples, or power samples with their chain's cost and acceptance.
        let drawn: Vec<(Rollout, Option<PowerRollout>)> = match power {
            None => sample(&lm.model, chunk, a.n, &lm.eos_ids, &params)?.into_iter().map(|r| (r, None)).collect(),
            Some(p) => {
                let model = lm.model.as_model().expect("run() refuses --power with --quantized");
                power_sample(model, chunk, a.n, &lm.eos_ids, &params, p)?
                    .samples
                    .into_iter()
                    .map(|x| (x.rollout.clone(), Some(x)))
                    .collect()
            }
        };
        for (mut r, chain) in drawn {
            r.prompt_index += first;
            let text = lm.tokenizer.decode(&r.tokens, true)?;
            if a.json {
                let line = serde_json::json!({
                    "prompt_index": r.prompt_index, "sample_index": r.sample_index,
                    "prompt": prompts[r.prompt_index], "text": text, "tokens": r.tokens,
                    "logprobs": r.logprobs, "stop": r.stop,
                });
                let line = match &chain {
                    Some(c) => {
                        let mut line = line;
                        line["forward_tokens"] = c.forward_tokens.into();
                        line["mcmc_proposed"] = c.proposed.into();
                        line["mcmc_accepted"] = c.accepted.into();
                        line
                    }
                    None => line,
                };
                println!("{line}");
            } else {
                let stop = match r.stop {
                    StopReason::Eos => "eos",
                    StopReason::Length => "length",
                };
                println!(
                    "--- prompt {} sample {} ({} tokens, stop: {stop}, log p = {:.3})",
                    r.prompt_index,
                    r.sample_index,
                    r.tokens.len(),
                    r.logprobs.iter().map(|&x| x as f64).sum::<f64>()
                );
                if let Some(c) = &chain {
                    println!(
                        "    (power sample: {} forward tokens, {}/{} moves accepted)",
                        c.forward_tokens, c.accepted, c.proposed
                    );
                }
                println!("{text}");
            }
        }
    }
    Ok(())
}
