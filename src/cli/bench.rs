//! `sharpen bench sample|train`: speed of batched sampling and of one training forward+backward
//! on a real model, printed as JSON lines that scripts/bench/bench_baseline.py prints too (same
//! prompts, same token counts) for a side-by-side comparison with transformers.

use anyhow::{Context, Result};
use candle_core::Tensor;
use clap::{Args, Subcommand};
use rand::{Rng, SeedableRng};
use sharpen::lm::LanguageModel;
use sharpen::model::{Grads, LoadOptions};
use sharpen::quantized::QuantizedModel;
use sharpen::rollout::{sample, Decoder, SamplingParams};
use sharpen::train::optim::{clip_scale, grad_norm, AdamW, AdamWParams};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Tokens per second of batched sampling (chat prompts, temperature 1, EOS ignored).
    Sample(BenchSampleArgs),
    /// Seconds of one training forward and backward (all weights trainable) and one AdamW step.
    Train(BenchTrainArgs),
    /// One RLOO step at a real model's shape (random weights): rollout tok/s, policy-gradient
    /// step seconds, peak memory. The GPU benchmark of scripts/gpu/device-check.sh.
    Rl(super::bench_rl::BenchRlArgs),
    /// Correctness on a device: fixture logits (f32, bf16), gradients against the CPU, the
    /// device sampler against the host sampler. Exits non-zero if a check fails.
    Device(super::bench_device::BenchDeviceArgs),
}

#[derive(Args, Debug)]
pub struct BenchSampleArgs {
    /// A Hugging Face model folder (or a .gguf file, with --quantized).
    #[arg(long)]
    pub model: PathBuf,
    /// Batch sizes to time, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    pub batch_sizes: Vec<usize>,
    /// New tokens per row.
    #[arg(long, default_value_t = 128)]
    pub new_tokens: usize,
    /// Timed repetitions per batch size (the best is reported).
    #[arg(long, default_value_t = 1)]
    pub repeats: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub device: super::DeviceFlags,
    /// Every row samples the first prompt (n = batch samples of one problem, as `sharpen eval`
    /// batches them) instead of one prompt per row.
    #[arg(long)]
    pub one_prompt: bool,
    /// Time a .gguf file's weights run as stored (`sharpen eval --quantized`); its batches need
    /// prompts of one length, so pair it with --one-prompt.
    #[arg(long)]
    pub quantized: bool,
}

#[derive(Args, Debug)]
pub struct BenchTrainArgs {
    /// A Hugging Face model folder.
    #[arg(long)]
    pub model: PathBuf,
    /// Rows per batch.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Tokens per row.
    #[arg(long, default_value_t = 128)]
    pub seq: usize,
    /// Timed repetitions (the best is reported).
    #[arg(long, default_value_t = 2)]
    pub repeats: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// candle's composed differentiable ops instead of the fused kernels (the reference path).
    #[arg(long)]
    pub composed_ops: bool,
    /// Layers per checkpointed segment [default: the train config's].
    #[arg(long)]
    pub checkpoint_every: Option<usize>,
    #[command(flatten)]
    pub device: super::DeviceFlags,
}

/// CPU seconds used so far by all of this process's threads (Linux: each thread's schedstat),
/// None elsewhere. On a loaded machine this is the work done, where wall time is mostly the
/// wait for a core.
fn process_cpu_seconds() -> Option<f64> {
    let mut ns = 0u64;
    for t in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok()?;
        ns += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(ns as f64 * 1e-9)
}

/// Reset the process's peak resident memory (Linux: /proc/self/clear_refs), so that a later
/// [`peak_rss_gib`] is the peak since now. Returns whether it could.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Peak resident memory of the process in GiB (Linux: VmHWM), None elsewhere.
fn peak_rss_gib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / (1u64 << 20) as f64)
}

/// The benchmark's prompts (scripts/bench/bench_baseline.py builds the same strings).
pub fn bench_prompts(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "Question {i}: a farmer has {} apples and buys {} more. How many apples does the farmer have now?",
                3 + 7 * i,
                11 + 5 * i
            )
        })
        .collect()
}

pub fn run(cmd: &BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Sample(a) => bench_sample(a),
        BenchCommand::Train(a) => bench_train(a),
        BenchCommand::Rl(a) => super::bench_rl::run(a),
        BenchCommand::Device(a) => super::bench_device::run(a),
    }
}

fn bench_sample(a: &BenchSampleArgs) -> Result<()> {
    // Each batch row is its own prompt: bound them before making any.
    if a.batch_sizes.is_empty() || a.batch_sizes.iter().any(|&b| b == 0 || b > 4096) || a.new_tokens == 0 {
        anyhow::bail!("--batch-sizes must all lie in 1..=4096 and --new-tokens be >= 1");
    }
    if a.quantized {
        let lm = QuantizedModel::open(&a.model, &super::quantized_device(&a.device)?)
            .with_context(|| a.model.display().to_string())?;
        return time_sampling(a, &lm, "sharpen-quantized");
    }
    let (device, dtype) = a.device.resolve("auto")?;
    let opts = LoadOptions { dtype, device, trainable: false };
    let lm = LanguageModel::open(&a.model, &opts).with_context(|| a.model.display().to_string())?;
    time_sampling(a, &lm, "sharpen")
}

fn time_sampling<M: Decoder>(a: &BenchSampleArgs, lm: &LanguageModel<M>, name: &str) -> Result<()> {
    let max_b = a.batch_sizes.iter().copied().max().unwrap_or(1);
    let prompts: Vec<Vec<u32>> =
        bench_prompts(max_b).iter().map(|p| lm.encode_prompt(p, true)).collect::<Result<_, _>>()?;
    let params = |n| SamplingParams { max_new_tokens: n, ignore_eos: true, seed: a.seed, ..SamplingParams::default() };
    sample(&lm.model, &prompts[..1], 1, &lm.eos_ids, &params(4))?; // warm-up
                                                                   // (prompts, samples per prompt) of a batch of b rows.
    let rows = |b: usize| if a.one_prompt { (&prompts[..1], b) } else { (&prompts[..b], 1) };
    for &b in &a.batch_sizes {
        let (ps, n) = rows(b);
        let mut best = f64::INFINITY;
        for _ in 0..a.repeats.max(1) {
            let t0 = Instant::now();
            let out = sample(&lm.model, ps, n, &lm.eos_ids, &params(a.new_tokens))?;
            best = best.min(t0.elapsed().as_secs_f64());
            anyhow::ensure!(out.iter().all(|r| r.tokens.len() == a.new_tokens), "a row stopped early");
        }
        let prompt_tokens: usize = ps.iter().map(Vec::len).sum::<usize>() * n;
        let line = serde_json::json!({
            "impl": name, "what": "sample", "batch": b, "new_tokens": a.new_tokens,
            "prompt_tokens": prompt_tokens, "seconds": best,
            "tokens_per_s": (b * a.new_tokens) as f64 / best,
        });
        println!("{line}");
    }
    Ok(())
}

/// One training step exactly as `sharpen train` runs it — the weighted log-probability backward
/// (checkpointed per layer, chunked head, the train config's defaults) and the trainer's fused
/// AdamW with f32 moments — on the objective bench_baseline.py times: −mean log p of every token.
fn bench_train(a: &BenchTrainArgs) -> Result<()> {
    let (device, dtype) = a.device.resolve("auto")?;
    let opts = LoadOptions { dtype, device, trainable: true };
    let lm = LanguageModel::open(&a.model, &opts).with_context(|| a.model.display().to_string())?;
    let m = &lm.model;
    if a.batch == 0 || a.seq < 2 {
        anyhow::bail!("--batch must be >= 1 and --seq >= 2");
    }
    let v = m.config().vocab_size as u32;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(a.seed);
    let ids: Vec<u32> = (0..a.batch * a.seq).map(|_| rng.gen_range(0..v)).collect();
    let ids = Tensor::from_vec(ids, (a.batch, a.seq), m.device())?;
    let pads = vec![0; a.batch];
    let weights = vec![-1.0 / (a.batch * (a.seq - 1)) as f32; a.batch * (a.seq - 1)];
    let cfg = sharpen::train::config::TrainConfig::default();
    let mut backward =
        sharpen::model::BackwardOptions { profile: true, composed_ops: a.composed_ops, ..cfg.backward() };
    if let Some(k) = a.checkpoint_every {
        backward.checkpoint_every = k;
    }
    let params = m.named_vars().to_vec();
    let hp = AdamWParams { state_dtype: cfg.optimizer_state_dtype()?, ..AdamWParams::default() };
    let mut opt = AdamW::new(params.clone(), hp, true)?;
    let (mut fwd, mut bwd, mut norm_s, mut step) = (f64::INFINITY, f64::INFINITY, f64::INFINITY, f64::INFINITY);
    let mut phases = [f64::INFINITY; 4];
    let (mut cpu_fb, mut cpu_opt) = (f64::INFINITY, f64::INFINITY);
    let peak_reset = reset_peak_rss();
    for _ in 0..a.repeats.max(1) {
        let mut grads = Grads::new();
        let c0 = process_cpu_seconds();
        let t0 = Instant::now();
        m.weighted_logprob_backward(&ids, &pads, &weights, backward, &mut grads)?;
        let t1 = Instant::now();
        let c1 = process_cpu_seconds();
        let norm = grad_norm(&grads, &params)?;
        let t2 = Instant::now();
        opt.step(&grads, cfg.lr, clip_scale(norm, cfg.clip))?;
        let t3 = Instant::now();
        if let (Some(c0), Some(c1), Some(c3)) = (c0, c1, process_cpu_seconds()) {
            cpu_fb = cpu_fb.min(c1 - c0);
            cpu_opt = cpu_opt.min(c3 - c1);
        }
        // The first pass over the layers is the forward; the head and the recomputed layers'
        // backward are the backward.
        let forward = grads.phase_seconds[0];
        fwd = fwd.min(forward);
        bwd = bwd.min((t1 - t0).as_secs_f64() - forward);
        norm_s = norm_s.min((t2 - t1).as_secs_f64());
        step = step.min((t3 - t2).as_secs_f64());
        for (p, s) in phases.iter_mut().zip(grads.phase_seconds) {
            *p = p.min(s);
        }
    }
    // adamw_s is the optimizer step alone (what torch.optim.AdamW.step times); the trainer also
    // takes the gradient norm for clipping first (grad_norm_s). phase_s: the backward's phases
    // (sharpen::model::profile::PHASES), each the best over the repeats.
    let line = serde_json::json!({
        "impl": "sharpen", "what": "train", "batch": a.batch, "seq": a.seq,
        "forward_s": fwd, "backward_s": bwd, "forward_backward_s": fwd + bwd, "adamw_s": step,
        "grad_norm_s": norm_s,
        // CPU seconds of all threads (spinning included): forward + backward, norm + AdamW.
        "cpu_forward_backward_s": cpu_fb.is_finite().then_some(cpu_fb),
        "cpu_optimizer_s": cpu_opt.is_finite().then_some(cpu_opt),
        // Peak resident memory over the timed steps (weights, gradients, moments, activations).
        "peak_rss_step_gib": if peak_reset { peak_rss_gib() } else { None },
        "checkpoint_every": backward.checkpoint_every, "composed_ops": backward.composed_ops,
        "phase_s": sharpen::model::profile::PHASES.iter().zip(phases)
            .map(|(k, v)| (k.to_string(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>(),
    });
    println!("{line}");
    Ok(())
}
