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
    /// A model response (or a bare answer, read as a response); its answer is extracted as
    /// Math-Verify does with the authors' call (boxed answers, "final answer is", "answer:", ...).
    #[arg(long, requires = "gold", conflicts_with = "cases")]
    pub pred: Option<String>,
    /// The gold answer, or a solution whose last \boxed{} holds it.
    #[arg(long, requires = "pred")]
    pub gold: Option<String>,
    /// JSONL file with one {"pred": ..., "gold": ...} per line; prints one {"correct": true|false} per line.
    #[arg(long)]
    pub cases: Option<PathBuf>,
    /// Also print what was extracted from each side and why they are (not) equal (after the
    /// verdict with --pred; on stderr, one block per case, with --cases).
    #[arg(long)]
    pub explain: bool,
}

/// One line of a `--cases` file; other keys (labels, notes) are ignored.
#[derive(Deserialize)]
struct CaseLine {
    pred: String,
    gold: String,
}

/// Print `true` or `false` for one prediction against one gold answer (then, with `explain`,
/// what each side extracted and why they are, or are not, equal).
pub fn verify_one(pred: &str, gold: &str, explain: bool) -> Result<()> {
    println!("{}", sharpen::verify::is_correct(pred, gold));
    if explain {
        print!("{}", explain_text(pred, gold));
    }
    Ok(())
}

fn explain_text(pred: &str, gold: &str) -> String {
    match sharpen::verify::gold_answer(gold) {
        Some(g) => sharpen::verify::explain(pred, &g),
        None => "gold: empty (scores 0)\n".to_string(),
    }
}

/// Print one `{"correct": bool}` per case line, in order. The whole file is checked first, so a
/// malformed line gives an error (with its line number) and no partial output.
pub fn verify_cases(path: &Path, explain: bool) -> Result<()> {
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
    for (i, c) in cases.iter().enumerate() {
        let correct = sharpen::verify::is_correct(&c.pred, &c.gold);
        writeln!(out, "{}", serde_json::json!({ "correct": correct }))?;
        if explain {
            eprint!("case {}: {correct}\n{}", i + 1, explain_text(&c.pred, &c.gold));
        }
    }
    out.flush()?;
    Ok(())
}

pub fn run(a: &VerifyArgs) -> Result<()> {
    match (&a.pred, &a.gold, &a.cases) {
        (Some(p), Some(g), None) => verify_one(p, g, a.explain),
        (None, None, Some(path)) => verify_cases(path, a.explain),
        _ => bail!("give either --pred and --gold, or --cases FILE"),
    }
}
