//! Problems with gold answers: the public math datasets in their JSONL layouts, a synthetic
//! arithmetic task, and the paper's chain-of-thought prompt.
//!
//! ```no_run
//! use sharpen::data::{data_dir, load, Dataset};
//! let ds = Dataset::Math500;
//! let loaded = load(ds, &ds.default_path(&data_dir(None).unwrap(), "test")).unwrap();
//! println!("{}", loaded.summary); // "math500: 500 rows, 500 with a gold answer, 0 without"
//! let prompt = sharpen::data::cot_prompt(&loaded.problems[0].problem);
//! ```

mod layout;
mod load;
mod prompt;
mod synthetic;

pub use layout::Dataset;
pub use load::{load, LoadSummary, Loaded};
pub use prompt::{cot_messages, cot_prompt, ChatMessage, COT_INSTRUCTION, COT_SUFFIX};
pub use synthetic::{arithmetic, MAX_DIFFICULTY, MAX_SYNTHETIC};

use std::path::{Path, PathBuf};

/// Environment variable naming the data folder (the one holding `gsm8k/`, `math/`, ...).
pub const DATA_ENV: &str = "SHARPEN_DATA";

/// One problem and its reference final answer (a bare answer, as `verify::is_equiv` takes it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    /// Stable identifier: the dataset's own id where it has one, else `name/line`.
    pub id: String,
    /// The problem statement, as given to the prompt.
    pub problem: String,
    /// The gold final answer.
    pub gold: String,
}

/// Errors reading a dataset. Records that merely lack a gold answer are not errors: they are
/// counted in [`LoadSummary`].
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("reading {path}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} line {line}: not a JSON object: {message}")]
    Json { path: PathBuf, line: usize, message: String },
    #[error("{path} line {line}: no text field `{field}` (is this the {dataset} layout?)")]
    MissingField { path: PathBuf, line: usize, field: &'static str, dataset: &'static str },
    #[error("unknown dataset `{0}` (expected gsm8k, math, math500, minerva, aime24, amc23, aime25 or deepscaler)")]
    UnknownDataset(String),
    #[error(
        "no data folder: pass --data-dir, set SHARPEN_DATA, or run inside the sharpen repository (looked above {cwd})"
    )]
    NoDataDir { cwd: PathBuf },
    #[error("{n} synthetic problems: the count must be in 1..={max}")]
    Count { n: usize, max: usize },
    #[error("difficulty {difficulty} out of range 1..={max}")]
    Difficulty { difficulty: u32, max: u32 },
}

/// The data folder, resolved at run time: `explicit` (a `--data-dir` flag) if given, else
/// `$SHARPEN_DATA`, else the `data/` folder of the repository the current directory is in (the
/// nearest ancestor holding both `Cargo.toml` and `data/`). Never a path from the build.
pub fn data_dir(explicit: Option<&Path>) -> Result<PathBuf, DataError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os(DATA_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let cwd = std::env::current_dir().map_err(|source| DataError::Io { path: PathBuf::from("."), source })?;
    cwd.ancestors()
        .find(|d| d.join("Cargo.toml").is_file() && d.join("data").is_dir())
        .map(|d| d.join("data"))
        .ok_or(DataError::NoDataDir { cwd })
}
