//! The run-log schema shared by the toy trainer and the LLM trainer: JSONL, one record per line.
//!
//! A log starts with one `run` record (what was run), then one `step` record per optimiser step,
//! one `eval` record per evaluation and a `val` record for the validation before the first step
//! (later validations ride on their step's record). Logs are appended and flushed line by line, so an
//! interrupted run keeps every completed step.

use serde::{Deserialize, Serialize};
use sharpen_toy::Regime;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    Run(RunHeader),
    Step(StepRecord),
    Eval(EvalRecord),
    Val(ValRecord),
}

/// A validation outside a step: the accuracy before any update (the authors' `val_at_start`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValRecord {
    /// Optimiser steps taken before this validation.
    pub step: u64,
    /// Mean task reward over the validation samples.
    pub accuracy: f64,
    pub problems: usize,
    pub samples_per_problem: usize,
    pub wall_time_s: f64,
}

/// What was run: enough to group runs by regime and seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunHeader {
    /// "toy" or "llm".
    pub source: String,
    /// Scenario name (toy) or model path/name (LLM).
    pub model: String,
    pub regime: Regime,
    pub seed: u64,
    /// Free-form configuration (learning rate, samples per prompt, …). One key is read back:
    /// `"ignore_eos": true` (or `"fixed_length": true`) marks the paper's fixed-length variant,
    /// which the prediction checks group apart (P5).
    #[serde(default)]
    pub config: BTreeMap<String, serde_json::Value>,
}

/// mean / std / min / max of a batch quantity (defined once, in the toy crate's trainer).
pub use sharpen_toy::dynamics::train::Moments as Summary;

/// Response lengths in a step: summary plus the fraction that hit the token cap.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct LengthSummary {
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub clipped_fraction: f64,
}

/// One optimiser step. Log-likelihoods are per response (summed over its tokens), averaged
/// over the batch; `entropy` is the per-token estimate −P/L averaged over responses; `kl_ref` is
/// the sequence-level estimate mean(P − S).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: u64,
    /// Mean task reward r (accuracy on the training batch).
    pub task_reward: f64,
    /// The regime's reward (DESIGN §1) over the batch.
    pub regime_reward: Summary,
    pub advantage: Summary,
    pub length: LengthSummary,
    pub ref_logprob: f64,
    pub policy_logprob: f64,
    /// The sampler's own log-likelihood of the responses (mean over the batch), when P came from
    /// the trainer's forward pass: policy_logprob − sampler_logprob is the numerical gap the
    /// importance correction weighs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampler_logprob: Option<f64>,
    pub entropy: f64,
    pub kl_ref: f64,
    /// Gradient norm before clipping.
    pub grad_norm: f64,
    /// Whether clipping scaled the gradient on this step.
    pub clipped: bool,
    pub lr: f64,
    /// Validation accuracy when this step ran validation.
    #[serde(default)]
    pub val_accuracy: Option<f64>,
    /// Seconds since the start of the run.
    pub wall_time_s: f64,
}

/// One evaluation: n samples per problem on one dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalRecord {
    pub step: u64,
    pub dataset: String,
    pub problems: usize,
    pub samples_per_problem: usize,
    /// k → pass@k (unbiased estimator), as strings for JSON object keys.
    pub pass_at_k: BTreeMap<String, f64>,
    pub maj_at_k: BTreeMap<String, f64>,
    pub mean_length: f64,
    pub wall_time_s: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum RunLogError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}:{line}: malformed record: {message}")]
    Malformed { path: String, line: usize, message: String },
}

/// A whole log, split by kind.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunLog {
    pub header: Option<RunHeader>,
    pub steps: Vec<StepRecord>,
    pub evals: Vec<EvalRecord>,
    pub vals: Vec<ValRecord>,
}

impl RunLog {
    pub fn from_records(records: Vec<Record>) -> Self {
        let mut log = RunLog::default();
        for r in records {
            match r {
                Record::Run(h) => log.header = Some(h),
                Record::Step(s) => log.steps.push(s),
                Record::Eval(e) => log.evals.push(e),
                Record::Val(v) => log.vals.push(v),
            }
        }
        log
    }

    /// Read a JSONL log; a malformed line is an error naming the file and line number.
    pub fn read(path: &Path) -> Result<Self, RunLogError> {
        let p = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|source| RunLogError::Io { path: p.clone(), source })?;
        let mut records = Vec::new();
        for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
            let line = line.map_err(|source| RunLogError::Io { path: p.clone(), source })?;
            if line.trim().is_empty() {
                continue;
            }
            let rec: Record = serde_json::from_str(&line).map_err(|e| RunLogError::Malformed {
                path: p.clone(),
                line: i + 1,
                message: e.to_string(),
            })?;
            records.push(rec);
        }
        Ok(Self::from_records(records))
    }
}

/// Appends records to a JSONL log, flushing every line.
pub struct RunLogWriter {
    file: std::io::BufWriter<std::fs::File>,
}

impl RunLogWriter {
    /// Create (truncate) or append to the log at `path`.
    pub fn open(path: &Path, append: bool) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let file = std::fs::OpenOptions::new().create(true).write(true).append(append).truncate(!append).open(path)?;
        Ok(Self { file: std::io::BufWriter::new(file) })
    }

    pub fn write(&mut self, record: &Record) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.file, record)?;
        self.file.write_all(b"\n")?;
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(i: u64) -> StepRecord {
        StepRecord {
            step: i,
            task_reward: 0.5,
            regime_reward: Summary::of(&[1.0, 2.0]),
            advantage: Summary::of(&[-0.5, 0.5]),
            length: LengthSummary { mean: 3.0, min: 2.0, max: 4.0, clipped_fraction: 0.0 },
            ref_logprob: -5.0,
            policy_logprob: -4.0,
            sampler_logprob: None,
            entropy: 1.2,
            kl_ref: 1.0,
            grad_norm: 2.0,
            clipped: true,
            lr: 1e-3,
            val_accuracy: None,
            wall_time_s: 0.1,
        }
    }

    #[test]
    fn round_trip_and_line_numbers() {
        let dir = std::env::temp_dir().join(format!("sharpen-runlog-{}", std::process::id()));
        let path = dir.join("run.jsonl");
        let mut w = RunLogWriter::open(&path, false).unwrap();
        let header = RunHeader {
            source: "toy".into(),
            model: "many-paths".into(),
            regime: Regime::sharpening(),
            seed: 3,
            config: BTreeMap::new(),
        };
        w.write(&Record::Run(header.clone())).unwrap();
        w.write(&Record::Step(step(0))).unwrap();
        w.write(&Record::Step(step(1))).unwrap();
        drop(w);
        let log = RunLog::read(&path).unwrap();
        assert_eq!(log.header, Some(header));
        assert_eq!(log.steps, vec![step(0), step(1)]);

        std::fs::write(&path, "{\"kind\":\"step\"}\n").unwrap();
        let mut content = std::fs::read_to_string(&path).unwrap();
        content = format!("{}\n{}", serde_json::to_string(&Record::Step(step(0))).unwrap(), content);
        std::fs::write(&path, content).unwrap();
        let err = RunLog::read(&path).unwrap_err().to_string();
        assert!(err.contains(":2: malformed"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
