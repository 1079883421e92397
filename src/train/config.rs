//! The experiment file: a flat TOML table whose keys mirror the paper's configuration.
//! Every key has the paper's default and can be overridden on the command line with
//! `--set key=value` (the value is parsed as TOML, so `--set lr=1e-6 --set ignore_eos=true`).

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sharpen_toy::{Mode, Normalization, Regime};
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
    /// How many validation problems to use (0 = all).
    pub val_problems: usize,
    /// Difficulty of the synthetic arithmetic task when `train_data = "synthetic"`.
    pub synthetic_difficulty: u32,
    /// `cot` (the paper's prompt) or `answer_prefix` (for very small models).
    pub prompt_style: super::math_task::PromptStyle,

    // The regime (DESIGN §1).
    pub mode: String,
    pub alpha: f64,
    pub beta_inv: f64,
    pub normalization: String,
    pub weight: f64,

    // RLOO and the optimiser (paper: 32 × 8, AdamW 5e-6, wd 0.01, warm-up 50 steps from 0.1, clip 1.0).
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

    // Rollouts.
    /// Cap on prompt + response tokens.
    pub max_tokens: usize,
    /// Cap on response tokens (0 = max_tokens minus the prompt).
    pub max_new_tokens: usize,
    pub temperature: f64,
    pub top_p: f64,
    /// The paper's fixed-length variant: EOS is ignored in training rollouts.
    pub ignore_eos: bool,

    // Bookkeeping.
    pub val_every: u64,
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
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            model: PathBuf::from("models/SmolLM2-135M-Instruct"),
            train_data: "synthetic".into(),
            val_data: String::new(),
            val_problems: 0,
            synthetic_difficulty: 1,
            prompt_style: super::math_task::PromptStyle::Cot,
            mode: "optimization".into(),
            alpha: 0.0,
            beta_inv: 1.0,
            normalization: "sum".into(),
            weight: 1.0,
            steps: 234,
            prompts_per_step: 32,
            samples_per_prompt: 8,
            micro_batch: 8,
            lr: 5e-6,
            weight_decay: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            warmup_steps: 50,
            warmup_start: 0.1,
            clip: 1.0,
            max_tokens: 2048,
            max_new_tokens: 0,
            temperature: 1.0,
            top_p: 1.0,
            ignore_eos: false,
            val_every: 20,
            val_samples: 1,
            checkpoint_every: 20,
            eval_samples: 0,
            eval_every: 0,
            eval_ks: vec![1, 2, 4, 8, 16],
            seed: 0,
            out_dir: PathBuf::from("runs/default"),
            dtype: "f32".into(),
            optimizer_state: "f32".into(),
            activation_checkpoint: 1,
            head_chunk: 1024,
        }
    }
}

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

    fn validate(&self) -> Result<()> {
        self.regime()?;
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
        crate::model::BackwardOptions { checkpoint_every: self.activation_checkpoint, head_chunk: self.head_chunk }
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
        let c = TrainConfig::default();
        assert_eq!((c.prompts_per_step, c.samples_per_prompt), (32, 8));
        assert_eq!((c.lr, c.weight_decay, c.clip, c.warmup_steps), (5e-6, 0.01, 1.0, 50));
        assert_eq!(c.regime().unwrap(), Regime::task_reward());
    }

    #[test]
    fn overrides_are_typed_and_checked() {
        let c = TrainConfig::load(&[], &["lr=1e-6".into(), "ignore_eos=true".into(), "mode=sampling".into()]).unwrap();
        assert_eq!(c.lr, 1e-6);
        assert!(c.ignore_eos);
        assert_eq!(c.mode, "sampling");
        assert!(TrainConfig::load(&[], &["no_such_key=1".into()]).is_err());
        assert!(TrainConfig::load(&[], &["alpha=-1".into()]).is_err());
        assert!(TrainConfig::load(&[], &["lr".into()]).is_err());
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
    fn warmup_is_linear_then_constant() {
        let c = TrainConfig::default();
        assert!((c.lr_at(0) - 0.1 * c.lr).abs() < 1e-20);
        assert!((c.lr_at(25) - 0.55 * c.lr).abs() < 1e-18);
        assert_eq!(c.lr_at(50), c.lr);
        assert_eq!(c.lr_at(500), c.lr);
    }
}
