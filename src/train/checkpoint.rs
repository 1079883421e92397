//! Checkpoints: policy weights, AdamW moments and the trainer's position, written atomically.
//!
//! Randomness needs no saved state: every step draws from streams keyed by (seed, step), so the
//! step number is all a resumed run needs to continue exactly where it stopped.

use super::optim::AdamW;
use crate::model::Model;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// The next step to run.
    pub step: u64,
    /// AdamW's step counter.
    pub adam_t: u64,
    pub seed: u64,
    /// Best validation accuracy so far and its step.
    pub best_val: Option<(f64, u64)>,
}

pub fn dir(out_dir: &Path, name: &str) -> PathBuf {
    out_dir.join(name)
}

/// Write `name` (e.g. "last" or "best") under `out_dir`: a temporary folder renamed into place,
/// so a crash never leaves a half-written checkpoint. `extra` files (config.json, tokenizer…)
/// are copied in so that the checkpoint is a model folder that `sharpen eval` can open.
pub fn save(
    out_dir: &Path,
    name: &str,
    model: &Model,
    opt: &AdamW,
    state: &TrainerState,
    extra: &[PathBuf],
) -> Result<()> {
    let final_dir = dir(out_dir, name);
    let tmp = out_dir.join(format!(".{name}.tmp"));
    // A full disk leaves no half checkpoint behind; a crash between the renames leaves `.NAME.old`.
    sharpen_analysis::atomic::replace_dir(&final_dir, &tmp, |tmp| write_files(tmp, model, opt, state, extra))
        .with_context(|| format!("writing checkpoint {}", final_dir.display()))
}

fn write_files(tmp: &Path, model: &Model, opt: &AdamW, state: &TrainerState, extra: &[PathBuf]) -> Result<()> {
    std::fs::create_dir_all(tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let weights = tmp.join("model.safetensors");
    candle_core::safetensors::save(&model.tensors(), &weights).with_context(|| weights.display().to_string())?;
    let opt_state: std::collections::HashMap<String, candle_core::Tensor> = opt.state()?.into_iter().collect();
    let moments = tmp.join("optimizer.safetensors");
    candle_core::safetensors::save(&opt_state, &moments).with_context(|| moments.display().to_string())?;
    let trainer = tmp.join("trainer.json");
    std::fs::write(&trainer, serde_json::to_vec_pretty(state)?).with_context(|| trainer.display().to_string())?;
    for f in extra {
        if let Some(n) = f.file_name() {
            std::fs::copy(f, tmp.join(n)).with_context(|| format!("copying {}", f.display()))?;
        }
    }
    Ok(())
}

/// Restore weights and optimizer moments from `name`; returns the trainer state.
pub fn load(out_dir: &Path, name: &str, model: &Model, opt: &mut AdamW) -> Result<TrainerState> {
    let mut d = dir(out_dir, name);
    if !d.exists() {
        // A crash between the two renames of `save` leaves the previous checkpoint here.
        d = out_dir.join(format!(".{name}.old"));
    }
    if !d.exists() {
        bail!("no checkpoint '{name}' in {} to resume from", out_dir.display());
    }
    let trainer = d.join("trainer.json");
    let bytes = std::fs::read(&trainer).with_context(|| format!("reading {}", trainer.display()))?;
    let state: TrainerState =
        serde_json::from_slice(&bytes).with_context(|| format!("{}: malformed", trainer.display()))?;
    let path = d.join("model.safetensors");
    let weights = candle_core::safetensors::load(&path, model.device())
        .with_context(|| format!("reading checkpoint {}", path.display()))?;
    for (n, v) in model.named_vars() {
        let w = weights.get(n).with_context(|| format!("checkpoint lacks weight {n}"))?;
        v.set(&w.to_dtype(v.dtype())?)?;
    }
    let path = d.join("optimizer.safetensors");
    let moments = candle_core::safetensors::load(&path, model.device())
        .with_context(|| format!("reading checkpoint {}", path.display()))?;
    opt.load_state(&moments, state.adam_t)?;
    Ok(state)
}
