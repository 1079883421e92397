//! `sharpen train`: read the experiment, load the policy and its frozen reference, train.

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use sharpen::lm::LanguageModel;
use sharpen::model::LoadOptions;
use sharpen::task::math::{problems_from_spec, MathTask};
use sharpen::train::config::TrainConfig;
use sharpen::train::run_dir::{Claim, RunDir};
use sharpen::train::{self, Models, Task};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Experiment TOML files, applied in order (e.g. a model file then a regime file).
    #[arg(long = "config")]
    pub configs: Vec<PathBuf>,
    /// Override any key: --set lr=1e-6 --set mode=sampling (values parsed as TOML).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Continue from the last checkpoint in out_dir.
    #[arg(long)]
    pub resume: bool,
    /// Start afresh in an out_dir that holds an earlier run, deleting its log and checkpoints.
    #[arg(long, conflicts_with = "resume")]
    pub overwrite: bool,
    /// With --resume: accept settings that change the experiment (regime, seed, lr, …) and record
    /// the change in the log.
    #[arg(long, requires = "resume")]
    pub allow_config_change: bool,
    #[command(flatten)]
    pub device: super::DeviceFlags,
    /// The data folder (default: $SHARPEN_DATA, else data/ of the repository you are in).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Print the resolved configuration as TOML and exit.
    #[arg(long)]
    pub print_config: bool,
}

pub fn run(args: &TrainArgs) -> Result<()> {
    let cfg = TrainConfig::load(&args.configs, &args.set)?;
    if args.print_config {
        print!("{}", toml::to_string(&cfg)?);
        return Ok(());
    }
    // Claim out_dir before any model is loaded: a refusal costs nothing.
    let claim = Claim { resume: args.resume, overwrite: args.overwrite, allow_config_change: args.allow_config_change };
    let run_dir = RunDir::claim(&cfg, claim)?;
    // The config's bf16 is the GPU recipe: on the CPU (no fast bf16 matmul in candle) it is f32.
    let default = if cfg.dtype == "bf16" { "auto" } else { cfg.dtype.as_str() };
    let (device, dtype) = args.device.resolve(default)?;
    let model_dir = sharpen::hub::resolve_model(&cfg.model)?;
    let open = |trainable| {
        LanguageModel::open(&model_dir, &LoadOptions { dtype, device: device.clone(), trainable })
            .with_context(|| format!("loading {}", cfg.model.display()))
    };
    let policy = open(true)?;
    let reference = open(false)?;

    // The synthetic task makes one problem per prompt the run draws unless told how many.
    let steps_problems = match cfg.synthetic_problems {
        0 => (cfg.steps as usize).saturating_mul(cfg.prompts_per_step).clamp(1, sharpen::data::MAX_SYNTHETIC),
        n => n,
    };
    let train_problems = problems_from_spec(
        &cfg.train_data,
        steps_problems,
        cfg.synthetic_difficulty,
        cfg.seed,
        args.data_dir.as_deref(),
    )?;
    let train_task = MathTask::new(train_problems, &policy, cfg.prompt_style)?;
    let val_task = match cfg.val_data.as_str() {
        "" => None,
        spec => {
            // A separate seed keeps synthetic validation problems apart from training ones.
            let n = if cfg.val_problems > 0 { cfg.val_problems } else { 100 };
            let p = problems_from_spec(
                spec,
                n,
                cfg.synthetic_difficulty,
                cfg.seed ^ 0x5eed_0f_5a1,
                args.data_dir.as_deref(),
            )?;
            Some(MathTask::new(p, &policy, cfg.prompt_style)?)
        }
    };

    // Every prompt must leave room for a response under max_tokens: say so now, not mid-run.
    for (name, task) in std::iter::once(("training", &train_task)).chain(val_task.as_ref().map(|t| ("validation", t))) {
        if let Some(i) = (0..task.len()).find(|&i| cfg.response_budget(task.prompt(i).len()).is_err()) {
            let len = task.prompt(i).len();
            anyhow::bail!(
                "{name} problem {i}: its prompt has {len} tokens, no room for a response under max_tokens = {}",
                cfg.max_tokens
            );
        }
    }
    let checkpoint_files = ["config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"]
        .iter()
        .map(|f| model_dir.join(f))
        .filter(|p| p.exists())
        .collect();
    let models = Models {
        policy: &policy.model,
        reference: &reference.model,
        eos_ids: policy.eos_ids.clone(),
        checkpoint_files,
        name: cfg.model.display().to_string(),
    };

    let bar = ProgressBar::new(cfg.steps);
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {msg}  [{elapsed} < {eta}]")?);
    let mut on_step = |r: &sharpen_analysis::runlog::StepRecord| {
        bar.set_position(r.step + 1);
        let val = r.val_accuracy.map(|v| format!(" val {v:.3}")).unwrap_or_default();
        bar.set_message(format!("r {:.3} len {:.0} |g| {:.2}{val}", r.task_reward, r.length.mean, r.grad_norm));
    };
    let records = train::train(
        &cfg,
        &models,
        &train_task,
        val_task.as_ref().map(|t| t as &dyn train::Task),
        &run_dir,
        &mut on_step,
    )?;
    bar.finish();
    eprintln!("{} steps; log and checkpoints in {}", records.len(), cfg.out_dir.display());
    Ok(())
}
