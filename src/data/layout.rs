//! The field layouts of the public datasets, and where each keeps its gold answer.

use super::DataError;
use crate::verify::{after_hashes, last_boxed};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A dataset layout (see the data folder's README for the fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dataset {
    /// `question`, `answer` (final answer after `####`).
    Gsm8k,
    /// Hendrycks MATH: `problem`, `solution` (answer in the last `\boxed{}`), `unique_id`.
    Math,
    /// MATH-500: `problem`, `solution`, `answer`.
    Math500,
    /// Minerva OCW: `problem`, `solution` (answer in the last `\boxed{}`), `idx`.
    Minerva,
    /// AIME 2024: `id`, `problem`, `answer` (a string).
    Aime24,
    /// AMC 2023: `id`, `problem`, `answer` (a JSON number).
    Amc23,
    /// AIME 2025 as the authors load it (opencompass/AIME2025, parts I and II): `question`,
    /// `answer` (a string).
    Aime25,
    /// DeepScaleR-Preview (agentica-org), the Qwen3-4B runs' training set: one JSON array
    /// (deepscaler.json) of `problem`, `answer`, `solution`; the gold is `answer`.
    Deepscaler,
}

impl Dataset {
    pub const ALL: [Dataset; 8] = [
        Dataset::Gsm8k,
        Dataset::Math,
        Dataset::Math500,
        Dataset::Minerva,
        Dataset::Aime24,
        Dataset::Amc23,
        Dataset::Aime25,
        Dataset::Deepscaler,
    ];

    /// The name used on the command line and as the data sub-folder.
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Gsm8k => "gsm8k",
            Dataset::Math => "math",
            Dataset::Math500 => "math500",
            Dataset::Minerva => "minerva",
            Dataset::Aime24 => "aime24",
            Dataset::Amc23 => "amc23",
            Dataset::Aime25 => "aime25",
            Dataset::Deepscaler => "deepscaler",
        }
    }

    /// The splits present in the data folder (none for the layouts whose data are not shipped).
    pub fn splits(self) -> &'static [&'static str] {
        match self {
            Dataset::Gsm8k | Dataset::Math => &["train", "test"],
            Dataset::Aime25 | Dataset::Deepscaler => &[],
            _ => &["test"],
        }
    }

    /// `<data_dir>/<name>/<split>.jsonl`.
    pub fn default_path(self, data_dir: &Path, split: &str) -> PathBuf {
        data_dir.join(self.name()).join(format!("{split}.jsonl"))
    }

    /// The field holding the problem statement.
    pub(crate) fn problem_field(self) -> &'static str {
        match self {
            Dataset::Gsm8k | Dataset::Aime25 => "question",
            _ => "problem",
        }
    }

    /// The dataset's own identifier of a record, if it has one.
    pub(crate) fn record_id(self, record: &Value) -> Option<String> {
        let field = match self {
            Dataset::Math => "unique_id",
            Dataset::Minerva => "idx",
            Dataset::Aime24 | Dataset::Amc23 => "id",
            Dataset::Gsm8k | Dataset::Math500 | Dataset::Aime25 | Dataset::Deepscaler => return None,
        };
        match record.get(field)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The gold final answer of a record, or `None` if it has none that can be extracted.
    pub(crate) fn gold(self, record: &Value) -> Option<String> {
        let text = |f: &str| record.get(f).and_then(Value::as_str);
        let gold = match self {
            Dataset::Gsm8k => after_hashes(text("answer")?),
            Dataset::Math | Dataset::Minerva => last_boxed(text("solution")?),
            Dataset::Math500 | Dataset::Aime24 | Dataset::Aime25 | Dataset::Deepscaler => {
                text("answer").map(str::to_string)
            }
            Dataset::Amc23 => match record.get("answer")? {
                Value::Number(n) => number_answer(n),
                Value::String(s) => Some(s.clone()),
                _ => None,
            },
        }?;
        let gold = gold.trim();
        (!gold.is_empty()).then(|| gold.to_string())
    }
}

/// `27.0` -> `27`; other numbers as JSON prints them.
fn number_answer(n: &serde_json::Number) -> Option<String> {
    if let Some(i) = n.as_i64() {
        return Some(i.to_string());
    }
    let x = n.as_f64()?;
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        Some(format!("{}", x as i64))
    } else {
        Some(n.to_string())
    }
}

impl FromStr for Dataset {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        Dataset::ALL
            .into_iter()
            .find(|d| d.name() == lower || (lower == "math-500" && *d == Dataset::Math500))
            .ok_or_else(|| DataError::UnknownDataset(s.to_string()))
    }
}

impl std::fmt::Display for Dataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
