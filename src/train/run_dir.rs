//! A run directory that owns itself: one trainer at a time (a lock file with the owner's pid),
//! no fresh run over an old one's log and checkpoints unless asked, and no silent change of the
//! experiment on `--resume`. Claimed before any model is loaded, so a refusal costs nothing.

use super::config::TrainConfig;
use anyhow::{bail, Context, Result};
use sharpen_analysis::runlog::RunLog;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How a run may use its out_dir.
#[derive(Debug, Clone, Copy, Default)]
pub struct Claim {
    /// Continue from `last/` (the config must describe the same experiment).
    pub resume: bool,
    /// Start afresh in a folder that holds an earlier run, deleting its log and checkpoints.
    pub overwrite: bool,
    /// On resume, accept settings that change the experiment, and record the change in the log.
    pub allow_config_change: bool,
}

/// Keys a resumed run may change freely: they decide how long, how often and in what pieces the
/// run works, not what it learns.
const BOOKKEEPING: [&str; 14] = [
    "steps",
    "out_dir",
    "checkpoint_every",
    "micro_batch",
    "head_chunk",
    "activation_checkpoint",
    "eval_every",
    "eval_samples",
    "eval_ks",
    "val_every",
    "val_problems",
    "val_samples",
    "val_at_start",
    "val_at_end",
];

/// A claimed run directory; the lock is released when this is dropped.
#[derive(Debug)]
pub struct RunDir {
    pub path: PathBuf,
    pub resume: bool,
    /// Settings that differ from the resumed run's header (key → [old, new]), when allowed.
    pub config_changes: BTreeMap<String, [serde_json::Value; 2]>,
    lock: PathBuf,
}

impl RunDir {
    /// Lock `cfg.out_dir` for this process and check that `claim` fits what is there.
    pub fn claim(cfg: &TrainConfig, claim: Claim) -> Result<RunDir> {
        let path = cfg.out_dir.clone();
        std::fs::create_dir_all(&path).with_context(|| format!("creating out_dir {}", path.display()))?;
        let lock = take_lock(&path)?;
        let mut run = RunDir { path, resume: claim.resume, config_changes: BTreeMap::new(), lock };
        clean_leftovers(&run.path);
        let log = run.path.join("log.jsonl");
        let has_run = log.exists() || run.path.join("last").exists() || run.path.join("best").exists();
        if claim.resume {
            if !run.path.join("last").exists() && !run.path.join(".last.old").exists() {
                bail!("{}: no checkpoint 'last' to resume from", run.path.display());
            }
            run.config_changes = config_changes(&log, cfg)?;
            if !run.config_changes.is_empty() && !claim.allow_config_change {
                let keys: Vec<&str> = run.config_changes.keys().map(String::as_str).collect();
                bail!(
                    "{}: --resume with settings that change the experiment ({}); pass --allow-config-change to record the change and go on",
                    run.path.display(),
                    keys.join(", ")
                );
            }
        } else if has_run {
            if !claim.overwrite {
                bail!(
                    "{} holds an earlier run (log.jsonl or checkpoints); pass --resume to continue it or --overwrite to replace it",
                    run.path.display()
                );
            }
            for name in ["log.jsonl", "last", "best"] {
                let p = run.path.join(name);
                let removed = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
                if p.exists() {
                    removed.with_context(|| format!("removing the earlier run's {}", p.display()))?;
                }
            }
        }
        Ok(run)
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.lock);
    }
}

/// Create `.lock` holding our pid; a lock whose process is gone is stale and taken over.
fn take_lock(dir: &Path) -> Result<PathBuf> {
    let lock = dir.join(".lock");
    for _ in 0..2 {
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&lock) {
            Ok(mut f) => {
                use std::io::Write;
                write!(f, "{}", std::process::id()).with_context(|| format!("writing {}", lock.display()))?;
                return Ok(lock);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let owner = std::fs::read_to_string(&lock).unwrap_or_default();
                let pid: Option<u32> = owner.trim().parse().ok();
                if pid.is_some_and(alive) {
                    bail!("{} is in use by another run (pid {})", dir.display(), owner.trim());
                }
                eprintln!("note: {}: taking over a stale lock (pid {} is gone)", dir.display(), owner.trim());
                std::fs::remove_file(&lock).with_context(|| format!("removing the stale {}", lock.display()))?;
            }
            Err(e) => return Err(e).with_context(|| format!("creating {} (is out_dir writable?)", lock.display())),
        }
    }
    bail!("{}: could not take the lock", dir.display())
}

/// Whether a process with this pid exists (Linux's /proc; elsewhere assume it does).
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// Temporary folders a killed checkpoint write leaves behind.
fn clean_leftovers(dir: &Path) {
    for name in [".last.tmp", ".best.tmp"] {
        let p = dir.join(name);
        if p.exists() && std::fs::remove_dir_all(&p).is_ok() {
            eprintln!("note: removed {} left by an interrupted checkpoint", p.display());
        }
    }
}

/// The settings in which `cfg` differs from the header of the log it resumes, bookkeeping aside.
fn config_changes(log: &Path, cfg: &TrainConfig) -> Result<BTreeMap<String, [serde_json::Value; 2]>> {
    if !log.exists() {
        return Ok(BTreeMap::new());
    }
    let old = RunLog::read(log)?.header.map(|h| h.config).unwrap_or_default();
    let serde_json::Value::Object(new) = serde_json::to_value(cfg.as_logged())? else { bail!("config is not a table") };
    let mut changes = BTreeMap::new();
    // With synthetic_problems = 0 the synthetic problem set is sized by steps: then steps counts.
    let steps_decide_data = cfg.train_data == "synthetic" && cfg.synthetic_problems == 0;
    for (k, v) in &new {
        if BOOKKEEPING.contains(&k.as_str()) && !(k == "steps" && steps_decide_data) {
            continue;
        }
        // A key the old header lacks counts as a change: its default may not be what that run
        // did. Except `reward`: before the key existed every run trained on the task reward.
        let absent = if k == "reward" { serde_json::json!("task") } else { serde_json::Value::Null };
        let o = old.get(k).cloned().unwrap_or(absent);
        if &o != v {
            changes.insert(k.clone(), [o, v.clone()]);
        }
    }
    Ok(changes)
}
