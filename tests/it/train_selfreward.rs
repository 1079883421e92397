//! Self-rewards in the RLOO trainer on the tiny fixture model (docs/design.md §1a): each one
//! equals a hand computation on the step's rollouts, and a 12-step run with each moves the
//! quantity it rewards.

use candle_core::{DType, Device, IndexOp, Tensor};
use sharpen::analysis::runlog::{RunLog, StepRecord};
use sharpen::model::{LoadOptions, Model};
use sharpen::rollout::{sample, Rollout, SamplingParams};
use sharpen::train::config::TrainConfig;
use sharpen::train::run_dir::{Claim, RunDir};
use sharpen::train::{draw_prompts, step_seed, train, Models, Task};
use std::collections::BTreeMap;
use std::path::PathBuf;

const EOS: u32 = 2;
/// Responses per prompt, in training and when measuring.
const K: usize = 4;
const MAX_NEW: usize = 8;

fn load(trainable: bool) -> Model {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-llama");
    Model::load(&dir, &LoadOptions { dtype: DType::F32, device: Device::Cpu, trainable }).unwrap()
}

/// Two fixed prompts. A response's answer is its first token modulo 3 (none when it stops at
/// once), so that a Group of K often has a majority; the task reward is 1 for answer "0".
struct Answers {
    prompts: Vec<Vec<u32>>,
}

impl Task for Answers {
    fn len(&self) -> usize {
        self.prompts.len()
    }
    fn prompt(&self, i: usize) -> &[u32] {
        &self.prompts[i]
    }
    fn score(&self, i: usize, response: &[u32]) -> f64 {
        f64::from(u8::from(self.answer(i, response).as_deref() == Some("0")))
    }
    fn answer(&self, _i: usize, response: &[u32]) -> Option<String> {
        response.first().filter(|&&t| t != EOS).map(|t| (t % 3).to_string())
    }
}

fn task() -> Answers {
    Answers { prompts: vec![vec![5, 9, 33, 17], vec![12, 40, 41]] }
}

fn config(out: &str, sets: &[&str]) -> TrainConfig {
    let dir = std::env::temp_dir().join(format!("sharpen-selfrew-{}-{out}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut o: Vec<String> = vec![
        "prompts_per_step=2".into(),
        format!("samples_per_prompt={K}"),
        "micro_batch=3".into(),
        "lr=1e-2".into(),
        "warmup_steps=0".into(),
        format!("max_new_tokens={MAX_NEW}"),
        "val_every=0".into(),
        "checkpoint_every=0".into(),
        "seed=0".into(),
        "synthetic_problems=8".into(),
        format!("out_dir=\"{}\"", dir.display()),
    ];
    o.extend(sets.iter().map(|s| s.to_string()));
    TrainConfig::load(&[], &o).unwrap()
}

fn run(cfg: &TrainConfig, policy: &Model) -> Vec<StepRecord> {
    let reference = load(false);
    let models =
        Models { policy, reference: &reference, eos_ids: vec![EOS], checkpoint_files: vec![], name: "tiny".into() };
    train(cfg, &models, &task(), None, &RunDir::claim(cfg, Claim::default()).unwrap(), &mut |_| {}).unwrap()
}

/// The rollouts of step 0 exactly as the trainer draws them (its prompts, seed and settings).
fn step0_rollouts(m: &Model, cfg: &TrainConfig) -> (Vec<Vec<u32>>, Vec<Rollout>) {
    let t = task();
    let ids = draw_prompts(t.len(), cfg.prompts_per_step, cfg.seed, 0);
    let prompts: Vec<Vec<u32>> = ids.iter().map(|&i| t.prompt(i).to_vec()).collect();
    let params = SamplingParams {
        max_new_tokens: MAX_NEW,
        max_total_tokens: cfg.max_tokens,
        seed: step_seed(cfg.seed, 0),
        ..SamplingParams::default()
    };
    let rollouts = sample(m, &prompts, K, &[EOS], &params).unwrap();
    (prompts, rollouts)
}

/// Per response, by plain f64 loops over the training forward's logits of prompt + response:
/// (mean over positions of KL(U ‖ p), mean over positions of H(p)).
fn by_hand(m: &Model, prompt: &[u32], response: &[u32]) -> (f64, f64) {
    let seq: Vec<u32> = prompt.iter().chain(response).copied().collect();
    let ids = Tensor::new(seq.as_slice(), &Device::Cpu).unwrap().unsqueeze(0).unwrap();
    let logits = m.forward_train(&ids, &[0]).unwrap().i(0).unwrap().to_vec2::<f32>().unwrap();
    let (mut kl, mut h) = (0.0, 0.0);
    // The logits at position j predict token j + 1: the response's tokens from the prompt's last.
    for row in &logits[prompt.len() - 1..seq.len() - 1] {
        let x: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
        let max = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let log_z = max + x.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
        let v = x.len() as f64;
        for xi in &x {
            let lp = xi - log_z;
            kl += (1.0 / v) * ((1.0 / v).ln() - lp);
            h -= lp.exp() * lp;
        }
    }
    let n = response.len() as f64;
    (kl / n, h / n)
}

/// Majority pseudo-labels of one Group by counting: 1/t for the t answers with the most votes.
fn labels_by_hand(answers: &[Option<String>]) -> Vec<f64> {
    let mut votes: BTreeMap<&str, usize> = BTreeMap::new();
    for a in answers.iter().flatten() {
        *votes.entry(a).or_default() += 1;
    }
    let best = votes.values().copied().max().unwrap_or(0);
    let tied = votes.values().filter(|&&c| c == best).count();
    answers
        .iter()
        .map(|a| a.as_deref().map_or(0.0, |a| if votes[a] == best { 1.0 / tied as f64 } else { 0.0 }))
        .collect()
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn close(a: f64, b: f64, what: &str) {
    // f32 logits through two code paths (inference and training forwards).
    assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{what}: trainer {a} vs by hand {b}");
}

#[test]
fn self_rewards_equal_the_hand_computation() {
    let t = task();
    let cfg = config("hand", &["steps=1"]);
    let (prompts, rollouts) = step0_rollouts(&load(false), &cfg);
    let base = load(false);
    let stats: Vec<(f64, f64)> = rollouts.iter().map(|r| by_hand(&base, &prompts[r.prompt_index], &r.tokens)).collect();
    let answers: Vec<Option<String>> = rollouts.iter().map(|r| t.answer(0, &r.tokens)).collect();
    let labels: Vec<f64> = answers.chunks(K).flat_map(labels_by_hand).collect();
    let task_r: Vec<f64> = rollouts.iter().map(|r| t.score(0, &r.tokens)).collect();
    let group_maj: Vec<f64> = labels
        .chunks(K)
        .zip(task_r.chunks(K))
        .map(|(l, r)| {
            let votes: f64 = l.iter().sum();
            if votes > 0.0 {
                l.iter().zip(r).map(|(a, b)| a * b).sum::<f64>() / votes
            } else {
                0.0
            }
        })
        .collect();
    assert!(labels.contains(&1.0) && labels.contains(&0.0), "a Group with a clear majority");

    let sc: Vec<f64> = stats.iter().map(|s| s.0).collect();
    let neg_h: Vec<f64> = stats.iter().map(|s| -s.1).collect();
    for (reward, per_response) in [("self_certainty", &sc), ("neg_entropy", &neg_h), ("majority", &labels)] {
        let cfg = config(reward, &["steps=1", &format!("reward=\"{reward}\"")]);
        let rec = &run(&cfg, &load(true))[0];
        assert_eq!(rec.task_reward, mean(&task_r), "{reward}: the same rollouts, accuracy still the task's");
        // Task-reward regime (optimization, α = 0, β⁻¹ = 1): the regime's reward is the self-reward.
        close(rec.regime_reward.mean, mean(per_response), reward);
        close(rec.regime_reward.min, per_response.iter().copied().fold(f64::INFINITY, f64::min), reward);
        close(rec.regime_reward.max, per_response.iter().copied().fold(f64::NEG_INFINITY, f64::max), reward);
        // Every self-reward quantity is logged whatever the source.
        close(rec.self_certainty.unwrap(), mean(&sc), "logged self-certainty");
        close(rec.token_entropy.unwrap(), -mean(&neg_h), "logged token entropy");
        close(rec.majority_agreement.unwrap(), mean(&labels), "logged majority agreement");
        close(rec.majority_accuracy.unwrap(), mean(&group_maj), "logged Group maj@K");
        let log = RunLog::read(&cfg.out_dir.join("log.jsonl")).unwrap();
        assert_eq!(log.header.unwrap().config["reward"], serde_json::json!(reward), "the source is in the header");
    }
    // The hand computation is not trivially uniform: KL(U ‖ π) > 0 and H < log V.
    assert!(sc.iter().all(|&x| x > 0.0) && neg_h.iter().all(|&x| -x < 64f64.ln()));
}

/// Measured on 64 fresh samples per prompt (a fixed seed): mean self-certainty and mean token
/// entropy per response, and the share of each prompt's samples giving its most common answer.
fn measure(m: &Model) -> (f64, f64, f64) {
    let t = task();
    let params = SamplingParams { max_new_tokens: MAX_NEW, seed: 5, ..SamplingParams::default() };
    let out = sample(m, &t.prompts, 64, &[EOS], &params).unwrap();
    let stats: Vec<(f64, f64)> = out.iter().map(|r| by_hand(m, &t.prompts[r.prompt_index], &r.tokens)).collect();
    let mut share = 0.0;
    for p in 0..t.prompts.len() {
        let mut votes: BTreeMap<String, usize> = BTreeMap::new();
        for r in out.iter().filter(|r| r.prompt_index == p) {
            if let Some(a) = t.answer(p, &r.tokens) {
                *votes.entry(a).or_default() += 1;
            }
        }
        share += *votes.values().max().unwrap_or(&0) as f64 / 64.0 / t.prompts.len() as f64;
    }
    (mean(&stats.iter().map(|s| s.0).collect::<Vec<_>>()), mean(&stats.iter().map(|s| s.1).collect::<Vec<_>>()), share)
}

/// Each reward alone, in the task-reward regime, from the fixture's weights: training seed 0
/// (the config), measuring seed 5.
#[test]
fn twelve_steps_move_what_each_self_reward_asks_for() {
    let before = measure(&load(false));
    for reward in ["self_certainty", "neg_entropy", "majority"] {
        let policy = load(true);
        let recs = run(&config(&format!("move-{reward}"), &["steps=12", &format!("reward=\"{reward}\"")]), &policy);
        assert_eq!(recs.len(), 12);
        let after = measure(&policy);
        eprintln!("{reward}: (self-certainty, entropy, majority share) {before:?} -> {after:?}");
        match reward {
            "self_certainty" => assert!(after.0 > before.0, "self-certainty {} -> {}", before.0, after.0),
            "neg_entropy" => assert!(after.1 < before.1, "entropy {} -> {}", before.1, after.1),
            _ => assert!(after.2 > before.2, "majority share {} -> {}", before.2, after.2),
        }
    }
}
