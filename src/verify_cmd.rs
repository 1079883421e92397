//! `sharpen verify`: check one prediction, or a JSONL file of cases, against gold answers.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::io::Write;
use std::path::Path;

/// One line of a `--cases` file; other keys (labels, notes) are ignored.
#[derive(Deserialize)]
struct CaseLine {
    pred: String,
    gold: String,
}

/// Print `true` or `false` for one prediction against one gold answer (then, with `explain`,
/// what each side extracted and why they are, or are not, equal).
pub fn verify_one(pred: &str, gold: &str, explain: bool) -> Result<()> {
    println!("{}", crate::verify::is_correct(pred, gold));
    if explain {
        print!("{}", explain_text(pred, gold));
    }
    Ok(())
}

fn explain_text(pred: &str, gold: &str) -> String {
    match crate::verify::gold_answer(gold) {
        Some(g) => crate::verify::explain(pred, &g),
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
        let correct = crate::verify::is_correct(&c.pred, &c.gold);
        writeln!(out, "{}", serde_json::json!({ "correct": correct }))?;
        if explain {
            eprint!("case {}: {correct}\n{}", i + 1, explain_text(&c.pred, &c.gold));
        }
    }
    out.flush()?;
    Ok(())
}
