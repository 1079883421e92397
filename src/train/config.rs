//! The experiment file: a flat TOML table whose keys mirror the paper's configuration.
//! Every key has the paper's default and can be overridden on the command line with
//! `--set key=value` (the value is parsed as TOML, so `--set lr=1e-6 --set ignore_eos=true`).

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sharpen_toy::{Mode, Normalization, Regime, RewardSource};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Hugging Face folder or .gguf file of the policy (and the frozen reference).
    pub model: PathBuf,
    /// Training problems: a dataset JSONL (see `sharpen::data`) or `synthetic`.
    pub train_data: String,
    /// Validation problems (same forms); empty = no validation.
    pub val_data: String,
    /// How many validation problems to use (0 = the whole split, as the authors do; a smaller
    /// number subsamples for small machines: the first N problems).
    pub val_problems: usize,
    /// Difficulty of the synthetic arithmetic task when `train_data = "synthetic"`.
    pub synthetic_difficulty: u32,
    /// How many synthetic training problems to make (0 = one per prompt the run draws:
    /// steps × prompts_per_step, so that then `steps` also decides the problem set).
    pub synthetic_problems: usize,
    /// `cot` (the paper's prompt) or `answer_prefix` (for very small models).
    pub prompt_style: crate::task::math::PromptStyle,

    // The regime (docs/design.md §1).
    pub mode: String,
    pub alpha: f64,
    pub beta_inv: f64,
    pub normalization: String,
    pub weight: f64,
    /// Where the regime's r comes from (docs/design.md §1a): `task` (the task's verdict, the
    /// paper), or a self-reward that needs no verifier: `self_certainty` (mean over response
    /// positions of KL(U ‖ π(·|y<t))), `neg_entropy` (minus the mean token entropy) or
    /// `majority` (1 when the response's answer is its Group's most common one). The regime's
    /// other terms stay as they are.
    pub reward: String,

    // RLOO and the optimiser (the authors' rloo_math_lighteval.yaml: 500 steps of 32 × 8, AdamW
    // lr 1e-6, wd 0.01, betas 0.9/0.999, eps 1e-8, warm-up over 50 steps from 0.1, clip 1.0).
    pub steps: u64,
    pub prompts_per_step: usize,
    pub samples_per_prompt: usize,
    pub micro_batch: usize,
    pub lr: f64,
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub warmup_steps: u64,
    pub warmup_start: f64,
    pub clip: f64,
    /// Where P, the policy's log-likelihood in the regime's reward, comes from: "trainer" (the
    /// trainer's forward pass, the code path, dtype and batching of S, as the authors compute it;
    /// S − P is exactly 0 while the weights equal the reference's) or "sampler" (the log-probs the
    /// sampler reported while decoding; differs from S by numerical noise of ~1e-3 nats).
    pub policy_logprob: String,
    /// Weight each token's loss by the truncated importance ratio
    /// min(exp(P_trainer − P_sampler), truncated_importance_sampling_ratio) (the authors' `tis`).
    pub use_importance_sampling_correction: bool,
    pub truncated_importance_sampling_ratio: f64,

    // Rollouts.
    /// Cap on prompt + response tokens, per row: each response may use max_tokens minus its own
    /// prompt (the authors' max_total_sequence_length).
    pub max_tokens: usize,
    /// A further cap on response tokens (0 = none beyond max_tokens).
    pub max_new_tokens: usize,
    pub temperature: f64,
    pub top_p: f64,
    /// The paper's fixed-length variant: EOS is ignored in training rollouts (and in validation,
    /// which shares the training generation settings in the authors' code).
    pub ignore_eos: bool,

    // Bookkeeping.
    /// Steps between validations (0 = none but at start and end).
    pub val_every: u64,
    /// Validate before the first step (as a `val` record of the run log).
    pub val_at_start: bool,
    /// Validate after the last step.
    pub val_at_end: bool,
    /// Samples per validation problem.
    pub val_samples: usize,
    pub checkpoint_every: u64,
    /// Samples per validation problem for the in-run evaluation (pass@k, maj@k as Eval records
    /// of the run log, before the first step, every `eval_every` steps and after the last);
    /// 0 = none.
    pub eval_samples: usize,
    /// Steps between in-run evaluations (0 = only before the first and after the last step).
    pub eval_every: u64,
    /// The k of pass@k and maj@k (those above eval_samples are skipped).
    pub eval_ks: Vec<usize>,
    pub seed: u64,
    pub out_dir: PathBuf,
    /// Compute dtype: "f32" (CPU) or "bf16" (GPU; f32 master weights live in the optimizer).
    pub dtype: String,
    /// dtype of AdamW's moments: "f32", or "bf16" to save 4 bytes per parameter.
    pub optimizer_state: String,
    /// Layers per activation-checkpoint segment in the backward (0 = keep the whole graph).
    pub activation_checkpoint: usize,
    /// Tokens whose vocabulary-wide logits exist at one time in the loss and in scoring.
    pub head_chunk: usize,
    /// candle's composed differentiable ops instead of the fused kernels in the backward (a way
    /// around a device where a fused kernel misbehaves; the results agree to rounding).
    pub composed_ops: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            model: PathBuf::from("models/SmolLM2-135M-Instruct"),
            train_data: "synthetic".into(),
            val_data: String::new(),
            val_problems: 0,
            synthetic_difficulty: 1,
            synthetic_problems: 0,
            prompt_style: crate::task::math::PromptStyle::Cot,
            mode: "optimization".into(),
            alpha: 0.0,
            beta_inv: 1.0,
            normalization: "sum".into(),
            weight: 1.0,
            reward: "task".into(),
            steps: 500,
            prompts_per_step: 32,
            samples_per_prompt: 8,
            micro_batch: 4,
            lr: 1e-6,
            weight_decay: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            warmup_steps: 50,
            warmup_start: 0.1,
            clip: 1.0,
            policy_logprob: "trainer".into(),
            use_importance_sampling_correction: true,
            truncated_importance_sampling_ratio: 20.0,
            max_tokens: 2048,
            max_new_tokens: 0,
            temperature: 1.0,
            top_p: 1.0,
            ignore_eos: false,
            val_every: 20,
            val_at_start: true,
            val_at_end: true,
            val_samples: 1,
            checkpoint_every: 20,
            eval_samples: 0,
            eval_every: 0,
            eval_ks: vec![1, 2, 4, 8, 16],
            seed: 42,
            out_dir: PathBuf::from("runs/default"),
            dtype: "f32".into(),
            optimizer_state: "f32".into(),
            activation_checkpoint: 1,
            head_chunk: 1024,
            composed_ops: false,
        }
    }
}

/// The most optimiser steps a run may ask for (keeps steps × prompts from overflowing).
pub const MAX_STEPS: u64 = 1_000_000_000;

impl TrainConfig {
    /// Read TOML files in order (later keys win; none = the defaults), then apply `key=value` overrides.
    pub fn load(paths: &[PathBuf], overrides: &[String]) -> Result<Self> {
        let mut table = toml::Table::new();
        for p in paths {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
            let t = text.parse::<toml::Table>().with_context(|| format!("{}: malformed TOML", p.display()))?;
            table.extend(t);
        }
        for o in overrides {
            let Some((k, v)) = o.split_once('=') else { bail!("--set expects key=value, got '{o}'") };
            let key = k.trim().to_string();
            table.insert(key, parse_value(v.trim()));
        }
        let cfg: TrainConfig = table.try_into().context("invalid experiment configuration")?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// The regime this run trains with — the one definition from the toy crate.
    pub fn regime(&self) -> Result<Regime> {
        let mode: Mode = self.mode.parse()?;
        let norm = Normalization::parse(&self.normalization, self.weight)?;
        Ok(Regime::new(mode, self.alpha, self.beta_inv, norm)?)
    }

    /// The source of the regime's r.
    pub fn reward_source(&self) -> Result<RewardSource> {
        Ok(self.reward.parse()?)
    }

    fn validate(&self) -> Result<()> {
        self.regime()?;
        self.reward_source()?;
        if self.prompts_per_step == 0 || self.samples_per_prompt < 2 {
            bail!("need prompts_per_step >= 1 and samples_per_prompt >= 2 (leave-one-out needs a group)");
        }
        if self.micro_batch == 0 {
            bail!("micro_batch must be >= 1");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            bail!("lr must be > 0, got {}", self.lr);
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) || !(0.0 < self.top_p && self.top_p <= 1.0) {
            bail!("need temperature > 0 and top_p in (0, 1]");
        }
        if !(self.clip > 0.0) {
            bail!("clip must be > 0");
        }
        if !(1..=MAX_STEPS).contains(&self.steps) {
            bail!("steps must be in 1..={MAX_STEPS}, got {}", self.steps);
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            bail!("eps must be > 0 (AdamW divides by sqrt(v) + eps), got {}", self.eps);
        }
        if !((0.0..1.0).contains(&self.beta1) && (0.0..1.0).contains(&self.beta2)) {
            bail!("beta1 and beta2 must be in [0, 1), got {} and {}", self.beta1, self.beta2);
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            bail!("weight_decay must be >= 0, got {}", self.weight_decay);
        }
        if !(0.0..=1.0).contains(&self.warmup_start) {
            bail!("warmup_start must be in [0, 1] (a fraction of lr), got {}", self.warmup_start);
        }
        if self.out_dir.as_os_str().is_empty() {
            bail!("out_dir must name a folder");
        }
        if self.eval_ks.contains(&0) {
            bail!("eval_ks must be >= 1, got {:?}", self.eval_ks);
        }
        if self.max_tokens == 0 {
            bail!("max_tokens must be >= 1 (prompt + response tokens per row)");
        }
        if self.policy_logprob != "trainer" && self.policy_logprob != "sampler" {
            bail!("policy_logprob must be trainer or sampler, got '{}'", self.policy_logprob);
        }
        if !(self.truncated_importance_sampling_ratio.is_finite() && self.truncated_importance_sampling_ratio > 0.0) {
            bail!("truncated_importance_sampling_ratio must be > 0, got {}", self.truncated_importance_sampling_ratio);
        }
        if self.dtype != "f32" && self.dtype != "bf16" {
            bail!("dtype must be f32 or bf16, got '{}'", self.dtype);
        }
        self.optimizer_state_dtype()?;
        if self.head_chunk == 0 {
            bail!("head_chunk must be >= 1");
        }
        Ok(())
    }

    pub fn optimizer_state_dtype(&self) -> Result<candle_core::DType> {
        match self.optimizer_state.as_str() {
            "f32" => Ok(candle_core::DType::F32),
            "bf16" => Ok(candle_core::DType::BF16),
            o => bail!("optimizer_state must be f32 or bf16, got '{o}'"),
        }
    }

    /// How the policy-gradient backward bounds its memory.
    pub fn backward(&self) -> crate::model::BackwardOptions {
        crate::model::BackwardOptions {
            checkpoint_every: self.activation_checkpoint,
            head_chunk: self.head_chunk,
            composed_ops: self.composed_ops,
            profile: false,
        }
    }

    /// The response cap of a row whose prompt has `prompt_len` tokens: max_tokens minus the
    /// prompt (and at most max_new_tokens when that is set). Err when the prompt leaves no room.
    pub fn response_budget(&self, prompt_len: usize) -> Result<usize> {
        let room = self.max_tokens.saturating_sub(prompt_len);
        if room == 0 {
            bail!(
                "a prompt of {prompt_len} tokens leaves no room for a response under max_tokens = {}",
                self.max_tokens
            );
        }
        Ok(if self.max_new_tokens > 0 { room.min(self.max_new_tokens) } else { room })
    }

    /// The configuration as the run log records it: paths relative to where the run started
    /// (when they lie below it), so a committed log names no machine's folders.
    pub fn as_logged(&self) -> TrainConfig {
        TrainConfig { model: relative(&self.model), out_dir: relative(&self.out_dir), ..self.clone() }
    }

    /// Linear warm-up from `warmup_start`·lr to lr over `warmup_steps`, then constant.
    pub fn lr_at(&self, step: u64) -> f64 {
        if step >= self.warmup_steps || self.warmup_steps == 0 {
            return self.lr;
        }
        let frac = step as f64 / self.warmup_steps as f64;
        self.lr * (self.warmup_start + (1.0 - self.warmup_start) * frac)
    }
}

/// `p` relative to the current directory when it lies below it, else `p` itself.
pub fn relative(p: &std::path::Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    p.strip_prefix(&cwd).map(PathBuf::from).unwrap_or_else(|_| p.to_path_buf())
}

/// A `--set` value is TOML if it parses as one (numbers, booleans, arrays), a string otherwise.
fn parse_value(v: &str) -> toml::Value {
    format!("x = {v}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("x"))
        .unwrap_or_else(|| toml::Value::String(v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_mirror_the_paper() {
        // The authors' rloo_math_lighteval.yaml (sarthmit/dist_sharpening, HEAD 1bf5837).
        let c = TrainConfig::default();
        assert_eq!((c.prompts_per_step, c.samples_per_prompt, c.steps, c.seed), (32, 8, 500, 42));
        assert_eq!((c.lr, c.weight_decay, c.clip, c.warmup_steps, c.warmup_start), (1e-6, 0.01, 1.0, 50, 0.1));
        assert_eq!((c.beta1, c.beta2, c.eps), (0.9, 0.999, 1e-8));
        assert_eq!((c.max_tokens, c.max_new_tokens, c.temperature, c.top_p), (2048, 0, 1.0, 1.0));
        assert!(c.use_importance_sampling_correction);
        assert_eq!(c.truncated_importance_sampling_ratio, 20.0);
        assert_eq!(c.policy_logprob, "trainer");
        assert_eq!((c.val_every, c.val_at_start, c.val_at_end, c.val_problems, c.val_samples), (20, true, true, 0, 1));
        assert_eq!((c.micro_batch, c.checkpoint_every), (4, 20));
        assert_eq!(c.regime().unwrap(), Regime::task_reward());
        assert_eq!(c.reward_source().unwrap(), RewardSource::Task);
    }

    #[test]
    fn each_row_gets_its_own_budget() {
        let c = TrainConfig::default();
        assert_eq!(c.response_budget(100).unwrap(), 1948);
        assert_eq!(c.response_budget(600).unwrap(), 1448);
        assert!(c.response_budget(2048).is_err());
        let c = TrainConfig { max_new_tokens: 16, ..TrainConfig::default() };
        assert_eq!(c.response_budget(100).unwrap(), 16);
    }

    #[test]
    fn overrides_are_typed_and_checked() {
        let c = TrainConfig::load(&[], &["lr=1e-6".into(), "ignore_eos=true".into(), "mode=sampling".into()]).unwrap();
        assert_eq!(c.lr, 1e-6);
        assert!(c.ignore_eos);
        assert_eq!(c.mode, "sampling");
        let c = TrainConfig::load(&[], &["reward=majority".into()]).unwrap();
        assert_eq!(c.reward_source().unwrap(), RewardSource::Majority);
        assert!(TrainConfig::load(&[], &["no_such_key=1".into()]).is_err());
        assert!(TrainConfig::load(&[], &["alpha=-1".into()]).is_err());
        assert!(TrainConfig::load(&[], &["lr".into()]).is_err());
        for bad in [
            "lr=0",
            "lr=-1e-6",
            "max_tokens=0",
            "truncated_importance_sampling_ratio=0",
            "policy_logprob=cache",
            "reward=entropy",
        ] {
            let e = TrainConfig::load(&[], &[bad.into()]).unwrap_err();
            assert!(!format!("{e:#}").contains('\n'), "{bad}: a one-line error");
        }
    }

    #[test]
    fn every_committed_config_parses() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs");
        let models: Vec<_> = std::fs::read_dir(root.join("paper/models")).unwrap().map(|e| e.unwrap().path()).collect();
        let regimes: Vec<_> =
            std::fs::read_dir(root.join("paper/regimes")).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(regimes.len(), 17);
        for m in &models {
            for r in &regimes {
                let c = TrainConfig::load(&[m.clone(), r.clone()], &[]).unwrap();
                c.regime().unwrap();
            }
        }
    }

    #[test]
    fn paper_configs_carry_the_authors_numbers() {
        // rloo_math_lighteval.yaml, its _fixed variant and rloo_deepscaler_4096/8192.yaml.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/paper/models");
        let load = |f: &str| TrainConfig::load(&[root.join(f)], &[]).unwrap();
        for (file, fixed) in [
            ("qwen2.5-3b.toml", false),
            ("llama-3.2-3b.toml", false),
            ("qwen2.5-3b-fixed-length.toml", true),
            ("llama-3.2-3b-fixed-length.toml", true),
        ] {
            let c = load(file);
            assert_eq!((c.steps, c.prompts_per_step, c.samples_per_prompt, c.micro_batch), (500, 32, 8, 4), "{file}");
            assert_eq!((c.train_data.as_str(), c.val_data.as_str()), ("math/train.jsonl", "math/test.jsonl"), "{file}");
            assert_eq!(
                (c.val_problems, c.val_samples, c.val_every, c.val_at_start, c.val_at_end),
                (0, 1, 20, true, true)
            );
            assert_eq!((c.max_tokens, c.max_new_tokens, c.ignore_eos), (2048, 0, fixed), "{file}");
            assert_eq!(c.optimizer_state, "f32", "{file}");
        }
        for (file, tokens) in [("qwen3-4b.toml", 4096), ("qwen3-4b-8192.toml", 8192)] {
            let c = load(file);
            assert_eq!((c.steps, c.prompts_per_step, c.samples_per_prompt, c.micro_batch), (1000, 64, 8, 2), "{file}");
            assert_eq!(
                (c.train_data.as_str(), c.val_data.as_str()),
                ("deepscaler/deepscaler.json", "aime24/test.jsonl")
            );
            assert_eq!((c.max_tokens, c.ignore_eos, c.val_samples, c.val_every), (tokens, false, 1, 20), "{file}");
        }
        // What every paper run shares: the optimizer, schedule, estimator and sampling.
        for e in std::fs::read_dir(&root).unwrap() {
            let c = TrainConfig::load(&[e.unwrap().path()], &[]).unwrap();
            assert_eq!((c.lr, c.weight_decay, c.beta1, c.beta2, c.eps), (1e-6, 0.01, 0.9, 0.999, 1e-8));
            assert_eq!((c.warmup_steps, c.warmup_start, c.clip, c.seed), (50, 0.1, 1.0, 42));
            assert_eq!((c.temperature, c.top_p, c.policy_logprob.as_str()), (1.0, 1.0, "trainer"));
            assert!(c.use_importance_sampling_correction);
            assert_eq!(c.truncated_importance_sampling_ratio, 20.0);
            assert_eq!((c.dtype.as_str(), c.checkpoint_every), ("bf16", 20));
        }
    }

    #[test]
    fn warmup_is_linear_then_constant() {
        let c = TrainConfig::default();
        assert!((c.lr_at(0) - 0.1 * c.lr).abs() < 1e-20);
        assert!((c.lr_at(25) - 0.55 * c.lr).abs() < 1e-18);
        assert_eq!(c.lr_at(50), c.lr);
        assert_eq!(c.lr_at(500), c.lr);
    }
}
