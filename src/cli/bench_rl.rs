//! `sharpen bench rl`: one RLOO step of the trainer at a real model's shape (random weights
//! from its config.json): rollout throughput, then the policy-gradient backward over the same
//! sequences in micro-batches plus the AdamW step, then the reference's scoring, with the peak
//! memory of the whole. scripts/bench/bench_gpu_baseline.py measures the same two things with
//! transformers, for the side-by-side table of scripts/gpu/device-check.sh.

use anyhow::{ensure, Context, Result};
use candle_core::{DType, Device};
use clap::Args;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map};
use sharpen::device::PeakMemory;
use sharpen::model::random::{parameter_count, random_tensors};
use sharpen::model::{profile, BackwardOptions, LoadOptions, Model, ModelConfig};
use sharpen::rollout::{sample, SamplingParams};
use sharpen::train::group::score_groups;
use sharpen::train::loss::{pack, policy_gradient, sequence_logprobs};
use sharpen::train::optim::{clip_scale, grad_norm, AdamW, AdamWParams};
use sharpen_toy::Regime;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct BenchRlArgs {
    /// A model's config.json (configs/shapes/ has the paper's three models and a tiny one).
    #[arg(long)]
    pub shape: PathBuf,
    #[command(flatten)]
    pub device: super::DeviceFlags,
    /// Sequences per step (prompts × samples per prompt).
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Samples per prompt (the RLOO group).
    #[arg(long, default_value_t = 8)]
    pub group: usize,
    /// Tokens per (random) prompt.
    #[arg(long, default_value_t = 128)]
    pub prompt_len: usize,
    /// Tokens sampled per sequence (EOS ignored, so every row runs to the end).
    #[arg(long, default_value_t = 256)]
    pub new_tokens: usize,
    /// Sequences per backward pass.
    #[arg(long, default_value_t = 8)]
    pub micro_batch: usize,
    /// Further micro-batch sizes to time the same step with (comma-separated), after the main one.
    #[arg(long, value_delimiter = ',')]
    pub also_micro_batch: Vec<usize>,
    /// Layers per activation-checkpoint segment (0 = keep the whole graph).
    #[arg(long, default_value_t = 1)]
    pub activation_checkpoint: usize,
    /// Tokens whose logits exist at one time.
    #[arg(long, default_value_t = 1024)]
    pub head_chunk: usize,
    /// AdamW moments: f32, bf16, or auto (bf16 above 3.5B parameters, so that a 4B model's
    /// full fine-tuning fits on one 80 GB card).
    #[arg(long, default_value = "auto")]
    pub optimizer_state: String,
    /// Also score the batch under a frozen reference copy (what sharpening's S needs); its
    /// weights count in the peak memory.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub reference: bool,
    /// Also time a step with candle's composed differentiable ops and one more with the fused
    /// kernels with attached backwards, side by side after the first (cold) step.
    #[arg(long)]
    pub compare_composed: bool,
    /// Run the step's backward on candle's composed differentiable ops instead of the fused
    /// kernels (for a device where a fused kernel misbehaves).
    #[arg(long)]
    pub composed_ops: bool,
    /// Also time the phases of one micro-batch's backward (forward, head, layers, embedding).
    #[arg(long)]
    pub profile: bool,
    /// Seed of the random weights, prompts, samples and rewards.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print one JSON line instead of indented JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: &BenchRlArgs) -> Result<()> {
    ensure!(a.group >= 2 && a.batch % a.group == 0, "--batch must be a multiple of --group (>= 2)");
    ensure!(a.prompt_len >= 1 && a.new_tokens >= 1, "--prompt-len and --new-tokens must be >= 1");
    let text = std::fs::read_to_string(&a.shape).with_context(|| format!("cannot read {}", a.shape.display()))?;
    let config: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{}: invalid JSON", a.shape.display()))?;
    let cfg = ModelConfig::from_json(&config)?;
    let (dev, dtype) = a.device.resolve("auto")?;
    let params = parameter_count(&cfg);
    let state_dtype = match a.optimizer_state.as_str() {
        "f32" => DType::F32,
        "bf16" => DType::BF16,
        "auto" if params > 3_500_000_000 => DType::BF16,
        "auto" => DType::F32,
        o => anyhow::bail!("unknown --optimizer-state '{o}' (f32, bf16 or auto)"),
    };
    let shape = a.shape.file_stem().and_then(|s| s.to_str()).unwrap_or("model").to_string();
    let mem = PeakMemory::start(&dev);

    let build = |trainable: bool| -> Result<Model> {
        let tensors = random_tensors(&cfg, dtype, &dev, a.seed)?;
        Ok(Model::from_parts(&config, tensors, &LoadOptions { dtype, device: dev.clone(), trainable })?)
    };
    let policy = build(true)?;
    let reference = if a.reference { Some(build(false)?) } else { None };
    let mut opt = AdamW::new(policy.named_vars().to_vec(), AdamWParams { state_dtype, ..Default::default() }, true)?;

    // Prompts: batch / group random prompts, each sampled `group` times.
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    let v = cfg.vocab_size as u32;
    let prompts: Vec<Vec<u32>> =
        (0..a.batch / a.group).map(|_| (0..a.prompt_len).map(|_| rng.gen_range(0..v)).collect()).collect();
    let sp = |n| SamplingParams { max_new_tokens: n, ignore_eos: true, seed: a.seed, ..SamplingParams::default() };
    sample(&policy, &prompts[..1], 2, &[], &sp(4))?; // warm-up: kernels load, cuBLAS picks its algorithms

    let t0 = Instant::now();
    let rollouts = sample(&policy, &prompts, a.group, &[], &sp(a.new_tokens))?;
    let rollout_s = t0.elapsed().as_secs_f64();
    ensure!(rollouts.iter().all(|r| r.tokens.len() == a.new_tokens), "a rollout stopped early");

    // Random 0/1 task rewards; the task-reward regime's leave-one-out advantages.
    let task: Vec<f64> = rollouts.iter().map(|_| f64::from(u8::from(rng.gen_bool(0.5)))).collect();
    let zeros = vec![0.0; rollouts.len()];
    let batch = score_groups(rollouts, &task, &zeros, &zeros, &Regime::task_reward(), a.group);
    let opts = BackwardOptions {
        checkpoint_every: a.activation_checkpoint,
        head_chunk: a.head_chunk,
        composed_ops: a.composed_ops,
        profile: false,
    };

    // One RLOO step's backward and AdamW update, timed to completion on the device.
    let mut rl_step = |mb: usize, opts: BackwardOptions| -> Result<(f64, f64, f64)> {
        let t = Instant::now();
        let (grads, _) = policy_gradient(&policy, &prompts, &batch, mb, opts)?;
        let norm = grad_norm(&grads, opt.params())?;
        let t_opt = Instant::now();
        opt.step(&grads, 1e-6, clip_scale(norm, 1.0))?;
        drop(grads);
        dev.synchronize()?;
        Ok((t.elapsed().as_secs_f64(), t_opt.elapsed().as_secs_f64(), norm))
    };
    // A failed step (say, out of memory) still reports the rollout it measured.
    let (step_s, optimizer_s, norm, step_error) = match rl_step(a.micro_batch, opts) {
        Ok((s, o, n)) => (Some(s), Some(o), Some(n), None),
        Err(e) => (None, None, None, Some(format!("{e:#}"))),
    };

    // Extras, each after the first (cold) step. A failure here (say, out of memory at a bigger
    // micro-batch) is reported in the output instead of losing the main numbers.
    let (mut by_mb, mut versus_composed, mut phases) = (Map::new(), Map::new(), Map::new());
    if let Some(t) = step_s {
        by_mb.insert(a.micro_batch.to_string(), json!(t));
    }
    let mut extras = || -> Result<()> {
        for &mb in &a.also_micro_batch {
            by_mb.insert(mb.to_string(), json!(rl_step(mb, opts)?.0));
        }
        if a.compare_composed {
            // The composed ops, then the fused ones again.
            for composed in [true, false] {
                let s = rl_step(a.micro_batch, BackwardOptions { composed_ops: composed, ..opts });
                versus_composed.insert(if composed { "composed" } else { "fused" }.into(), json!(s?.0));
            }
        }
        if a.profile {
            // Where a backward's time goes: one more micro-batch, each phase timed to completion.
            let mb = a.micro_batch.max(1);
            if let Some(chunk) = batch.chunks(mb).find(|c| c.iter().any(|s| s.advantage != 0.0)) {
                let (grads, _) =
                    policy_gradient(&policy, &prompts, chunk, mb, BackwardOptions { profile: true, ..opts })?;
                for (p, s) in profile::PHASES.iter().zip(grads.phase_seconds) {
                    phases.insert(p.to_string(), json!(s));
                }
            }
        }
        Ok(())
    };
    let extras_error = if step_error.is_none() { extras().err().map(|e| format!("{e:#}")) } else { None };

    let mut ref_s = None;
    if let Some(r) = reference.as_ref().filter(|_| step_error.is_none()) {
        let t2 = Instant::now();
        for mb in batch.chunks(a.micro_batch.max(1)) {
            let p: Vec<&[u32]> = mb.iter().map(|s| prompts[s.rollout.prompt_index].as_slice()).collect();
            let y: Vec<&[u32]> = mb.iter().map(|s| s.rollout.tokens.as_slice()).collect();
            sequence_logprobs(r, &pack(&p, &y, &dev)?, a.head_chunk)?;
        }
        ref_s = Some(t2.elapsed().as_secs_f64());
    }
    let peak = mem.stop();

    let seq_tokens = a.batch * (a.prompt_len + a.new_tokens);
    let state_gib = state_bytes(params, dtype, state_dtype, a.reference) as f64 / (1u64 << 30) as f64;
    let mut line = json!({
        "stack": "sharpen", "shape": shape, "device": device_name(&dev), "dtype": format!("{dtype:?}").to_lowercase(),
        "params": params, "optimizer_state": format!("{state_dtype:?}").to_lowercase(),
        "batch": a.batch, "prompt_len": a.prompt_len, "new_tokens": a.new_tokens, "micro_batch": a.micro_batch,
        "rollout_s": rollout_s, "rollout_tok_s": (a.batch * a.new_tokens) as f64 / rollout_s,
        "step_s": step_s, "train_tok_s": step_s.map(|s| seq_tokens as f64 / s), "ref_s": ref_s,
        "optimizer_s": optimizer_s, "micro_batch_phases_s": phases, "step_s_by_micro_batch": by_mb,
        "warm_step_s": versus_composed, "extras_error": extras_error,
        "peak_gib": peak, "state_gib": state_gib, "grad_norm": norm, "grads_ok": step_error.is_none(),
    });
    if let Some(e) = &step_error {
        line["error"] = json!(format!("the RLOO step failed: {e}"));
    }
    if a.json {
        println!("{line}");
    } else {
        println!("{}", serde_json::to_string_pretty(&line)?);
    }
    match step_error {
        Some(e) => anyhow::bail!("the RLOO step failed: {e}"),
        None => Ok(()),
    }
}

/// Bytes that live through a whole step, per the mixed-precision recipe of docs/gpu.md: the weights in
/// the compute dtype, their f32 masters (when that dtype is not f32), AdamW's m and v, the f32
/// gradient sums, and the frozen reference's weights. Activations, the KV cache and
/// temporaries come on top (the measured peak says how much).
pub fn state_bytes(params: usize, dtype: DType, state: DType, reference: bool) -> usize {
    let w = dtype.size_in_bytes();
    let master = if dtype == DType::F32 { 0 } else { 4 };
    params * (w + master + 2 * state.size_in_bytes() + 4 + if reference { w } else { 0 })
}

fn device_name(d: &Device) -> &'static str {
    if d.is_cpu() {
        "cpu"
    } else {
        "cuda"
    }
}
