//! Measuring the policy during a run: validation accuracy (before the first step, every
//! `val_every` steps and after the last, as the authors validate; it also picks the `best`
//! checkpoint) and the in-run evaluation (pass@k, maj@k and length as the run log's Eval
//! records, before the first step, every `eval_every` steps and after the last).

use super::config::TrainConfig;
use super::{step_seed, Task};
use crate::eval::{pass_and_maj, sample_and_score};
use crate::model::Model;
use crate::rollout::{Sampler, SamplingParams};
use anyhow::Result;
use sharpen_analysis::runlog::{EvalRecord, ValRecord};

/// Whether the in-run evaluation runs after `done` steps.
pub fn due(cfg: &TrainConfig, done: u64) -> bool {
    cfg.eval_samples > 0 && (done == 0 || done == cfg.steps || (cfg.eval_every > 0 && done % cfg.eval_every == 0))
}

/// Whether validation runs after `done` steps (the first validation, before any step, is
/// `val_at_start`'s).
pub fn validation_due(cfg: &TrainConfig, done: u64) -> bool {
    (cfg.val_every > 0 && done % cfg.val_every == 0) || (cfg.val_at_end && done == cfg.steps)
}

/// The run's sampling settings for measuring, from a fixed seed so that successive measurements
/// differ only by the policy; each row within max_tokens. `ignore_eos` is the validation's
/// (training's, in the authors' code) or false for the in-run evaluation.
fn sampling(cfg: &TrainConfig, seed: u64, stream_offset: usize, ignore_eos: bool) -> SamplingParams {
    SamplingParams {
        max_new_tokens: if cfg.max_new_tokens > 0 { cfg.max_new_tokens } else { cfg.max_tokens },
        max_total_tokens: cfg.max_tokens,
        temperature: cfg.temperature,
        top_p: cfg.top_p,
        greedy: false,
        ignore_eos,
        seed,
        stream_offset: stream_offset as u64,
        sampler: Sampler::Auto,
    }
}

/// How many validation problems a run uses.
fn val_count(cfg: &TrainConfig, val: &dyn Task) -> usize {
    if cfg.val_problems > 0 {
        cfg.val_problems.min(val.len())
    } else {
        val.len()
    }
}

/// [`validate`] as a run-log record.
pub fn validate_record(
    policy: &Model,
    eos_ids: &[u32],
    val: &dyn Task,
    cfg: &TrainConfig,
    wall: f64,
) -> Result<ValRecord> {
    Ok(ValRecord {
        step: 0,
        accuracy: validate(policy, eos_ids, val, cfg)?,
        problems: val_count(cfg, val),
        samples_per_problem: cfg.val_samples.max(1),
        wall_time_s: wall,
    })
}

/// Mean task reward of `val_samples` samples per validation problem, from a fixed seed so that
/// successive validations differ only by the policy. EOS is ignored when training ignores it:
/// the authors' validation shares the training generation settings.
pub fn validate(policy: &Model, eos_ids: &[u32], val: &dyn Task, cfg: &TrainConfig) -> Result<f64> {
    let ids: Vec<usize> = (0..val_count(cfg, val)).collect();
    let n = cfg.val_samples.max(1);
    let params = sampling(cfg, step_seed(cfg.seed, u64::MAX / 2), 0, cfg.ignore_eos);
    let out = sample_and_score(policy, eos_ids, val, &ids, n, cfg.prompts_per_step, &params, |_| {})?;
    let count = out.len() * n;
    Ok(if count == 0 { 0.0 } else { out.iter().map(|p| p.reward_sum).sum::<f64>() / count as f64 })
}

/// pass@k, maj@k and mean length of the policy after `done` steps on the validation problems,
/// `eval_samples` each, from a fixed seed (evaluations differ only by the policy).
pub fn pass_at_k(
    policy: &Model,
    eos_ids: &[u32],
    val: &dyn Task,
    cfg: &TrainConfig,
    done: u64,
    wall: f64,
) -> Result<EvalRecord> {
    let n = cfg.eval_samples;
    let count = val_count(cfg, val);
    let ids: Vec<usize> = (0..count).collect();
    let per_call = cfg.prompts_per_step * cfg.samples_per_prompt / n;
    let params = sampling(cfg, step_seed(cfg.seed, u64::MAX / 3), 0, false);
    let problems = sample_and_score(policy, eos_ids, val, &ids, n, per_call, &params, |_| {})?;
    let tokens: usize = problems.iter().map(|p| p.tokens).sum();
    let (pass_at_k, maj_at_k) = pass_and_maj(&problems, n, &cfg.eval_ks, cfg.seed)?;
    Ok(EvalRecord {
        step: done,
        dataset: cfg.val_data.clone(),
        problems: count,
        samples_per_problem: n,
        pass_at_k,
        maj_at_k,
        mean_length: tokens as f64 / (count * n).max(1) as f64,
        wall_time_s: wall,
    })
}
