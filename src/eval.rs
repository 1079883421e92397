//! Evaluation (docs/design.md §4): n samples per problem at temperature 1, the unbiased pass@k, maj@k
//! (answers grouped by the verifier's equivalence), and mean response length.

use crate::data::Problem;
use crate::lm::LanguageModel;
use crate::rollout::{sample, SamplingParams};
use crate::train::math_task::{encode_problem, response_text, PromptStyle};
use crate::verify;
use anyhow::{bail, Result};
use serde::Serialize;
use sharpen_analysis::metrics::{maj_at_k, pass_at_k, AnswerCounts, PAPER_SUBSETS};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct EvalSettings {
    pub n: usize,
    pub ks: Vec<usize>,
    /// Cap on prompt + response tokens per row (the authors evaluate with 2048; 8192 for AIME).
    pub max_tokens: usize,
    /// A further cap on response tokens (0 = none).
    pub max_new_tokens: usize,
    pub temperature: f64,
    pub top_p: f64,
    pub seed: u64,
    /// Rows (problems × n) sampled together.
    pub batch_rows: usize,
    pub prompt_style: PromptStyle,
}

/// Per-problem outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemResult {
    pub id: String,
    pub gold: String,
    pub correct: usize,
    pub answers: Vec<Option<String>>,
    pub mean_length: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalResult {
    pub problems: usize,
    pub samples_per_problem: usize,
    pub pass_at_k: BTreeMap<String, f64>,
    pub maj_at_k: BTreeMap<String, f64>,
    pub mean_length: f64,
    pub per_problem: Vec<ProblemResult>,
}

/// Group answers that the verifier calls equal under one representative, so that `1/2` and
/// `0.5` vote together.
fn canonical(answers: &[Option<String>]) -> Vec<Option<String>> {
    let mut reps: Vec<String> = Vec::new();
    answers
        .iter()
        .map(|a| {
            a.as_ref().map(|a| match reps.iter().find(|r| verify::is_equiv(a, r)) {
                Some(r) => r.clone(),
                None => {
                    reps.push(a.clone());
                    a.clone()
                }
            })
        })
        .collect()
}

pub fn evaluate(
    lm: &LanguageModel,
    problems: &[Problem],
    s: &EvalSettings,
    mut on_batch: impl FnMut(usize),
) -> Result<EvalResult> {
    let per_call = (s.batch_rows / s.n.max(1)).max(1);
    let mut per_problem = Vec::with_capacity(problems.len());
    for (c, chunk) in problems.chunks(per_call).enumerate() {
        let prompts =
            chunk.iter().map(|p| encode_problem(lm, &p.problem, s.prompt_style)).collect::<Result<Vec<_>>>()?;
        if let Some((p, ids)) = chunk.iter().zip(&prompts).find(|(_, ids)| ids.len() >= s.max_tokens) {
            bail!(
                "problem {}: its prompt has {} tokens, no room for a response under --max-tokens {}",
                p.id,
                ids.len(),
                s.max_tokens
            );
        }
        let params = SamplingParams {
            max_new_tokens: if s.max_new_tokens > 0 { s.max_new_tokens } else { s.max_tokens },
            max_total_tokens: s.max_tokens,
            temperature: s.temperature,
            top_p: s.top_p,
            greedy: false,
            ignore_eos: false,
            seed: s.seed,
            stream_offset: (c * per_call * s.n) as u64,
            sampler: crate::rollout::Sampler::Auto,
        };
        let rollouts = sample(&lm.model, &prompts, s.n, &lm.eos_ids, &params)?;
        for (i, p) in chunk.iter().enumerate() {
            let mine: Vec<_> = rollouts.iter().filter(|r| r.prompt_index == i).collect();
            let mut answers = Vec::new();
            let mut correct = 0;
            for r in &mine {
                let text = response_text(&lm.tokenizer.decode(&r.tokens, true).unwrap_or_default(), s.prompt_style);
                correct += usize::from(verify::task_reward(&text, &p.gold) > 0.5);
                answers.push(verify::extract_answer(&text));
            }
            let mean_length = mine.iter().map(|r| r.tokens.len() as f64).sum::<f64>() / mine.len().max(1) as f64;
            per_problem.push(ProblemResult { id: p.id.clone(), gold: p.gold.clone(), correct, answers, mean_length });
        }
        on_batch(chunk.len());
    }
    summarize(per_problem, s)
}

fn summarize(per_problem: Vec<ProblemResult>, s: &EvalSettings) -> Result<EvalResult> {
    let samples: Vec<ProblemSamples> = per_problem
        .iter()
        .map(|p| ProblemSamples { gold: Some(p.gold.clone()), correct: p.correct, answers: p.answers.clone() })
        .collect();
    let (pass, maj) = pass_and_maj(&samples, s.n, &s.ks, s.seed)?;
    let m = per_problem.len().max(1) as f64;
    let mean_length = per_problem.iter().map(|p| p.mean_length).sum::<f64>() / m;
    Ok(EvalResult {
        problems: per_problem.len(),
        samples_per_problem: s.n,
        pass_at_k: pass,
        maj_at_k: maj,
        mean_length,
        per_problem,
    })
}

/// What pass@k and maj@k need of one problem's n samples.
pub struct ProblemSamples {
    /// The reference answer (None: no answer to vote for, so maj@k is 0).
    pub gold: Option<String>,
    /// Samples the verifier accepted.
    pub correct: usize,
    /// Each sample's extracted answer.
    pub answers: Vec<Option<String>>,
}

/// Mean unbiased pass@k and maj@k over problems, for each k in `ks` with 1 ≤ k ≤ n, keyed by k
/// as a string (the run log's form). maj@k draws seeded subsets where exact enumeration is too big.
pub fn pass_and_maj(
    problems: &[ProblemSamples],
    n: usize,
    ks: &[usize],
    seed: u64,
) -> Result<(BTreeMap<String, f64>, BTreeMap<String, f64>)> {
    let m = problems.len().max(1) as f64;
    let (mut pass, mut maj) = (BTreeMap::new(), BTreeMap::new());
    for &k in ks.iter().filter(|&&k| k >= 1 && k <= n) {
        let (mut p_sum, mut m_sum) = (0.0, 0.0);
        for (j, pr) in problems.iter().enumerate() {
            p_sum += pass_at_k(n, pr.correct, k)?;
            let answers = canonical(&pr.answers);
            let rewards: Vec<f64> = answers
                .iter()
                .map(|a| match (a, &pr.gold) {
                    (Some(a), Some(g)) => f64::from(u8::from(verify::is_equiv(a, g))),
                    _ => 0.0,
                })
                .collect();
            let counts = AnswerCounts::from_samples(&answers, &rewards)?;
            m_sum += maj_at_k(&counts, k, PAPER_SUBSETS, seed ^ (j as u64))?.0;
        }
        pass.insert(k.to_string(), p_sum / m);
        maj.insert(k.to_string(), m_sum / m);
    }
    Ok((pass, maj))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(n: usize, ks: Vec<usize>) -> EvalSettings {
        EvalSettings {
            n,
            ks,
            max_tokens: 2048,
            max_new_tokens: 1,
            temperature: 1.0,
            top_p: 1.0,
            seed: 0,
            batch_rows: 1,
            prompt_style: PromptStyle::Cot,
        }
    }

    fn pr(gold: &str, answers: &[Option<&str>]) -> ProblemResult {
        let answers: Vec<Option<String>> = answers.iter().map(|a| a.map(String::from)).collect();
        let correct = answers.iter().filter(|a| a.as_deref().is_some_and(|a| verify::is_equiv(a, gold))).count();
        ProblemResult { id: "p".into(), gold: gold.into(), correct, answers, mean_length: 10.0 }
    }

    #[test]
    fn equivalent_answers_vote_together() {
        // 2 of 4 samples say 1/2 in two spellings, 2 say 3 and 4: the majority is the right answer
        // only if `\frac{1}{2}` and `0.5` are counted as one answer.
        let r = summarize(
            vec![pr("0.5", &[Some("\\frac{1}{2}"), Some("0.5"), Some("3"), Some("4")])],
            &settings(4, vec![1, 4]),
        )
        .unwrap();
        assert_eq!(r.pass_at_k["1"], 0.5);
        assert_eq!(r.pass_at_k["4"], 1.0);
        assert_eq!(r.maj_at_k["4"], 1.0);
    }

    #[test]
    fn averages_over_problems() {
        let r =
            summarize(vec![pr("7", &[Some("7"), Some("7")]), pr("2", &[Some("3"), None])], &settings(2, vec![1, 2]))
                .unwrap();
        assert_eq!(r.pass_at_k["1"], 0.5);
        assert_eq!(r.pass_at_k["2"], 0.5);
        assert_eq!(r.maj_at_k["1"], 0.5);
        assert_eq!(r.mean_length, 10.0);
    }
}
