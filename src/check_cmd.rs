//! `sharpen check`: the predictions P1–P6 on run logs.

use crate::cli::CheckArgs;
use crate::table::render_table;
use anyhow::{bail, Context, Result};
use sharpen_analysis::{predictions, runs};

pub fn run(args: &CheckArgs) -> Result<()> {
    let loaded = runs::load(&args.runs).context("reading run logs")?;
    if loaded.is_empty() {
        bail!("no run logs (*.jsonl) found under the given paths");
    }
    let groups = runs::group(&loaded);
    if groups.is_empty() {
        bail!("none of the {} run logs has a run header naming its regime", loaded.len());
    }
    let checks = predictions::check_all(&groups);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
        return Ok(());
    }
    print!("{}", render_table(&predictions::verdict_table(&checks)));
    if checks.is_empty() {
        println!("(no prediction applies to the regimes of these runs)");
    }
    Ok(())
}
