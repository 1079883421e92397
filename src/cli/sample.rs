//! `sharpen sample`: prompts in, sampled continuations out.

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::Value;
use sharpen::lm::LanguageModel;
use sharpen::model::LoadOptions;
use sharpen::quantized::QuantizedModel;
use sharpen::rollout::{sample, Decoder, SamplingParams, StopReason};
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
    let prompts = match (&a.prompt, &a.prompts) {
        (Some(p), None) => vec![p.clone()],
        (None, Some(f)) => read_prompts(f)?,
        _ => bail!("give exactly one of --prompt and --prompts"),
    };
    let loading = || format!("loading {}", a.model.display());
    if a.quantized {
        let lm = QuantizedModel::open(&a.model, &super::quantized_device(&a.device)?).with_context(loading)?;
        return emit(a, &prompts, &lm);
    }
    let (device, dtype) = a.device.resolve("auto")?;
    let opts = LoadOptions { dtype, device, trainable: false };
    let lm = LanguageModel::open(&a.model, &opts).with_context(loading)?;
    emit(a, &prompts, &lm)
}

/// Sample every prompt and print the samples.
fn emit<M: Decoder>(a: &SampleArgs, prompts: &[String], lm: &LanguageModel<M>) -> Result<()> {
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
        for mut r in sample(&lm.model, chunk, a.n, &lm.eos_ids, &params)? {
            r.prompt_index += first;
            let text = lm.tokenizer.decode(&r.tokens, true)?;
            if a.json {
                let line = serde_json::json!({
                    "prompt_index": r.prompt_index, "sample_index": r.sample_index,
                    "prompt": prompts[r.prompt_index], "text": text, "tokens": r.tokens,
                    "logprobs": r.logprobs, "stop": r.stop,
                });
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
                println!("{text}");
            }
        }
    }
    Ok(())
}
