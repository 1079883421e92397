//! `sharpen verify`: check one prediction, or a JSONL file of cases, against gold answers.

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Deserialize;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["pred", "cases"])))]
pub struct VerifyArgs {
    /// A response or bare answer; its last \boxed{} (or `####`, "the answer is") is used if present.
    #[arg(long, requires = "gold", conflicts_with = "cases")]
    pub pred: Option<String>,
    /// The gold answer, or a solution whose last \boxed{} holds it.
    #[arg(long, requires = "pred")]
    pub gold: Option<String>,
    /// JSONL file with one {"pred": ..., "gold": ...} per line; prints one {"correct": true|false} per line.
    #[arg(long)]
    pub cases: Option<PathBuf>,
}

/// One line of a `--cases` file; other keys (labels, notes) are ignored.
#[derive(Deserialize)]
struct CaseLine {
    pred: String,
    gold: String,
}

/// Print `true` or `false` for one prediction against one gold answer.
pub fn verify_one(pred: &str, gold: &str) -> Result<()> {
    println!("{}", sharpen::verify::is_correct(pred, gold));
    Ok(())
}

/// Print one `{"correct": bool}` per case line, in order. The whole file is checked first, so a
/// malformed line gives an error (with its line number) and no partial output.
pub fn verify_cases(path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<CaseLine>(line) {
            Ok(c) => cases.push(c),
            Err(e) => bail!("{} line {}: expected {{\"pred\": ..., \"gold\": ...}}: {e}", path.display(), i + 1),
        }
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for c in &cases {
        let correct = sharpen::verify::is_correct(&c.pred, &c.gold);
        writeln!(out, "{}", serde_json::json!({ "correct": correct }))?;
    }
    out.flush()?;
    Ok(())
}

pub fn run(a: &VerifyArgs) -> Result<()> {
    match (&a.pred, &a.gold, &a.cases) {
        (Some(p), Some(g), None) => verify_one(p, g),
        (None, None, Some(path)) => verify_cases(path),
        _ => bail!("give either --pred and --gold, or --cases FILE"),
    }
}
