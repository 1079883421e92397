//! Stochastic training with the trainer's estimator, many seeds in parallel.
//!
//! Each seed's random stream is ChaCha8 seeded with the base seed and set to stream = seed
//! index, so a seed's run is the same whatever the number of threads or the order they run in.

use super::adamw::{clip_grad_norm, warmup_factor, AdamW, AdamWConfig};
use super::estimator::{surrogate_gradient, ExactState, Group, LossAggregation, Trainable};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrainConfig {
    pub steps: usize,
    /// K: rollouts per prompt (one RLOO group).
    pub samples_per_prompt: usize,
    /// Groups per optimiser step.
    pub prompts_per_step: usize,
    pub warmup: usize,
    pub max_grad_norm: f64,
    pub aggregation: LossAggregation,
    pub adamw: AdamWConfig,
    pub base_seed: u64,
}

impl TrainConfig {
    /// The paper's estimator and optimiser at a toy learning rate: K = 8, token-level loss,
    /// clip 1.0, warm-up over the first 10% of the steps.
    pub fn paper(steps: usize, lr: f64) -> Self {
        Self {
            steps,
            samples_per_prompt: 8,
            prompts_per_step: 4,
            warmup: steps / 10,
            max_grad_norm: 1.0,
            aggregation: LossAggregation::Token,
            adamw: AdamWConfig::paper(lr),
            base_seed: 0,
        }
    }
}

/// mean / std / min / max of a batch quantity — also the run-log schema's `Summary`, so that toy
/// and LLM runs summarise batches the same way.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, serde::Deserialize)]
pub struct Moments {
    pub mean: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
}

impl Moments {
    pub fn of(xs: &[f64]) -> Self {
        if xs.is_empty() {
            return Self::default();
        }
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        Self {
            mean,
            std: var.sqrt(),
            min: xs.iter().copied().fold(f64::INFINITY, f64::min),
            max: xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// One optimiser step of one seed: the batch it sampled and the policy that sampled it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepStats {
    pub step: usize,
    pub lr: f64,
    /// Exact state of the policy that sampled this step's batch (before the update).
    pub exact: ExactState,
    /// Mean task reward of the batch.
    pub batch_accuracy: f64,
    pub reward: Moments,
    pub advantage: Moments,
    pub length: Moments,
    /// Batch means of S, P, −P/L and P − S.
    pub ref_logprob: f64,
    pub policy_logprob: f64,
    pub token_entropy: f64,
    pub kl_ref: f64,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
    pub clipped: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeedRun {
    pub seed_index: usize,
    pub steps: Vec<StepStats>,
    /// Exact state after the last update.
    pub last: ExactState,
    /// Fraction of steps on which clipping scaled the gradient.
    pub clip_fraction: f64,
}

/// Train one seed.
pub fn train_seed(model: &impl Trainable, cfg: &TrainConfig, seed_index: usize) -> SeedRun {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.base_seed);
    rng.set_stream(seed_index as u64);
    let mut delta = vec![0.0; model.num_params()];
    let mut opt = AdamW::new(cfg.adamw, delta.len());
    let mut steps = Vec::with_capacity(cfg.steps);
    for step in 0..cfg.steps {
        let exact = model.exact(&delta);
        let groups: Vec<Group> = (0..cfg.prompts_per_step)
            .map(|_| Group::new(model.sample(&delta, cfg.samples_per_prompt, &mut rng)))
            .collect();
        let ascent = surrogate_gradient(model, &delta, &groups, cfg.aggregation);
        let mut loss_grad: Vec<f64> = ascent.iter().map(|g| -g).collect();
        let (grad_norm, clipped) = clip_grad_norm(&mut loss_grad, cfg.max_grad_norm);
        let lr = cfg.adamw.lr * warmup_factor(step, cfg.warmup);
        opt.step(&mut delta, &loss_grad, lr);
        steps.push(batch_stats(step, lr, exact, &groups, grad_norm, clipped));
    }
    let clip_fraction = steps.iter().filter(|s| s.clipped).count() as f64 / steps.len().max(1) as f64;
    SeedRun { seed_index, steps, last: model.exact(&delta), clip_fraction }
}

fn batch_stats(step: usize, lr: f64, exact: ExactState, groups: &[Group], grad_norm: f64, clipped: bool) -> StepStats {
    let rolls: Vec<_> = groups.iter().flat_map(|g| &g.rollouts).collect();
    let col = |f: &dyn Fn(&super::estimator::Rollout) -> f64| -> Vec<f64> { rolls.iter().map(|r| f(r)).collect() };
    let avg = |v: Vec<f64>| Moments::of(&v).mean;
    StepStats {
        step,
        lr,
        exact,
        batch_accuracy: avg(col(&|r| r.task)),
        reward: Moments::of(&col(&|r| r.reward)),
        advantage: Moments::of(&groups.iter().flat_map(|g| g.advantages.iter().copied()).collect::<Vec<_>>()),
        length: Moments::of(&col(&|r| r.length as f64)),
        ref_logprob: avg(col(&|r| r.ref_logprob)),
        policy_logprob: avg(col(&|r| r.policy_logprob)),
        token_entropy: avg(col(&|r| -r.policy_logprob / r.length.max(1) as f64)),
        kl_ref: avg(col(&|r| r.policy_logprob - r.ref_logprob)),
        grad_norm,
        clipped,
    }
}

/// Train seeds 0..`seeds` on up to `threads` threads; `progress` is called once per finished
/// seed. The result is ordered by seed index and independent of `threads`.
pub fn train_seeds(
    model: &impl Trainable,
    cfg: &TrainConfig,
    seeds: usize,
    threads: usize,
    progress: &(dyn Fn() + Sync),
) -> Vec<SeedRun> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<SeedRun>>> = Mutex::new(vec![None; seeds]);
    std::thread::scope(|s| {
        for _ in 0..threads.clamp(1, seeds.max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= seeds {
                    break;
                }
                let run = train_seed(model, cfg, i);
                results.lock().expect("no thread panicked while holding the lock")[i] = Some(run);
                progress();
            });
        }
    });
    results.into_inner().expect("threads joined").into_iter().map(|r| r.expect("every seed ran")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamics::bandit_policy::TabularBandit;
    use crate::problems::many_paths;
    use crate::regime::Regime;

    #[test]
    fn same_seed_same_run_whatever_the_thread_count() {
        let m = TabularBandit::new(many_paths(), Regime::sharpening().into()).unwrap();
        let cfg = TrainConfig { base_seed: 11, ..TrainConfig::paper(30, 0.05) };
        let one = train_seeds(&m, &cfg, 5, 1, &|| {});
        let three = train_seeds(&m, &cfg, 5, 3, &|| {});
        assert_eq!(one, three);
        assert_eq!(train_seed(&m, &cfg, 2), one[2]);
        assert_ne!(one[0].steps, one[1].steps, "different seed indices draw different batches");
        let other = train_seed(&m, &TrainConfig { base_seed: 12, ..cfg }, 2);
        assert_ne!(other.steps, one[2].steps, "the base seed matters");
    }

    #[test]
    fn task_reward_training_raises_accuracy() {
        let m = TabularBandit::new(many_paths(), Regime::task_reward().into()).unwrap();
        let cfg = TrainConfig::paper(150, 0.05);
        let runs = train_seeds(&m, &cfg, 4, 2, &|| {});
        for r in &runs {
            assert!(r.last.accuracy > 0.95, "seed {}: {}", r.seed_index, r.last.accuracy);
            assert!(r.steps[0].exact.accuracy < 0.73);
        }
    }
}
