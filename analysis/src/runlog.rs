//! The run-log schema shared by the toy trainer and the LLM trainer: JSONL, one record per line.
//!
//! A log starts with one `run` record (what was run), then one `step` record per optimiser step,
//! one `eval` record per evaluation and a `val` record for the validation before the first step
//! (later validations ride on their step's record). Logs are appended and flushed line by line, so an
//! interrupted run keeps every completed step.

use serde::{Deserialize, Serialize};
use sharpen_toy::Regime;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    Run(RunHeader),
    Step(StepRecord),
    Eval(EvalRecord),
    Val(ValRecord),
    ConfigChange(ConfigChangeRecord),
}

/// Settings a resumed run changed (allowed with `--allow-config-change`): from `step` on, the
/// run continued with the new values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigChangeRecord {
    pub step: u64,
    /// key → [old, new]
    pub changes: BTreeMap<String, [serde_json::Value; 2]>,
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
    /// The regime's reward (docs/design.md §1) over the batch.
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
    /// The self-reward quantities over the batch (docs/design.md §1a), where the trainer computed
    /// them: mean over responses of the mean over positions of KL(U ‖ π(·|y<t)) …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_certainty: Option<f64>,
    /// … and of H(π(·|y<t)) in nats (the exact per-position entropy, where `entropy` is the
    /// sampled −P/L);
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_entropy: Option<f64>,
    /// the mean majority pseudo-label (the fraction of responses agreeing with their Group's
    /// most common answer, tied answers sharing);
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub majority_agreement: Option<f64>,
    /// and the mean over Groups of the task reward of the majority answer (maj@K of the Group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub majority_accuracy: Option<f64>,
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
    pub config_changes: Vec<ConfigChangeRecord>,
    /// The line number of a torn last line (a write cut short), which reading skipped.
    pub torn_tail: Option<usize>,
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
                Record::ConfigChange(c) => log.config_changes.push(c),
            }
        }
        log
    }

    /// Read a JSONL log. A malformed line is an error naming the file and line number, except a
    /// torn last line (no newline after it: a write cut short), which is skipped and reported in
    /// `torn_tail`. Step records must come in strictly increasing order.
    pub fn read(path: &Path) -> Result<Self, RunLogError> {
        let (records, torn_tail) = read_lines(path)?;
        let mut last_step: Option<u64> = None;
        for (line, _, rec) in &records {
            if let Record::Step(s) = rec {
                if last_step.is_some_and(|l| s.step <= l) {
                    return Err(RunLogError::Malformed {
                        path: path.display().to_string(),
                        line: *line,
                        message: format!(
                            "step {} after step {} (duplicated or out of order)",
                            s.step,
                            last_step.unwrap()
                        ),
                    });
                }
                last_step = Some(s.step);
            }
        }
        let mut log = Self::from_records(records.into_iter().map(|(_, _, r)| r).collect());
        log.torn_tail = torn_tail;
        Ok(log)
    }
}

/// The records of a log with their line numbers and raw text, and the number of a torn last line.
fn read_lines(path: &Path) -> Result<(Vec<(usize, String, Record)>, Option<usize>), RunLogError> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| RunLogError::Io { path: p.clone(), source })?;
    let text = String::from_utf8_lossy(&bytes);
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut records = Vec::new();
    let mut torn = None;
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(rec) => records.push((i + 1, line.to_string(), rec)),
            Err(_) if i + 1 == lines.len() && !complete => torn = Some(i + 1),
            Err(e) => return Err(RunLogError::Malformed { path: p.clone(), line: i + 1, message: e.to_string() }),
        }
    }
    Ok((records, torn))
}

/// Cut a log back to the records `keep` accepts, in their order and byte for byte as they were
/// written (so a resumed run's log equals an uninterrupted one's), dropping a torn last line.
/// Returns the torn line's number, if there was one. The file is replaced atomically.
pub fn truncate(path: &Path, keep: impl Fn(&Record) -> bool) -> Result<Option<usize>, RunLogError> {
    let (records, torn) = read_lines(path)?;
    let mut out = String::new();
    for (_, raw, rec) in &records {
        if keep(rec) {
            out.push_str(raw);
            out.push('\n');
        }
    }
    crate::atomic::write(path, out.as_bytes())
        .map_err(|source| RunLogError::Io { path: path.display().to_string(), source })?;
    Ok(torn)
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
            self_certainty: None,
            token_entropy: None,
            majority_agreement: None,
            majority_accuracy: None,
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

    fn line(r: &Record) -> String {
        serde_json::to_string(r).unwrap() + "\n"
    }

    #[test]
    fn a_torn_tail_is_skipped_and_truncation_keeps_bytes_and_order() {
        let path = std::env::temp_dir().join(format!("sharpen-runlog-torn-{}.jsonl", std::process::id()));
        let mut s2 = step(2);
        s2.entropy = 0.1 + 0.2; // 0.30000000000000004: must survive byte for byte
        let eval = |step| {
            Record::Eval(EvalRecord {
                step,
                dataset: "d".into(),
                problems: 1,
                samples_per_problem: 1,
                pass_at_k: BTreeMap::new(),
                maj_at_k: BTreeMap::new(),
                mean_length: 1.0,
                wall_time_s: 0.0,
            })
        };
        let whole = [Record::Step(step(0)), eval(1), Record::Step(step(1)), Record::Step(s2.clone()), eval(3)];
        let mut text: String = whole.iter().map(line).collect();
        text.push_str("{\"kind\":\"step\",\"ste"); // a write cut short by a full disk
        std::fs::write(&path, &text).unwrap();
        let log = RunLog::read(&path).unwrap();
        assert_eq!((log.steps.len(), log.evals.len(), log.torn_tail), (3, 2, Some(6)));
        assert_eq!(log.steps[2].entropy, s2.entropy);
        // Keep what belongs before step 2's checkpoint: order and bytes unchanged, tail gone.
        let torn = truncate(&path, |r| match r {
            Record::Step(s) => s.step < 2,
            Record::Eval(e) => e.step <= 2,
            _ => true,
        })
        .unwrap();
        assert_eq!(torn, Some(6));
        let want: String = whole[..3].iter().map(line).collect();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), want);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn duplicated_or_out_of_order_steps_are_refused_with_the_line() {
        let path = std::env::temp_dir().join(format!("sharpen-runlog-dup-{}.jsonl", std::process::id()));
        for order in [[0, 1, 1], [0, 2, 1]] {
            let text: String = order.iter().map(|&i| line(&Record::Step(step(i)))).collect();
            std::fs::write(&path, text).unwrap();
            let e = RunLog::read(&path).unwrap_err().to_string();
            assert!(e.contains(":3:") && e.contains("out of order"), "{e}");
        }
        std::fs::remove_file(&path).unwrap();
    }
}
