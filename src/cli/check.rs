//! `sharpen check`: the predictions P1–P7 on run logs.

use super::table::render_table;
use anyhow::{bail, Result};
use clap::Args;
use sharpen_analysis::{predictions, runs};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Run logs (JSONL files, or folders searched for *.jsonl); runs are grouped by the regime
    /// in their header.
    #[arg(long, num_args = 1.., required = true)]
    pub runs: Vec<PathBuf>,
    /// Print the checks as one JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &CheckArgs) -> Result<()> {
    let loaded = super::load_finished_runs(&args.runs)?;
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
