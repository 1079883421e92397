//! Evaluation (docs/design.md §4): n samples per problem at temperature 1, the unbiased pass@k, maj@k
//! (answers grouped by the verifier's equivalence), mean response length, and the cost in forward
//! tokens; with power sampling (`EvalSettings::power`) the samples come from π_ref^α by MCMC.

use crate::data::Problem;
use crate::lm::LanguageModel;
use crate::rollout::{power_sample, sample, Decoder, Rollout, SamplingParams};
use crate::task::math::{MathTask, PromptStyle};
use crate::task::Task;
use crate::verify;
use anyhow::{bail, Result};
use serde::Serialize;
use sharpen_analysis::metrics::{maj_at_k, pass_at_k, AnswerCounts, PAPER_SUBSETS};
use sharpen_toy::mcmc::PowerSampler;
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
    /// Power sampling (MCMC towards π_ref^α) instead of plain sampling at `temperature`.
    pub power: Option<PowerSampler>,
}

/// Per-problem outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemResult {
    pub id: String,
    pub gold: String,
    pub correct: usize,
    pub answers: Vec<Option<String>>,
    /// Whether the task accepted each sample (aligned with `answers`).
    pub sample_correct: Vec<bool>,
    pub mean_length: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalResult {
    pub problems: usize,
    pub samples_per_problem: usize,
    pub pass_at_k: BTreeMap<String, f64>,
    pub maj_at_k: BTreeMap<String, f64>,
    pub mean_length: f64,
    /// What the samples cost in forward tokens (set by [`evaluate`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    pub per_problem: Vec<ProblemResult>,
}

/// The forward tokens a sample cost, averaged over samples.
#[derive(Debug, Clone, Serialize)]
pub struct Cost {
    /// Next-token evaluations: one per token decided — a plain sample's length; for a power
    /// sample, its initial draw and every proposed suffix, rejected ones included.
    pub forward_tokens_per_sample: f64,
    /// Prompt tokens prefilled, per sample: the whole prompt for every plain sample; once per
    /// prompt (all but its last token) shared by its n power chains.
    pub prefill_tokens_per_sample: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power: Option<PowerReport>,
}

/// The power sampler an evaluation ran, and how often its moves were accepted.
#[derive(Debug, Clone, Serialize)]
pub struct PowerReport {
    pub sampler: PowerSampler,
    pub acceptance_rate: f64,
}

/// Group answers that the verifier calls equal under one representative, so that `1/2` and
/// `0.5` vote together.
pub(crate) fn canonical(answers: &[Option<String>]) -> Vec<Option<String>> {
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

/// `sharpen eval`: n samples of every problem with the model, scored by the math task.
pub fn evaluate<M: Decoder>(
    lm: &LanguageModel<M>,
    problems: &[Problem],
    s: &EvalSettings,
    on_batch: impl FnMut(usize),
) -> Result<EvalResult> {
    let task = MathTask::new(problems.to_vec(), lm, s.prompt_style)?;
    if let Some(i) = (0..task.len()).find(|&i| task.prompt(i).len() >= s.max_tokens) {
        bail!(
            "problem {}: its prompt has {} tokens, no room for a response under --max-tokens {}",
            problems[i].id,
            task.prompt(i).len(),
            s.max_tokens
        );
    }
    let params = SamplingParams {
        max_new_tokens: if s.max_new_tokens > 0 { s.max_new_tokens } else { s.max_tokens },
        max_total_tokens: s.max_tokens,
        temperature: s.temperature,
        top_p: s.top_p,
        seed: s.seed,
        ..SamplingParams::default()
    };
    let ids: Vec<usize> = (0..task.len()).collect();
    let per_call = (s.batch_rows / s.n.max(1)).max(1);
    // The cost in forward tokens: next-token evaluations (every decided token, proposals
    // included) and the prompt prefill, summed over every sample.
    let (mut decode, mut prefill, mut proposed, mut accepted) = (0usize, 0usize, 0usize, 0usize);
    let samples = match &s.power {
        None => {
            let draw = |prompts: &[Vec<u32>], stream_offset: u64| -> Result<Vec<Rollout>> {
                let p = SamplingParams { stream_offset, ..params.clone() };
                let out = sample(&lm.model, prompts, s.n, &lm.eos_ids, &p)?;
                // Every row prefills its whole prompt and evaluates each of its tokens once.
                prefill += out.iter().map(|r| prompts[r.prompt_index].len()).sum::<usize>();
                decode += out.iter().map(|r| r.tokens.len()).sum::<usize>();
                Ok(out)
            };
            sample_and_score_with(&task, &ids, s.n, per_call, 0, draw, on_batch)?
        }
        Some(power) => {
            let Some(model) = lm.model.as_model() else {
                bail!("--power needs a model folder (power sampling is not available with --quantized)")
            };
            let draw = |prompts: &[Vec<u32>], stream_offset: u64| -> Result<Vec<Rollout>> {
                let p = SamplingParams { stream_offset, ..params.clone() };
                let out = power_sample(model, prompts, s.n, &lm.eos_ids, &p, power)?;
                prefill += out.prefill_tokens;
                decode += out.samples.iter().map(|x| x.forward_tokens).sum::<usize>();
                proposed += out.samples.iter().map(|x| x.proposed).sum::<usize>();
                accepted += out.samples.iter().map(|x| x.accepted).sum::<usize>();
                Ok(out.samples.into_iter().map(|x| x.rollout).collect())
            };
            sample_and_score_with(&task, &ids, s.n, per_call, 0, draw, on_batch)?
        }
    };
    let total = (problems.len() * s.n).max(1) as f64;
    let cost = Cost {
        forward_tokens_per_sample: decode as f64 / total,
        prefill_tokens_per_sample: prefill as f64 / total,
        power: s.power.map(|sampler| PowerReport {
            sampler,
            acceptance_rate: if proposed > 0 { accepted as f64 / proposed as f64 } else { 0.0 },
        }),
    };
    let per_problem = problems
        .iter()
        .zip(samples)
        .map(|(p, x)| ProblemResult {
            id: p.id.clone(),
            gold: p.gold.clone(),
            correct: x.correct,
            mean_length: x.tokens as f64 / s.n.max(1) as f64,
            sample_correct: x.rewards.iter().map(|&r| r > 0.5).collect(),
            answers: x.answers,
        })
        .collect();
    let mut res = summarize(per_problem, s)?;
    res.cost = Some(cost);
    Ok(res)
}

/// The one evaluation loop (`sharpen eval`, validation and the in-run evaluation all use it):
/// `n` samples of each problem `ids` of `task`, `per_call` problems to a batch, the rows of
/// successive batches on successive random streams of `params.seed` (so the samples do not
/// depend on `per_call`'s split beyond the batch), each sample scored and its answer read by the
/// task. `on_batch` hears how many problems each batch finished.
#[allow(clippy::too_many_arguments)]
pub fn sample_and_score<D: Decoder + ?Sized>(
    model: &D,
    eos_ids: &[u32],
    task: &dyn Task,
    ids: &[usize],
    n: usize,
    per_call: usize,
    params: &SamplingParams,
    on_batch: impl FnMut(usize),
) -> Result<Vec<ProblemSamples>> {
    let draw = |prompts: &[Vec<u32>], stream_offset: u64| -> Result<Vec<Rollout>> {
        let p = SamplingParams { stream_offset, ..params.clone() };
        Ok(sample(model, prompts, n, eos_ids, &p)?)
    };
    sample_and_score_with(task, ids, n, per_call, params.stream_offset, draw, on_batch)
}

/// [`sample_and_score`] with the sampler given: `draw(prompts, stream_offset)` returns n rollouts
/// of each prompt in order (prompt 0's n, prompt 1's, ...), its rows on the random streams from
/// `stream_offset` on — plain batched sampling, or power sampling (`sharpen eval --power`).
pub fn sample_and_score_with(
    task: &dyn Task,
    ids: &[usize],
    n: usize,
    per_call: usize,
    stream_offset: u64,
    mut draw: impl FnMut(&[Vec<u32>], u64) -> Result<Vec<Rollout>>,
    mut on_batch: impl FnMut(usize),
) -> Result<Vec<ProblemSamples>> {
    let per_call = per_call.max(1);
    let mut out = Vec::with_capacity(ids.len());
    for (c, chunk) in ids.chunks(per_call).enumerate() {
        let prompts: Vec<Vec<u32>> = chunk.iter().map(|&i| task.prompt(i).to_vec()).collect();
        let rollouts = draw(&prompts, stream_offset + (c * per_call * n) as u64)?;
        for (j, &i) in chunk.iter().enumerate() {
            let mine: Vec<&Rollout> = rollouts.iter().filter(|r| r.prompt_index == j).collect();
            let rewards: Vec<f64> = mine.iter().map(|r| task.score(i, &r.tokens)).collect();
            out.push(ProblemSamples {
                correct: rewards.iter().filter(|&&r| r > 0.5).count(),
                reward_sum: rewards.iter().sum(),
                tokens: mine.iter().map(|r| r.tokens.len()).sum(),
                answers: mine.iter().map(|r| task.answer(i, &r.tokens)).collect(),
                rewards,
            });
        }
        on_batch(chunk.len());
    }
    Ok(out)
}

fn summarize(per_problem: Vec<ProblemResult>, s: &EvalSettings) -> Result<EvalResult> {
    let samples: Vec<ProblemSamples> = per_problem
        .iter()
        .map(|p| ProblemSamples {
            correct: p.correct,
            reward_sum: p.correct as f64,
            tokens: 0,
            answers: p.answers.clone(),
            rewards: p.sample_correct.iter().map(|&c| f64::from(u8::from(c))).collect(),
        })
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
        cost: None,
        per_problem,
    })
}

/// What one problem's n samples came to: what pass@k and maj@k need, the summed task reward
/// (validation's accuracy) and the summed length.
pub struct ProblemSamples {
    /// Samples the task scored above 1/2 (the verifier accepted).
    pub correct: usize,
    /// Σ of the samples' task rewards.
    pub reward_sum: f64,
    /// Σ of the samples' response lengths in tokens.
    pub tokens: usize,
    /// Each sample's task reward, aligned with `answers`: a vote for an answer is worth what the
    /// task gave the samples that cast it, so maj@1 is pass@1 and maj@k uses the same verdicts.
    pub rewards: Vec<f64>,
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
            let correct: Vec<f64> = pr.rewards.iter().map(|&r| f64::from(u8::from(r > 0.5))).collect();
            let counts = AnswerCounts::from_samples(&answers, &correct)?;
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
            power: None,
        }
    }

    fn pr(gold: &str, answers: &[Option<&str>]) -> ProblemResult {
        let answers: Vec<Option<String>> = answers.iter().map(|a| a.map(String::from)).collect();
        let sample_correct: Vec<bool> =
            answers.iter().map(|a| a.as_deref().is_some_and(|a| verify::is_equiv(a, gold))).collect();
        let correct = sample_correct.iter().filter(|&&c| c).count();
        ProblemResult { id: "p".into(), gold: gold.into(), correct, answers, sample_correct, mean_length: 10.0 }
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
    fn a_vote_is_worth_the_task_verdict_of_its_samples() {
        // The task accepted both samples, though "7." alone would not re-verify as 7: maj@1 is
        // pass@1 because a vote carries its samples' own verdicts.
        let p = ProblemResult {
            id: "p".into(),
            gold: "7".into(),
            correct: 2,
            answers: vec![Some("7.".into()), Some("seven".into())],
            sample_correct: vec![true, true],
            mean_length: 3.0,
        };
        let r = summarize(vec![p], &settings(2, vec![1, 2])).unwrap();
        assert_eq!((r.pass_at_k["1"], r.maj_at_k["1"], r.maj_at_k["2"]), (1.0, 1.0, 1.0));
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
