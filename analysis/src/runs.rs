//! Loading run logs from files or folders and grouping them by the regime in their header.

use crate::runlog::{RunLog, RunLogError};
use sharpen_toy::{Mode, Regime, RewardSource};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One run log with where it came from.
#[derive(Debug, Clone)]
pub struct Run {
    pub path: PathBuf,
    pub log: RunLog,
}

impl Run {
    pub fn regime(&self) -> Option<Regime> {
        self.log.header.as_ref().map(|h| h.regime)
    }

    /// Whether the run ignored EOS (the paper's fixed-length variant): the header's config key
    /// `ignore_eos` (or `fixed_length`) set to true.
    pub fn fixed_length(&self) -> bool {
        let Some(h) = &self.log.header else { return false };
        ["ignore_eos", "fixed_length"].iter().any(|k| h.config.get(*k).and_then(|v| v.as_bool()).unwrap_or(false))
    }

    /// Whether the log stops short of the steps its header's config planned (`steps`): a run
    /// still going, or interrupted and not yet resumed. A log without that key counts as whole.
    pub fn unfinished(&self) -> bool {
        let Some(h) = &self.log.header else { return false };
        let Some(planned) = h.config.get("steps").and_then(|v| v.as_u64()) else { return false };
        self.log.steps.iter().map(|s| s.step + 1).max().unwrap_or(0) < planned
    }

    /// Where the regime's r came from: the header's config key `reward` (docs/design.md §1a);
    /// absent (logs from before the key existed, toy runs) or unreadable means the task reward.
    pub fn reward_source(&self) -> RewardSource {
        let Some(h) = &self.log.header else { return RewardSource::Task };
        h.config.get("reward").and_then(|v| v.as_str()).and_then(|s| s.parse().ok()).unwrap_or_default()
    }
}

/// Which of the paper's regimes a point of the grid is (docs/design.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    Task,
    Sharpening,
    Tempered,
    Control,
    Tilted,
    /// Optimization mode with both α > 0 and β⁻¹ > 0: not one of the paper's regimes.
    Other,
}

pub fn family(r: &Regime) -> Family {
    match r.mode {
        Mode::None => Family::Task,
        Mode::Optimization if r.beta_inv > 0.0 && r.alpha == 0.0 => Family::Task,
        Mode::Optimization if r.beta_inv == 0.0 => Family::Sharpening,
        Mode::Optimization => Family::Other,
        Mode::Sampling if r.beta_inv > 0.0 => Family::Tilted,
        Mode::Sampling if r.alpha == 1.0 => Family::Control,
        Mode::Sampling => Family::Tempered,
    }
}

/// Runs sharing one regime, reward source and fixed-length flag: the seeds of one experiment.
#[derive(Debug, Clone)]
pub struct Group {
    /// Regime name, with " reward=<source>" appended for a self-reward and " fixed-length" for
    /// runs that ignored EOS.
    pub name: String,
    pub regime: Regime,
    pub reward: RewardSource,
    pub family: Family,
    pub fixed_length: bool,
    pub runs: Vec<Run>,
}

/// Read every `*.jsonl` under each path (a file is read as is), sorted by path.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Run>, RunLogError> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files)?;
    }
    files.sort();
    files.dedup();
    files.into_iter().map(|path| Ok(Run { log: RunLog::read(&path)?, path })).collect()
}

/// The runs whose logs hold every planned step, and the paths of the others ([`Run::unfinished`]):
/// a sweep read while it runs must not count its half-done runs as seeds.
pub fn split_unfinished(runs: Vec<Run>) -> (Vec<Run>, Vec<PathBuf>) {
    let (unfinished, done): (Vec<Run>, Vec<Run>) = runs.into_iter().partition(Run::unfinished);
    (done, unfinished.into_iter().map(|r| r.path).collect())
}

fn collect(p: &Path, out: &mut Vec<PathBuf>) -> Result<(), RunLogError> {
    let io = |source| RunLogError::Io { path: p.display().to_string(), source };
    if p.is_dir() {
        for entry in std::fs::read_dir(p).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.is_dir() || path.extension().is_some_and(|e| e == "jsonl") {
                collect(&path, out)?;
            }
        }
        Ok(())
    } else if p.exists() {
        out.push(p.to_path_buf());
        Ok(())
    } else {
        Err(io(std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder")))
    }
}

/// Group runs by regime and reward source; runs without a header are skipped (they cannot be
/// attributed).
pub fn group(runs: &[Run]) -> Vec<Group> {
    let mut groups: BTreeMap<(Family, String), Group> = BTreeMap::new();
    for run in runs {
        let Some(regime) = run.regime() else { continue };
        let fixed = run.fixed_length();
        let reward = run.reward_source();
        let source = if reward == RewardSource::Task { String::new() } else { format!(" reward={reward}") };
        let name = format!("{}{source}{}", regime.name(), if fixed { " fixed-length" } else { "" });
        groups
            .entry((family(&regime), name.clone()))
            .or_insert_with(|| Group {
                name,
                regime,
                reward,
                family: family(&regime),
                fixed_length: fixed,
                runs: Vec::new(),
            })
            .runs
            .push(run.clone());
    }
    groups.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_of_the_paper_regimes() {
        assert_eq!(family(&Regime::task_reward()), Family::Task);
        assert_eq!(family(&Regime::sharpening()), Family::Sharpening);
        assert_eq!(family(&Regime::control()), Family::Control);
        assert_eq!(family(&Regime::tempered(2.0).unwrap()), Family::Tempered);
        assert_eq!(family(&Regime::tilted(1.0, 100.0).unwrap()), Family::Tilted);
    }
}
