//! The math task: problems from a dataset (or the synthetic arithmetic task), the paper's
//! chain-of-thought prompt inside the model's chat template, the verifier as the task reward.

use super::Task;
use crate::data::{self, Dataset, Problem};
use crate::lm::LanguageModel;
use anyhow::{bail, Context, Result};
use std::path::Path;

/// How a problem becomes a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptStyle {
    /// The paper's chain-of-thought prompt as the user message; the answer in `\boxed{}`.
    Cot,
    /// The bare problem as the user message and the assistant's reply opened with
    /// "The answer is" — for models too small to follow the chain-of-thought format
    /// (SmolLM2-135M almost never closes a `\boxed{}`). The verifier reads the answer after
    /// the phrase, exactly as it would in a longer response.
    AnswerPrefix,
}

pub const ANSWER_PREFIX: &str = "The answer is";

/// Token ids of a problem's prompt in the model's chat template (plain text without one).
pub fn encode_problem<M>(lm: &LanguageModel<M>, problem: &str, style: PromptStyle) -> Result<Vec<u32>> {
    let chat = lm.chat.is_some();
    Ok(match style {
        PromptStyle::Cot => lm.encode_prompt(&data::cot_prompt(problem), chat)?,
        PromptStyle::AnswerPrefix => {
            let mut ids = lm.encode_prompt(problem, chat)?;
            ids.extend(lm.tokenizer.encode(ANSWER_PREFIX, false)?);
            ids
        }
    })
}

/// The text the verifier reads for a decoded response.
pub fn response_text(decoded: &str, style: PromptStyle) -> String {
    match style {
        PromptStyle::Cot => decoded.to_string(),
        PromptStyle::AnswerPrefix => format!("{ANSWER_PREFIX}{decoded}"),
    }
}

pub struct MathTask<'a, M = crate::model::Model> {
    pub problems: Vec<Problem>,
    prompts: Vec<Vec<u32>>,
    style: PromptStyle,
    lm: &'a LanguageModel<M>,
}

impl<'a, M> MathTask<'a, M> {
    pub fn new(problems: Vec<Problem>, lm: &'a LanguageModel<M>, style: PromptStyle) -> Result<Self> {
        let prompts = problems.iter().map(|p| encode_problem(lm, &p.problem, style)).collect::<Result<Vec<_>>>()?;
        Ok(Self { problems, prompts, style, lm })
    }
}

impl<M> Task for MathTask<'_, M> {
    fn len(&self) -> usize {
        self.problems.len()
    }
    fn prompt(&self, i: usize) -> &[u32] {
        &self.prompts[i]
    }
    fn score(&self, i: usize, response: &[u32]) -> f64 {
        // An undecodable response earns nothing rather than stopping the run.
        let text = self.lm.tokenizer.decode(response, true).unwrap_or_default();
        crate::verify::task_reward(&response_text(&text, self.style), &self.problems[i].gold)
    }
    fn answer(&self, _i: usize, response: &[u32]) -> Option<String> {
        let text = self.lm.tokenizer.decode(response, true).unwrap_or_default();
        crate::verify::extract_answer(&response_text(&text, self.style))
    }
    fn gold(&self, i: usize) -> Option<String> {
        Some(self.problems[i].gold.clone())
    }
}

/// Problems named by a spec: `synthetic` (the arithmetic task; `count` problems at
/// `difficulty`), a path to a JSONL file inside a folder named after its dataset (e.g.
/// `.../math500/test.jsonl`), or `DATASET/SPLIT.jsonl` relative to the data folder
/// (`data_dir`, see [`data::data_dir`]).
pub fn problems_from_spec(
    spec: &str,
    count: usize,
    difficulty: u32,
    seed: u64,
    data_dir: Option<&Path>,
) -> Result<Vec<Problem>> {
    if spec == "synthetic" {
        return Ok(data::arithmetic(count.max(1), difficulty, seed)?);
    }
    let direct = Path::new(spec);
    let path = if direct.exists() { direct.to_path_buf() } else { data::data_dir(data_dir)?.join(spec) };
    let folder = path.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or_default();
    let Some(dataset) = Dataset::ALL.iter().copied().find(|d| d.name() == folder) else {
        bail!("cannot tell the dataset layout of '{spec}': put the file in a folder named gsm8k, math, math500, minerva, aime24, amc23, aime25 or deepscaler, or use 'synthetic'");
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
