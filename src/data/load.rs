//! Reading a dataset file into problems, counting the records without a gold answer.

use super::{DataError, Dataset, Problem};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// What a load found: every record is either loaded or listed as lacking a gold answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadSummary {
    pub dataset: Dataset,
    pub path: PathBuf,
    /// Non-empty lines (records) in the file.
    pub rows: usize,
    /// Records loaded with a gold answer.
    pub loaded: usize,
    /// 1-based line numbers of the records whose gold answer could not be extracted.
    pub without_gold: Vec<usize>,
}

impl std::fmt::Display for LoadSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} rows, {} with a gold answer, {} without",
            self.dataset,
            self.rows,
            self.loaded,
            self.without_gold.len()
        )?;
        if !self.without_gold.is_empty() {
            let shown: Vec<String> = self.without_gold.iter().take(10).map(|l| l.to_string()).collect();
            let more = if self.without_gold.len() > 10 { ", ..." } else { "" };
            write!(f, " (lines {}{more})", shown.join(", "))?;
        }
        Ok(())
    }
}

/// The problems of one file and the summary of the load.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub problems: Vec<Problem>,
    pub summary: LoadSummary,
}

/// Load a dataset file in the given layout. A line that is not a JSON object, or lacks the
/// problem text, is an error (the file is not in this layout); a record without an extractable
/// gold answer is skipped and listed in the summary.
pub fn load(dataset: Dataset, path: &Path) -> Result<Loaded, DataError> {
    let text = std::fs::read_to_string(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    let mut problems = Vec::new();
    let mut without_gold = Vec::new();
    let mut rows = 0;
    for (line_no, record) in records(&text, path)? {
        rows += 1;
        if !record.is_object() {
            return Err(DataError::Json { path: path.to_path_buf(), line: line_no, message: "not an object".into() });
        }
        let field = dataset.problem_field();
        let problem = record.get(field).and_then(Value::as_str).ok_or_else(|| DataError::MissingField {
            path: path.to_path_buf(),
            line: line_no,
            field,
            dataset: dataset.name(),
        })?;
        match dataset.gold(&record) {
            Some(gold) => problems.push(Problem {
                id: dataset.record_id(&record).unwrap_or_else(|| format!("{}/{line_no}", dataset.name())),
                problem: problem.to_string(),
                gold,
            }),
            None => without_gold.push(line_no),
        }
    }
    let summary = LoadSummary { dataset, path: path.to_path_buf(), rows, loaded: problems.len(), without_gold };
    Ok(Loaded { problems, summary })
}

/// The records of a file with their numbers: JSONL (one object per non-empty line, numbered by
/// line), or one JSON array (DeepScaleR's deepscaler.json; numbered by position from 1).
fn records(text: &str, path: &Path) -> Result<Vec<(usize, Value)>, DataError> {
    let json_err =
        |line, e: serde_json::Error| DataError::Json { path: path.to_path_buf(), line, message: e.to_string() };
    if text.trim_start().starts_with('[') {
        let all: Vec<Value> = serde_json::from_str(text).map_err(|e| json_err(e.line(), e))?;
        return Ok(all.into_iter().enumerate().map(|(i, v)| (i + 1, v)).collect());
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push((i + 1, serde_json::from_str(line).map_err(|e| json_err(i + 1, e))?));
    }
    Ok(out)
}
