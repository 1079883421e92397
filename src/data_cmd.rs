//! `sharpen data`: load a dataset (or generate the synthetic task) and show what a trainer sees.

use anyhow::Result;

/// Load a dataset or generate the synthetic task; print the load summary and a few prompts.
pub fn summary(a: &crate::cli::DataArgs) -> Result<()> {
    use crate::data::{arithmetic, cot_prompt, data_dir, load, Dataset};
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
