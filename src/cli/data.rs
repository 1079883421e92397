//! `sharpen data`: load a dataset (or generate the synthetic task) and show what a trainer sees.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DataArgs {
    /// gsm8k | math | math500 | minerva | aime24 | amc23 | aime25 | deepscaler | arith (the synthetic task).
    #[arg(long)]
    pub dataset: String,
    /// Split file in the data folder: train or test.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// The data folder (default: $SHARPEN_DATA, else data/ of the repository you are in).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Read this JSONL file instead of <data folder>/<dataset>/<split>.jsonl.
    #[arg(long)]
    pub path: Option<PathBuf>,
    /// Synthetic task only: number of problems.
    #[arg(long, default_value_t = 100)]
    pub n: usize,
    /// Synthetic task only: difficulty 1..=10 (operands = difficulty + 1, sizes up to 10·difficulty).
    #[arg(long, default_value_t = 3)]
    pub difficulty: u32,
    /// Synthetic task only: seed of the generator.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print this many problems as the paper's prompt text with their gold answers.
    #[arg(long, default_value_t = 1)]
    pub show: usize,
}

/// Load a dataset or generate the synthetic task; print the load summary and a few prompts.
pub fn run(a: &DataArgs) -> Result<()> {
    use sharpen::data::{arithmetic, cot_prompt, data_dir, load, Dataset};
    let problems = if a.dataset == "arith" {
        let problems = arithmetic(a.n, a.difficulty, a.seed)?;
        println!("arith: {} problems, difficulty {}, seed {}", problems.len(), a.difficulty, a.seed);
        problems
    } else {
        let ds: Dataset = a.dataset.parse()?;
        let path = match &a.path {
            Some(p) => p.clone(),
            None => ds.default_path(&data_dir(a.data_dir.as_deref())?, &a.split),
        };
        let loaded = load(ds, &path)?;
        println!("{}", loaded.summary);
        loaded.problems
    };
    for p in problems.iter().take(a.show) {
        println!("--- {} (gold: {})\n{}", p.id, p.gold, cot_prompt(&p.problem));
    }
    Ok(())
}
