//! Synthetic run logs with known trends, for the prediction checks and the run-log figures.
#![allow(dead_code)]

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sharpen_analysis::runlog::RunLog;
use sharpen_analysis::runlog::{EvalRecord, LengthSummary, Record, RunHeader, StepRecord, Summary};
use sharpen_analysis::runs::Run;
use sharpen_toy::Regime;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Linear start → end trends of the logged quantities, plus noise.
#[derive(Clone, Copy)]
pub struct Shape {
    pub acc: (f64, f64),
    pub len: (f64, f64),
    pub ref_lp: (f64, f64),
    pub entropy: (f64, f64),
    pub kl: (f64, f64),
    /// pass@16 at the first and last evaluation.
    pub pass16: (f64, f64),
    pub clip_rate: f64,
    pub noise: f64,
    /// The header's `reward` key (None: not written, i.e. the task reward).
    pub reward: Option<&'static str>,
    /// The self-reward quantities of the step records (None: not logged).
    pub self_certainty: Option<(f64, f64)>,
    pub token_entropy: Option<(f64, f64)>,
    pub majority: Option<(f64, f64)>,
    pub majority_acc: Option<(f64, f64)>,
}

impl Default for Shape {
    fn default() -> Self {
        Self {
            acc: (0.5, 0.5),
            len: (300.0, 300.0),
            ref_lp: (-100.0, -100.0),
            entropy: (0.5, 0.5),
            kl: (0.0, 0.0),
            pass16: (0.9, 0.9),
            clip_rate: 0.2,
            noise: 0.02,
            reward: None,
            self_certainty: None,
            token_entropy: None,
            majority: None,
            majority_acc: None,
        }
    }
}

fn lerp(a: (f64, f64), t: f64) -> f64 {
    a.0 + (a.1 - a.0) * t
}

pub fn records(regime: Regime, seed: u64, steps: u64, shape: Shape, fixed_length: bool) -> Vec<Record> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut config = BTreeMap::new();
    if fixed_length {
        config.insert("ignore_eos".to_string(), serde_json::Value::Bool(true));
    }
    if let Some(r) = shape.reward {
        config.insert("reward".to_string(), serde_json::Value::String(r.into()));
    }
    let mut out =
        vec![Record::Run(RunHeader { source: "llm".into(), model: "synthetic".into(), regime, seed, config })];
    let mut noise = |scale: f64| scale * (rng.gen::<f64>() - 0.5) * 2.0;
    let eval = |step: u64, t: f64| {
        let p1 = lerp(shape.acc, t);
        let p16 = lerp(shape.pass16, t);
        let ks = [(1, p1), (2, (p1 + p16) / 2.0), (16, p16)];
        EvalRecord {
            step,
            dataset: "synthetic".into(),
            problems: 500,
            samples_per_problem: 16,
            pass_at_k: ks.iter().map(|(k, p)| (k.to_string(), *p)).collect(),
            maj_at_k: ks.iter().map(|(k, _)| (k.to_string(), p1)).collect(),
            mean_length: lerp(shape.len, t),
            wall_time_s: step as f64,
        }
    };
    out.push(Record::Eval(eval(0, 0.0)));
    for step in 0..steps {
        let t = step as f64 / (steps.max(2) - 1) as f64;
        let len = lerp(shape.len, t) * (1.0 + noise(shape.noise));
        out.push(Record::Step(StepRecord {
            step,
            task_reward: (lerp(shape.acc, t) + noise(shape.noise * 5.0)).clamp(0.0, 1.0),
            regime_reward: Summary { mean: 0.0, std: 1.0, min: -1.0, max: 1.0 },
            advantage: Summary::default(),
            length: LengthSummary { mean: len, min: len * 0.5, max: len * 1.5, clipped_fraction: 0.0 },
            ref_logprob: lerp(shape.ref_lp, t) * (1.0 + noise(shape.noise)),
            policy_logprob: lerp(shape.ref_lp, t),
            sampler_logprob: None,
            entropy: lerp(shape.entropy, t) * (1.0 + noise(shape.noise)),
            kl_ref: (lerp(shape.kl, t) + noise(shape.noise * 0.1)).max(0.0),
            grad_norm: 2.0,
            clipped: rng_bool(seed, step, shape.clip_rate),
            lr: 1e-6,
            val_accuracy: (step % 10 == 0).then(|| (lerp(shape.acc, t) + noise(shape.noise)).clamp(0.0, 1.0)),
            wall_time_s: step as f64,
            self_certainty: shape.self_certainty.map(|x| lerp(x, t) + noise(shape.noise)),
            token_entropy: shape.token_entropy.map(|x| lerp(x, t) + noise(shape.noise)),
            majority_agreement: shape.majority.map(|x| (lerp(x, t) + noise(shape.noise * 5.0)).clamp(0.0, 1.0)),
            majority_accuracy: shape.majority_acc.map(|x| (lerp(x, t) + noise(shape.noise * 5.0)).clamp(0.0, 1.0)),
        }));
    }
    out.push(Record::Eval(eval(steps, 1.0)));
    out
}

/// A deterministic Bernoulli draw independent of the main noise stream.
fn rng_bool(seed: u64, step: u64, p: f64) -> bool {
    ChaCha8Rng::seed_from_u64(seed * 1_000_003 + step).gen::<f64>() < p
}

pub fn run(regime: Regime, seed: u64, steps: u64, shape: Shape, fixed_length: bool) -> Run {
    Run {
        path: PathBuf::from(format!("{}-{seed}.jsonl", regime.name())),
        log: RunLog::from_records(records(regime, seed, steps, shape, fixed_length)),
    }
}
