//! `sharpen figures`: every exact-module figure, and the run-log figures when runs are given.

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use sharpen_analysis::figures::{self, llm, Figure};
use sharpen_analysis::{atomic, runs};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct FiguresArgs {
    /// Folder the figures are written to (created if missing).
    #[arg(long, default_value = "figures")]
    pub out: PathBuf,
    /// Run logs (JSONL files, or folders searched for *.jsonl) to draw training curves, pass@k
    /// curves and a results table from.
    #[arg(long, num_args = 1..)]
    pub runs: Vec<PathBuf>,
    /// Draw only the figure with this name (see `sharpen figures --list`).
    #[arg(long)]
    pub only: Option<String>,
    /// List the figures' names and what each shows, then exit.
    #[arg(long)]
    pub list: bool,
}

pub fn run(args: &FiguresArgs) -> Result<()> {
    let exact = figures::exact();
    if args.list {
        for f in &exact {
            println!("{:<44} {}", f.name, f.about);
        }
        println!("{:<44} from --runs: reward, validation accuracy and length over steps", llm::CURVES);
        println!("{:<44} from --runs: pass@k and maj@k per regime", llm::PASS_AT_K);
        println!("{:<44} from --runs: results table (Markdown and CSV)", llm::RESULTS);
        return Ok(());
    }
    let llm_names = [llm::CURVES, llm::PASS_AT_K, llm::RESULTS];
    if let Some(only) = &args.only {
        if !exact.iter().any(|f| f.name == only) && !llm_names.contains(&only.as_str()) {
            let names: Vec<&str> = exact.iter().map(|f| f.name).chain(llm_names).collect();
            bail!("unknown figure '{only}' (known: {})", names.join(", "));
        }
        if llm_names.contains(&only.as_str()) && args.runs.is_empty() {
            bail!("figure '{only}' is drawn from run logs: give --runs");
        }
    }
    sharpen_analysis::atomic::check_writable_dir(&args.out)
        .with_context(|| format!("--out {} is not a writable folder", args.out.display()))?;
    let wanted = |name: &str| args.only.as_deref().is_none_or(|o| o == name);
    let jobs: Vec<_> = exact.iter().filter(|f| wanted(f.name)).collect();
    let groups = if args.runs.is_empty() { Vec::new() } else { runs::group(&super::load_finished_runs(&args.runs)?) };
    let llm_jobs = if groups.is_empty() { 0 } else { llm_names.iter().filter(|n| wanted(n)).count() };

    let bar = ProgressBar::new((jobs.len() + llm_jobs) as u64);
    bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}").expect("valid template"));
    let write = |fig: &Figure| -> Result<()> {
        bar.set_message(fig.name.clone());
        figures::write(fig, &args.out).with_context(|| format!("writing figure {}", fig.name))?;
        bar.inc(1);
        Ok(())
    };
    for f in jobs {
        bar.set_message(f.name);
        write(&(f.build)())?;
    }
    if !groups.is_empty() {
        if wanted(llm::CURVES) {
            write(&llm::curves(&groups))?;
        }
        if wanted(llm::PASS_AT_K) {
            match llm::pass_at_k(&groups) {
                Some(fig) => write(&fig)?,
                None => {
                    bar.inc(1);
                    bar.println("no evaluation records in the runs: pass@k figure skipped");
                }
            }
        }
        if wanted(llm::RESULTS) {
            let t = llm::results(&groups);
            for (ext, text) in [("md", &t.markdown), ("csv", &t.csv)] {
                let path = args.out.join(format!("{}.{ext}", llm::RESULTS));
                atomic::write(&path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
            }
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    eprintln!("figures written to {}", args.out.display());
    Ok(())
}
