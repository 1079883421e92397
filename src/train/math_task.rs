//! The math task: problems from a dataset (or the synthetic arithmetic task), the paper's
//! chain-of-thought prompt inside the model's chat template, the verifier as the task reward.

use super::Task;
use crate::data::{self, Dataset, Problem};
use crate::lm::LanguageModel;
use anyhow::{bail, Context, Result};
use std::path::Path;

pub struct MathTask<'a> {
    pub problems: Vec<Problem>,
    prompts: Vec<Vec<u32>>,
    lm: &'a LanguageModel,
}

impl<'a> MathTask<'a> {
    pub fn new(problems: Vec<Problem>, lm: &'a LanguageModel) -> Result<Self> {
        let chat = lm.chat.is_some();
        let prompts = problems
            .iter()
            .map(|p| lm.encode_prompt(&data::cot_prompt(&p.problem), chat))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { problems, prompts, lm })
    }
}

impl Task for MathTask<'_> {
    fn len(&self) -> usize {
        self.problems.len()
    }
    fn prompt(&self, i: usize) -> &[u32] {
        &self.prompts[i]
    }
    fn score(&self, i: usize, response: &[u32]) -> f64 {
        // An undecodable response earns nothing rather than stopping the run.
        let text = self.lm.tokenizer.decode(response, true).unwrap_or_default();
        crate::verify::task_reward(&text, &self.problems[i].gold)
    }
}

/// Problems named by a spec: `synthetic` (the arithmetic task; `count` problems at
/// `difficulty`), `DATASET/SPLIT.jsonl` relative to the data folder (`$SHARPEN_DATA`), or a path
/// to a JSONL file inside a folder named after its dataset (e.g. `.../math500/test.jsonl`).
pub fn problems_from_spec(spec: &str, count: usize, difficulty: u32, seed: u64) -> Result<Vec<Problem>> {
    if spec == "synthetic" {
        return Ok(data::arithmetic(count.max(1), difficulty, seed)?);
    }
    let direct = Path::new(spec);
    let path = if direct.exists() { direct.to_path_buf() } else { data::data_dir().join(spec) };
    let folder = path.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or_default();
    let Some(dataset) = Dataset::ALL.iter().copied().find(|d| d.name() == folder) else {
        bail!("cannot tell the dataset layout of '{spec}': put the file in a folder named gsm8k, math, math500, minerva, aime24 or amc23, or use 'synthetic'");
    };
    let loaded = data::load(dataset, &path).with_context(|| format!("loading {spec}"))?;
    if !loaded.summary.without_gold.is_empty() {
        eprintln!("{}", loaded.summary);
    }
    if loaded.problems.is_empty() {
        bail!("{spec}: no problem with a gold answer");
    }
    Ok(loaded.problems)
}
