//! The RLOO trainer on the tiny fixture model: it learns what the reward asks, sharpening
//! shortens responses, resuming is exact, and advantages behave.

use candle_core::{DType, Device, IndexOp, Tensor};
use sharpen::model::{LoadOptions, Model};
use sharpen::rollout::{sample, SamplingParams};
use sharpen::train::config::TrainConfig;
use sharpen::train::run_dir::{Claim, RunDir};
use sharpen::train::{train, Models, Task};
use std::path::PathBuf;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-llama")
}

fn load(trainable: bool) -> Model {
    load_as(DType::F32, trainable)
}

fn load_as(dtype: DType, trainable: bool) -> Model {
    Model::load(&fixture(), &LoadOptions { dtype, device: Device::Cpu, trainable }).unwrap()
}

const EOS: u32 = 2;

/// Two fixed prompts; the reward is the fraction of response tokens equal to `target`
/// (or, with `target = None`, nothing: a constant 0 task reward).
struct Prefer {
    prompts: Vec<Vec<u32>>,
    target: Option<u32>,
}

impl Task for Prefer {
    fn len(&self) -> usize {
        self.prompts.len()
    }
    fn prompt(&self, i: usize) -> &[u32] {
        &self.prompts[i]
    }
    fn score(&self, _i: usize, response: &[u32]) -> f64 {
        match self.target {
            Some(t) if !response.is_empty() => {
                response.iter().filter(|&&x| x == t).count() as f64 / response.len() as f64
            }
            _ => 0.0,
        }
    }
}

fn task(target: Option<u32>) -> Prefer {
    Prefer { prompts: vec![vec![5, 9, 33, 17], vec![12, 40, 41]], target }
}

fn config(out: &str, sets: &[&str]) -> TrainConfig {
    let dir = std::env::temp_dir().join(format!("sharpen-train-{}-{out}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut o: Vec<String> = vec![
        "prompts_per_step=2".into(),
        "samples_per_prompt=4".into(),
        "micro_batch=3".into(),
        "lr=1e-2".into(),
        "warmup_steps=0".into(),
        "max_new_tokens=8".into(),
        "val_every=0".into(),
        "checkpoint_every=1".into(),
        "seed=0".into(),
        // The task is given in code; a fixed synthetic count keeps `steps` bookkeeping on resume.
        "synthetic_problems=8".into(),
        format!("out_dir=\"{}\"", dir.display()),
    ];
    o.extend(sets.iter().map(|s| s.to_string()));
    TrainConfig::load(&[], &o).unwrap()
}

fn run(cfg: &TrainConfig, t: &Prefer, policy: &Model, resume: bool) -> Vec<sharpen::analysis::runlog::StepRecord> {
    let reference = load_as(policy.dtype(), false);
    let models = Models {
        policy,
        reference: &reference,
        eos_ids: vec![EOS],
        checkpoint_files: vec![],
        name: "tiny-llama".into(),
    };
    let claim = Claim { resume, ..Claim::default() };
    train(cfg, &models, t, None, &RunDir::claim(cfg, claim).unwrap(), &mut |_| {}).unwrap()
}

/// p(token | prompt) at the first response position.
fn first_token_prob(m: &Model, prompt: &[u32], token: u32) -> f32 {
    let ids = Tensor::new(prompt, &Device::Cpu).unwrap().unsqueeze(0).unwrap();
    let logits = m.forward_train(&ids, &[0]).unwrap().i((0, prompt.len() - 1)).unwrap();
    let p = candle_nn::ops::softmax(&logits.to_dtype(DType::F32).unwrap(), 0).unwrap();
    p.i(token as usize).unwrap().to_scalar::<f32>().unwrap()
}

/// The task reward averaged over 64 samples per prompt.
fn mean_reward(m: &Model, t: &Prefer) -> f64 {
    let params = SamplingParams { max_new_tokens: 8, seed: 5, ..SamplingParams::default() };
    let out = sample(m, &t.prompts, 64, &[EOS], &params).unwrap();
    out.iter().map(|r| t.score(r.prompt_index, &r.tokens)).sum::<f64>() / out.len() as f64
}

fn mean_length(m: &Model, seed: u64) -> f64 {
    let params = SamplingParams { max_new_tokens: 8, seed, ..SamplingParams::default() };
    let out = sample(m, &task(None).prompts, 64, &[EOS], &params).unwrap();
    out.iter().map(|r| r.tokens.len() as f64).sum::<f64>() / out.len() as f64
}

#[test]
fn task_reward_raises_the_preferred_tokens_probability() {
    let policy = load(true);
    let t = task(Some(7));
    let before = first_token_prob(&policy, &t.prompts[0], 7);
    let reward_before = mean_reward(&policy, &t);
    let cfg = config("prefer", &["steps=12"]);
    run(&cfg, &t, &policy, false);
    let after = first_token_prob(&policy, &t.prompts[0], 7);
    let reward_after = mean_reward(&policy, &t);
    assert!(after > 2.0 * before, "p(7) went from {before} to {after}");
    assert!(reward_after > 2.0 * reward_before, "task reward went from {reward_before} to {reward_after}");
}

#[test]
fn sharpening_shortens_responses() {
    let policy = load(true);
    let before = mean_length(&policy, 11);
    let cfg = config("sharpen", &["steps=8", "mode=\"optimization\"", "alpha=1.0", "beta_inv=0.0"]);
    run(&cfg, &task(None), &policy, false);
    let after = mean_length(&policy, 11);
    assert!(after < before - 1.0, "mean length went from {before} to {after}");
}

#[test]
fn resume_is_bit_exact() {
    let t = task(Some(7));
    let straight = load(true);
    let cfg = config("straight", &["steps=4", "mode=\"sampling\"", "alpha=2.0", "beta_inv=100.0"]);
    let a = run(&cfg, &t, &straight, false);

    let halves = load(true);
    let mut cfg2 = config("halves", &["steps=2", "mode=\"sampling\"", "alpha=2.0", "beta_inv=100.0"]);
    run(&cfg2, &t, &halves, false);
    // A fresh process would start from the initial weights: show resume restores them.
    let fresh = load(true);
    cfg2.steps = 4;
    let b = run(&cfg2, &t, &fresh, true);

    for ((n, v), (_, w)) in straight.named_vars().iter().zip(fresh.named_vars()) {
        let x = v.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let y = w.as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!(x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()), "{n} differs after resume");
    }
    let strip = |r: &sharpen::analysis::runlog::StepRecord| sharpen::analysis::runlog::StepRecord {
        wall_time_s: 0.0,
        ..r.clone()
    };
    assert_eq!(strip(&a[2]), strip(&b[0]));
    assert_eq!(strip(&a[3]), strip(&b[1]));
    let log = sharpen::analysis::runlog::RunLog::read(&cfg2.out_dir.join("log.jsonl")).unwrap();
    assert_eq!(log.steps.iter().map(|s| s.step).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
}

#[test]
fn equal_rewards_give_zero_advantages() {
    use sharpen::rollout::{Rollout, StopReason};
    let r = |i| Rollout {
        prompt_index: 0,
        sample_index: i,
        tokens: vec![3, 4],
        logprobs: vec![-1.0, -2.0],
        stop: StopReason::Length,
    };
    let regime = sharpen::toy::Regime::task_reward();
    let s = sharpen::train::group::score_groups(
        vec![r(0), r(1), r(2)],
        &[1.0, 1.0, 1.0],
        &[-3.0; 3],
        &[-3.0; 3],
        &regime,
        3,
    );
    assert!(s.iter().all(|x| x.advantage == 0.0));
    let s = sharpen::train::group::score_groups(
        vec![r(0), r(1), r(2)],
        &[1.0, 0.0, 0.0],
        &[-3.0; 3],
        &[-3.0; 3],
        &regime,
        3,
    );
    let adv: Vec<f64> = s.iter().map(|x| x.advantage).collect();
    assert_eq!(adv, vec![1.0, -0.5, -0.5]);
}

/// bf16 compute with f32 masters in the optimizer (the GPU recipe), run on the CPU: it learns
/// like f32, and a resumed run restores the masters (not the rounded weights) bit for bit.
#[test]
fn bf16_with_f32_masters_learns_and_resumes_exactly() {
    let t = task(Some(7));
    let policy = load_as(DType::BF16, true);
    let before = first_token_prob(&policy, &t.prompts[0], 7);
    run(&config("bf16-learn", &["steps=12"]), &t, &policy, false);
    let after = first_token_prob(&policy, &t.prompts[0], 7);
    assert!(after > 2.0 * before, "bf16: p(7) went from {before} to {after}");

    let sets = ["mode=\"sampling\"", "alpha=2.0", "beta_inv=100.0", "optimizer_state=\"bf16\""];
    let straight = load_as(DType::BF16, true);
    let cfg = config("bf16-straight", &[&["steps=4"][..], &sets].concat());
    run(&cfg, &t, &straight, false);
    let mut cfg2 = config("bf16-halves", &[&["steps=2"][..], &sets].concat());
    run(&cfg2, &t, &load_as(DType::BF16, true), false);
    let fresh = load_as(DType::BF16, true);
    cfg2.steps = 4;
    run(&cfg2, &t, &fresh, true);
    for ((n, v), (_, w)) in straight.named_vars().iter().zip(fresh.named_vars()) {
        let x = v.as_tensor().to_dtype(DType::F32).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let y = w.as_tensor().to_dtype(DType::F32).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        assert!(x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()), "{n} differs after resume");
    }
    let masters = |dir: &std::path::Path| {
        candle_core::safetensors::load(dir.join("last/optimizer.safetensors"), &Device::Cpu).unwrap()
    };
    let (a, b) = (masters(&cfg.out_dir), masters(&cfg2.out_dir));
    let name = "master.model.embed_tokens.weight";
    assert_eq!(a[name].dtype(), DType::F32);
    let (x, y) = (
        a[name].flatten_all().unwrap().to_vec1::<f32>().unwrap(),
        b[name].flatten_all().unwrap().to_vec1::<f32>().unwrap(),
    );
    assert_eq!(x, y, "the f32 masters differ after resume");
}

/// With eval_samples > 0 the run log gets Eval records (pass@k, maj@k, length) before the first
/// step, every eval_every steps and after the last — what `sharpen check`'s pass@k prediction reads.
#[test]
fn in_run_evaluation_writes_eval_records() {
    let t = task(Some(7));
    let policy = load(true);
    let reference = load(false);
    let cfg = config("evals", &["steps=4", "eval_samples=4", "eval_every=2", "eval_ks=[1, 2, 4, 8]"]);
    let models = Models {
        policy: &policy,
        reference: &reference,
        eos_ids: vec![EOS],
        checkpoint_files: vec![],
        name: "t".into(),
    };
    train(&cfg, &models, &t, Some(&t), &RunDir::claim(&cfg, Claim::default()).unwrap(), &mut |_| {}).unwrap();
    let log = sharpen::analysis::runlog::RunLog::read(&cfg.out_dir.join("log.jsonl")).unwrap();
    assert_eq!(log.evals.iter().map(|e| e.step).collect::<Vec<_>>(), vec![0, 2, 4]);
    for e in &log.evals {
        assert_eq!((e.problems, e.samples_per_problem), (2, 4));
        let keys: Vec<&str> = e.pass_at_k.keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["1", "2", "4"], "k = 8 exceeds the 4 samples");
        let p: Vec<f64> = ["1", "2", "4"].iter().map(|k| e.pass_at_k[*k]).collect();
        assert!(p.iter().all(|x| (0.0..=1.0).contains(x)) && p[0] <= p[1] && p[1] <= p[2], "{p:?}");
        assert!(e.maj_at_k.values().all(|&m| m == 0.0), "a task without answers has nothing to vote for");
        assert!(e.mean_length > 0.0);
    }
}

#[test]
fn control_is_exactly_still_at_step_0() {
    // Sampling mode, α = 1, β⁻¹ = 0: the reward is S − P. With P from the trainer's forward pass
    // (the path and batching of S) and the policy equal to the reference, it is exactly 0.
    let control = ["steps=1", "mode=\"sampling\"", "alpha=1.0", "beta_inv=0.0"];
    let policy = load(true);
    let rec = &run(&config("control", &control), &task(None), &policy, false)[0];
    assert_eq!(rec.grad_norm, 0.0);
    assert_eq!((rec.advantage.min, rec.advantage.max), (0.0, 0.0));
    assert_eq!((rec.regime_reward.min, rec.regime_reward.max), (0.0, 0.0));
    assert_eq!(rec.kl_ref, 0.0);
    // The sampler's own log-probs differ from the trainer's by rounding, and are logged beside P.
    let sampler = rec.sampler_logprob.expect("the sampler's log-likelihood is logged");
    assert!((sampler - rec.policy_logprob).abs() < 1e-2 * rec.length.mean.max(1.0));

    // P from the sampler (the old protocol): S − P is numerical noise, and AdamW-sized updates follow.
    let policy = load(true);
    let mut sets = control.to_vec();
    sets.push("policy_logprob=\"sampler\"");
    let rec = &run(&config("control-sampler", &sets), &task(None), &policy, false)[0];
    assert!(rec.grad_norm > 0.0 && rec.advantage.max > 0.0, "{rec:?}");
    assert!(rec.sampler_logprob.is_none());
}

#[test]
fn importance_correction_weighs_the_gradient() {
    // The same rollouts with and without the correction: the trainer's and sampler's log-probs
    // differ only by rounding here, so the gradients agree closely but not exactly.
    let t = task(Some(7));
    let with = &run(&config("tis-on", &["steps=1"]), &t, &load(true), false)[0];
    let without =
        &run(&config("tis-off", &["steps=1", "use_importance_sampling_correction=false"]), &t, &load(true), false)[0];
    assert_eq!(with.task_reward, without.task_reward, "same seed, same rollouts");
    let rel = (with.grad_norm - without.grad_norm).abs() / without.grad_norm;
    assert!(with.grad_norm > 0.0 && rel < 1e-2, "{} vs {}", with.grad_norm, without.grad_norm);
}
