//! The RLOO trainer (docs/design.md §4). One step, as in the paper's method section:
//!
//! 1. draw P prompts and sample a Group of K responses for each from the current policy;
//! 2. score every response: task reward r, reference log-likelihood S from the frozen initial
//!    model, the policy's own log-likelihood P (both by the trainer's forward pass, as the
//!    authors compute them); the Regime turns them into the reward (with r replaced by a
//!    self-reward when the `reward` key asks for one, docs/design.md §1a);
//! 3. subtract each Group's leave-one-out baseline to get the Advantages;
//! 4. weight the log-probabilities by the Advantages and each token's truncated importance
//!    ratio min(exp(P_trainer − P_sampler), 20) (token-level loss), backpropagate in
//!    micro-batches;
//! 5. clip the gradient norm and take an AdamW step with linear warm-up.
//!
//! Validation runs before the first step, every `val_every` steps and after the last (the whole
//! validation split unless `val_problems` subsamples it); checkpoints are written atomically; the run log
//! gets one record per step as it goes, so an interrupted run loses nothing it finished.

pub mod checkpoint;
pub mod config;
pub mod evaluate;
pub mod group;
pub mod loss;
pub mod optim;
pub mod run_dir;

use crate::model::Model;
use crate::rollout::{self, Rollout, Sampler, SamplingParams};
pub use crate::task::Task;
use anyhow::{bail, Context, Result};
use checkpoint::TrainerState;
use config::TrainConfig;
use group::ScoredRollout;
use optim::{clip_scale, grad_norm, AdamW, AdamWParams};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use run_dir::RunDir;
use sharpen_analysis::runlog::{
    ConfigChangeRecord, LengthSummary, Record, RunHeader, RunLogWriter, StepRecord, Summary,
};
use std::path::PathBuf;
use std::time::Instant;

/// The policy being trained, the frozen reference and where generation stops.
pub struct Models<'a> {
    pub policy: &'a Model,
    pub reference: &'a Model,
    pub eos_ids: Vec<u32>,
    /// Files copied into every checkpoint (config.json, tokenizer files) so it is a model folder.
    pub checkpoint_files: Vec<PathBuf>,
    /// Written into the run log's header.
    pub name: String,
}

/// Per-step hook for progress display.
pub type OnStep<'a> = &'a mut dyn FnMut(&StepRecord);

/// Train from step 0 in a claimed run directory, or from its last checkpoint when it was
/// claimed to resume.
pub fn train(
    cfg: &TrainConfig,
    models: &Models,
    train_task: &dyn Task,
    val_task: Option<&dyn Task>,
    run: &RunDir,
    on_step: OnStep,
) -> Result<Vec<StepRecord>> {
    let resume = run.resume;
    let regime = cfg.regime()?;
    if train_task.len() == 0 {
        bail!("the training set is empty");
    }
    let params = models.policy.named_vars().to_vec();
    if params.is_empty() {
        bail!("the policy has no trainable weights (load it with trainable = true)");
    }
    let hp = AdamWParams {
        beta1: cfg.beta1,
        beta2: cfg.beta2,
        eps: cfg.eps,
        weight_decay: cfg.weight_decay,
        state_dtype: cfg.optimizer_state_dtype()?,
    };
    let mut opt = AdamW::new(params.clone(), hp, true)?;
    let log_path = run.path.join("log.jsonl");

    let mut state = TrainerState { step: 0, adam_t: 0, seed: cfg.seed, best_val: None };
    if resume {
        state = checkpoint::load(&run.path, "last", models.policy, &mut opt)?;
        truncate_log(&log_path, state.step)?;
    }
    let mut log = RunLogWriter::open(&log_path, resume).with_context(|| format!("opening {}", log_path.display()))?;
    if !resume {
        log.write(&Record::Run(header(cfg, models)?))?;
    } else if !run.config_changes.is_empty() {
        let changes = run.config_changes.clone();
        log.write(&Record::ConfigChange(ConfigChangeRecord { step: state.step, changes }))?;
    }

    let start = Instant::now();
    if let Some(val) = val_task.filter(|_| state.step == 0) {
        if cfg.val_at_start {
            log.write(&Record::Val(evaluate::validate_record(models.policy, &models.eos_ids, val, cfg, 0.0)?))?;
        }
        if evaluate::due(cfg, 0) {
            log.write(&Record::Eval(evaluate::pass_at_k(models.policy, &models.eos_ids, val, cfg, 0, 0.0)?))?;
        }
    }
    let mut records = Vec::new();
    for step in state.step..cfg.steps {
        // 1. Sample a Group of K responses for each of P prompts (each row within max_tokens).
        let prompt_ids = draw_prompts(train_task.len(), cfg.prompts_per_step, cfg.seed, step);
        let prompts: Vec<Vec<u32>> = prompt_ids.iter().map(|&i| train_task.prompt(i).to_vec()).collect();
        let rollouts = sample_groups(models, &prompts, cfg, step_seed(cfg.seed, step))?;
        if rollouts.iter().any(|r| r.logprobs.iter().any(|x| !x.is_finite())) {
            bail!("step {step}: the sampler produced a non-finite log-probability; stopping (the last checkpoint is intact)");
        }

        // 2. Score every response: task reward, S and P, the Regime's reward. 3. Advantages.
        let (batch, sampler_p) = score(models, train_task, &prompt_ids, &prompts, rollouts, &regime, cfg)?;

        // 4. Weight the log-probs by the advantages (and importance weights); backpropagate.
        let (grads, _loss) = loss::policy_gradient(models.policy, &prompts, &batch, cfg.micro_batch, cfg.backward())?;

        // 5. Clip and step.
        let norm = grad_norm(&grads, &params)?;
        if !norm.is_finite() {
            bail!("step {step}: the gradient norm is {norm}; stopping (the last checkpoint is intact)");
        }
        let lr = cfg.lr_at(step);
        opt.step(&grads, lr, clip_scale(norm, cfg.clip))?;
        if let Some(name) = optim::first_non_finite(&params)? {
            bail!(
                "step {step}: weight {name} is not finite after the update; stopping (the last checkpoint is intact)"
            );
        }

        let mut rec = step_record(step, &batch, norm, norm > cfg.clip, lr, start.elapsed().as_secs_f64());
        rec.sampler_logprob = sampler_p;
        if let Some(val) = val_task.filter(|_| evaluate::validation_due(cfg, step + 1)) {
            let acc = evaluate::validate(models.policy, &models.eos_ids, val, cfg)?;
            rec.val_accuracy = Some(acc);
            if state.best_val.is_none_or(|(b, _)| acc > b) {
                state.best_val = Some((acc, step));
                let best = TrainerState { step: step + 1, adam_t: opt.t, ..state.clone() };
                checkpoint::save(&cfg.out_dir, "best", models.policy, &opt, &best, &models.checkpoint_files)?;
            }
        }
        log.write(&Record::Step(rec.clone()))?;
        on_step(&rec);
        records.push(rec);

        state.step = step + 1;
        state.adam_t = opt.t;
        if let Some(val) = val_task.filter(|_| evaluate::due(cfg, state.step)) {
            let wall = start.elapsed().as_secs_f64();
            log.write(&Record::Eval(evaluate::pass_at_k(models.policy, &models.eos_ids, val, cfg, state.step, wall)?))?;
        }
        if state.step == cfg.steps || (cfg.checkpoint_every > 0 && state.step % cfg.checkpoint_every == 0) {
            checkpoint::save(&cfg.out_dir, "last", models.policy, &opt, &state, &models.checkpoint_files)?;
        }
    }
    Ok(records)
}

/// Score a step's rollouts: the task reward; S under the frozen reference and P under the
/// policy, both from the trainer's forward pass (one code path and batching, so S − P is exactly
/// 0 while the weights are equal), and from the same pass each position's self-certainty and
/// entropy; each Group's majority pseudo-labels; the r the `reward` key picks, the Regime's
/// reward and the leave-one-out advantages; each token's truncated importance weight. Also the
/// sampler's own mean log-likelihood, for the log.
fn score(
    models: &Models,
    task: &dyn Task,
    prompt_ids: &[usize],
    prompts: &[Vec<u32>],
    rollouts: Vec<Rollout>,
    regime: &sharpen_toy::Regime,
    cfg: &TrainConfig,
) -> Result<(Vec<ScoredRollout>, Option<f64>)> {
    let source = cfg.reward_source()?;
    let r: Vec<f64> = rollouts.iter().map(|x| task.score(prompt_ids[x.prompt_index], &x.tokens)).collect();
    let s = token_logprobs(models.reference, prompts, &rollouts, cfg)?;
    let from_trainer = cfg.policy_logprob == "trainer";
    let trainer = if from_trainer || cfg.use_importance_sampling_correction || source.needs_distributions() {
        position_stats(models.policy, prompts, &rollouts, cfg)?
    } else {
        vec![]
    };
    let trainer_p: Vec<Vec<f32>> = trainer.iter().map(|row| row.iter().map(|p| p.logprob).collect()).collect();
    let mut self_rewards: Vec<group::SelfRewards> = if trainer.is_empty() {
        vec![group::SelfRewards::default(); rollouts.len()]
    } else {
        trainer
            .iter()
            .map(|row| {
                let stats: Vec<(f64, f64)> =
                    row.iter().map(|p| (f64::from(p.self_certainty), f64::from(p.entropy))).collect();
                group::SelfRewards::from_positions(&stats)
            })
            .collect()
    };
    // Answers vote together when the verifier calls them equal, as in maj@k (src/eval.rs).
    let answers: Vec<Option<String>> =
        rollouts.iter().map(|x| task.answer(prompt_ids[x.prompt_index], &x.tokens)).collect();
    let answers: Vec<Option<String>> = answers
        .chunks(cfg.samples_per_prompt)
        .flat_map(|g| if g.iter().any(Option::is_some) { crate::eval::canonical(g) } else { g.to_vec() })
        .collect();
    if answers.iter().any(Option::is_some) || source == sharpen_toy::RewardSource::Majority {
        group::set_majority(&mut self_rewards, &answers, &r, cfg.samples_per_prompt);
    }
    let regime_r: Vec<f64> = self_rewards.iter().zip(&r).map(|(sr, &t)| sr.reward(source, t)).collect::<Result<_>>()?;
    let sampler_p = sampler_sums(&rollouts);
    let p = if from_trainer { sums(&trainer_p) } else { sampler_p.clone() };
    let mut batch = group::score_groups(rollouts, &regime_r, &sums(&s), &p, regime, cfg.samples_per_prompt);
    for ((b, &t), sr) in batch.iter_mut().zip(&r).zip(self_rewards) {
        b.task_reward = t;
        b.self_rewards = sr;
    }
    if cfg.use_importance_sampling_correction {
        for (b, tp) in batch.iter_mut().zip(&trainer_p) {
            b.token_weights =
                group::importance_weights(tp, &b.rollout.logprobs, cfg.truncated_importance_sampling_ratio);
        }
    }
    let sampler_mean = from_trainer.then(|| sampler_p.iter().sum::<f64>() / sampler_p.len().max(1) as f64);
    Ok((batch, sampler_mean))
}

/// Independent seeds per (run seed, step): SplitMix64 of the pair.
pub fn step_seed(seed: u64, step: u64) -> u64 {
    let mut z = seed ^ step.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The problems of step `step`: epochs are seeded permutations of the training set, read in
/// order, P problems per step (so one epoch of MATH's 7,500 problems is ~234 steps of 32).
pub fn draw_prompts(n: usize, per_step: usize, seed: u64, step: u64) -> Vec<usize> {
    let first = step as usize * per_step;
    let mut order: Option<(usize, Vec<usize>)> = None;
    (first..first + per_step)
        .map(|k| {
            let (epoch, pos) = (k / n, k % n);
            if order.as_ref().is_none_or(|(e, _)| *e != epoch) {
                let mut o: Vec<usize> = (0..n).collect();
                o.shuffle(&mut ChaCha8Rng::seed_from_u64(step_seed(seed, u64::MAX - epoch as u64)));
                order = Some((epoch, o));
            }
            order.as_ref().expect("set above").1[pos]
        })
        .collect()
}

fn sample_groups(models: &Models, prompts: &[Vec<u32>], cfg: &TrainConfig, seed: u64) -> Result<Vec<Rollout>> {
    for p in prompts {
        cfg.response_budget(p.len())?;
    }
    let params = SamplingParams {
        max_new_tokens: if cfg.max_new_tokens > 0 { cfg.max_new_tokens } else { cfg.max_tokens },
        max_total_tokens: cfg.max_tokens,
        temperature: cfg.temperature,
        top_p: cfg.top_p,
        greedy: false,
        ignore_eos: cfg.ignore_eos,
        seed,
        stream_offset: 0,
        sampler: Sampler::Auto,
    };
    Ok(rollout::sample(models.policy, prompts, cfg.samples_per_prompt, &models.eos_ids, &params)?)
}

/// log π(token | prefix) of every response token under `model`, by the trainer's forward pass in
/// micro-batches (the one path S and P share).
fn token_logprobs(
    model: &Model,
    prompts: &[Vec<u32>],
    rollouts: &[Rollout],
    cfg: &TrainConfig,
) -> Result<Vec<Vec<f32>>> {
    per_micro_batch(model, prompts, rollouts, cfg, |s| loss::token_logprobs(model, s, cfg.head_chunk))
}

/// [`token_logprobs`] with each position's self-certainty and entropy, from the same pass.
fn position_stats(
    model: &Model,
    prompts: &[Vec<u32>],
    rollouts: &[Rollout],
    cfg: &TrainConfig,
) -> Result<Vec<Vec<crate::model::PositionStats>>> {
    per_micro_batch(model, prompts, rollouts, cfg, |s| loss::position_stats(model, s, cfg.head_chunk))
}

/// One row of values per rollout, `f` applied to the packed micro-batches.
fn per_micro_batch<T: Clone>(
    model: &Model,
    prompts: &[Vec<u32>],
    rollouts: &[Rollout],
    cfg: &TrainConfig,
    f: impl Fn(&loss::Sequences) -> Result<Vec<Vec<T>>>,
) -> Result<Vec<Vec<T>>> {
    let mut out = Vec::with_capacity(rollouts.len());
    for chunk in rollouts.chunks(cfg.micro_batch.max(1)) {
        if chunk.iter().all(|r| r.tokens.is_empty()) {
            out.extend(std::iter::repeat_n(Vec::new(), chunk.len()));
            continue;
        }
        let p: Vec<&[u32]> = chunk.iter().map(|r| prompts[r.prompt_index].as_slice()).collect();
        let r: Vec<&[u32]> = chunk.iter().map(|r| r.tokens.as_slice()).collect();
        out.extend(f(&loss::pack(&p, &r, model.device())?)?);
    }
    Ok(out)
}

/// Sequence log-likelihoods from per-token ones.
fn sums(tokens: &[Vec<f32>]) -> Vec<f64> {
    tokens.iter().map(|t| t.iter().map(|&x| f64::from(x)).sum()).collect()
}

/// The sampler's own sequence log-likelihoods (reported while decoding).
fn sampler_sums(rollouts: &[Rollout]) -> Vec<f64> {
    rollouts.iter().map(|r| r.logprobs.iter().map(|&x| f64::from(x)).sum()).collect()
}

/// The run log's header. Paths are recorded relative to where the run started (when they lie
/// below it), so a committed log names no machine's folders.
fn header(cfg: &TrainConfig, models: &Models) -> Result<RunHeader> {
    let cfg = cfg.as_logged();
    let config = match serde_json::to_value(&cfg)? {
        serde_json::Value::Object(m) => m.into_iter().collect(),
        _ => Default::default(),
    };
    let model = config::relative(std::path::Path::new(&models.name)).display().to_string();
    Ok(RunHeader { source: "llm".into(), model, regime: cfg.regime()?, seed: cfg.seed, config })
}

fn step_record(step: u64, batch: &[ScoredRollout], norm: f64, clipped: bool, lr: f64, wall: f64) -> StepRecord {
    let n = batch.len().max(1) as f64;
    let mean = |f: &dyn Fn(&ScoredRollout) -> f64| batch.iter().map(f).sum::<f64>() / n;
    let lengths: Vec<f64> = batch.iter().map(|s| s.length() as f64).collect();
    let len = Summary::of(&lengths);
    StepRecord {
        step,
        task_reward: mean(&|s| s.task_reward),
        regime_reward: Summary::of(&batch.iter().map(|s| s.reward).collect::<Vec<_>>()),
        advantage: Summary::of(&batch.iter().map(|s| s.advantage).collect::<Vec<_>>()),
        length: LengthSummary {
            mean: len.mean,
            min: len.min,
            max: len.max,
            clipped_fraction: mean(&|s| f64::from(u8::from(s.hit_cap()))),
        },
        ref_logprob: mean(&|s| s.scores.ref_logprob),
        policy_logprob: mean(&|s| s.scores.policy_logprob),
        sampler_logprob: None,
        entropy: mean(&|s| -s.scores.policy_logprob / s.length().max(1) as f64),
        kl_ref: mean(&|s| s.scores.policy_logprob - s.scores.ref_logprob),
        grad_norm: norm,
        clipped,
        lr,
        val_accuracy: None,
        wall_time_s: wall,
        self_certainty: batch_mean(batch, |s| s.self_rewards.self_certainty),
        token_entropy: batch_mean(batch, |s| s.self_rewards.entropy),
        majority_agreement: batch_mean(batch, |s| s.self_rewards.majority),
        majority_accuracy: batch_mean(batch, |s| s.self_rewards.group_majority_accuracy),
    }
}

/// The batch mean of a per-response quantity, when every response has it.
fn batch_mean(batch: &[ScoredRollout], f: impl Fn(&ScoredRollout) -> Option<f64>) -> Option<f64> {
    let xs: Vec<f64> = batch.iter().map(f).collect::<Option<_>>()?;
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// On resume, drop the records of steps the checkpoint does not contain (they will be redone)
/// and a torn last line, keeping every other record byte for byte and in place.
fn truncate_log(path: &std::path::Path, next_step: u64) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    // An evaluation or validation after step s is written before the checkpoint of step s: it
    // belongs to it.
    let torn = sharpen_analysis::runlog::truncate(path, |r| match r {
        Record::Run(_) => true,
        Record::Step(s) => s.step < next_step,
        Record::Eval(e) => e.step <= next_step,
        Record::Val(v) => v.step <= next_step,
        Record::ConfigChange(c) => c.step <= next_step,
    })?;
    if let Some(line) = torn {
        eprintln!("note: {}: dropped a torn last line ({line}), a write cut short", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_epoch_visits_every_problem_once() {
        let (n, p) = (10, 3);
        let mut seen: Vec<usize> = (0..4).flat_map(|s| draw_prompts(n, p, 7, s)).collect();
        let second_epoch_start = seen.split_off(n);
        seen.sort();
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
        assert_eq!(second_epoch_start.len(), 2);
        assert_eq!(draw_prompts(n, p, 7, 2), draw_prompts(n, p, 7, 2));
        assert_ne!(draw_prompts(n, p, 7, 0), draw_prompts(n, p, 8, 0));
    }
}
