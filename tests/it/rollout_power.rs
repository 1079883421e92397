//! Power sampling on the tiny fixture models (`sharpen::rollout::power_sample`): with a cap of two
//! tokens every response can be enumerated, so the MCMC samples are checked against the exact
//! π_ref^α computed by brute force from the model's log-probs; a sampler whose acceptance ratio
//! omits the proposal's probabilities fails the same check. Also: the recorded log-probs are the
//! model's own (the realigned KV cache is exact), the forward-token count, and the seeds.

use candle_core::{Device, IndexOp, Tensor};
use sharpen::model::Model;
use sharpen::rollout::{power_sample, power_sample_with, SamplingParams, StopReason};
use sharpen::toy::mcmc::{PowerSampler, Proposal, Suffix};

use crate::common;
use common::{assert_logprobs_are_the_models_own, model};

/// Responses of at most two tokens, stopping at these ids.
const EOS: [u32; 4] = [2, 4, 7, 11];

fn params(max_new_tokens: usize, seed: u64) -> SamplingParams {
    SamplingParams { max_new_tokens, seed, ..SamplingParams::default() }
}

/// Exact laws over responses of at most two tokens for one prompt: log p(a | prompt) for every
/// first token a, and log p(b | prompt, a) for every (a, b).
struct TwoTokenLaw {
    first: Vec<f64>,
    second: Vec<Vec<f64>>,
}

fn log_softmax(x: &[f32]) -> Vec<f64> {
    let m = x.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let z = x.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln() + m;
    x.iter().map(|&v| v as f64 - z).collect()
}

/// By brute force: the training path (no cache) on prompt + a for every a at once.
fn two_token_law(m: &Model, prompt: &[u32]) -> TwoTokenLaw {
    let v = m.config().vocab_size;
    let p = prompt.len();
    let flat: Vec<u32> = (0..v as u32).flat_map(|a| prompt.iter().copied().chain([a])).collect();
    let ids = Tensor::from_vec(flat, (v, p + 1), &Device::Cpu).unwrap();
    let logits = m.forward_train(&ids, &vec![0; v]).unwrap();
    let first = log_softmax(&logits.i((0, p - 1)).unwrap().to_vec1::<f32>().unwrap());
    let second = (0..v).map(|a| log_softmax(&logits.i((a, p)).unwrap().to_vec1::<f32>().unwrap())).collect();
    TwoTokenLaw { first, second }
}

/// Marginal laws of the first token and of the second token (index v: no second token) under
/// the sequence-level π_ref^α, and under token temperature 1/α (the proposal alone).
fn marginals(law: &TwoTokenLaw, alpha: f64) -> ([Vec<f64>; 2], [Vec<f64>; 2]) {
    let v = law.first.len();
    let lse = |x: &[f64]| {
        let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        x.iter().map(|&y| (y - m).exp()).sum::<f64>().ln() + m
    };
    let eos = |a: usize| EOS.contains(&(a as u32));
    // Power: weight α·log π_ref of each response, normalised over all of them.
    let mut w1 = vec![0.0; v];
    let mut w2 = vec![vec![f64::NEG_INFINITY; v + 1]; v];
    for a in 0..v {
        if eos(a) {
            w2[a][v] = alpha * law.first[a];
        } else {
            for (w, &lp) in w2[a].iter_mut().zip(&law.second[a]) {
                *w = alpha * (law.first[a] + lp);
            }
        }
        w1[a] = lse(&w2[a]);
    }
    let z = lse(&w1);
    let power_first: Vec<f64> = w1.iter().map(|&x| (x - z).exp()).collect();
    let power_second: Vec<f64> = (0..=v).map(|b| (0..v).map(|a| (w2[a][b] - z).exp()).sum()).collect();
    // Temperature: each token's law renormalised on its own.
    let tq = |lp: &[f64]| -> Vec<f64> {
        let s: Vec<f64> = lp.iter().map(|&x| alpha * x).collect();
        let z = lse(&s);
        s.iter().map(|&x| (x - z).exp()).collect()
    };
    let temp_first = tq(&law.first);
    let mut temp_second = vec![0.0; v + 1];
    for (a, &qa) in temp_first.iter().enumerate() {
        if eos(a) {
            temp_second[v] += qa;
        } else {
            for (b, q) in tq(&law.second[a]).into_iter().enumerate() {
                temp_second[b] += qa * q;
            }
        }
    }
    ([power_first, power_second], [temp_first, temp_second])
}

fn tv(p: &[f64], q: &[f64]) -> f64 {
    p.iter().zip(q).map(|(a, b)| (a - b).abs()).sum::<f64>() / 2.0
}

/// A bound that the total variation between a law p and the empirical law of N independent
/// draws from it exceeds with probability below δ: E[TV] ≤ ½ Σ √(p(1−p)/N) (Jensen), and TV
/// moves by at most 1/N when one draw changes, so by McDiarmid P(TV − E[TV] ≥ ε) ≤ exp(−2Nε²).
fn tv_bound(p: &[f64], n: usize, delta: f64) -> f64 {
    let n = n as f64;
    0.5 * p.iter().map(|&x| (x * (1.0 - x) / n).sqrt()).sum::<f64>() + ((1.0 / delta).ln() / (2.0 * n)).sqrt()
}

/// Empirical first- and second-token laws of responses (index v: no second token).
fn empirical(v: usize, responses: &[&Vec<u32>]) -> [Vec<f64>; 2] {
    let (mut f, mut s) = (vec![0.0; v], vec![0.0; v + 1]);
    let w = 1.0 / responses.len() as f64;
    for r in responses {
        f[r[0] as usize] += w;
        s[r.get(1).map_or(v, |&b| b as usize)] += w;
    }
    [f, s]
}

const ALPHA: f64 = 2.0;
const CHAINS: usize = 3000;
/// Moves per chain: on the second prompt the TV to π^α is 0.34 at K = 0 (the proposal), 0.11 at
/// 4, 0.07 at 24 (still above the Monte Carlo floor of about 0.035) and at the floor by 96.
const STEPS: usize = 96;
/// Per comparison; 4 comparisons per sampler, so a correct sampler fails with probability < 4δ.
const DELTA: f64 = 1e-4;

/// The two prompts' exact marginals and the sampler's TV to them, per prompt and token.
fn distances(m: &Model, accept: Option<sharpen::rollout::LogAcceptance>, steps: usize) -> Vec<(f64, f64, f64)> {
    let prompts = vec![vec![5u32, 9, 33, 2, 17], vec![60u32, 3]];
    let sampler = PowerSampler::new(ALPHA, Proposal::Temperature, steps, None).unwrap();
    let out = match accept {
        None => power_sample(m, &prompts, CHAINS, &EOS, &params(2, 11), &sampler).unwrap(),
        Some(f) => power_sample_with(m, &prompts, CHAINS, &EOS, &params(2, 11), &sampler, f).unwrap(),
    };
    let v = m.config().vocab_size;
    let mut d = vec![];
    for (i, p) in prompts.iter().enumerate() {
        let (power, temp) = marginals(&two_token_law(m, p), ALPHA);
        let mine: Vec<&Vec<u32>> =
            out.samples.iter().filter(|s| s.rollout.prompt_index == i).map(|s| &s.rollout.tokens).collect();
        assert_eq!(mine.len(), CHAINS);
        let emp = empirical(v, &mine);
        for k in 0..2 {
            d.push((tv(&emp[k], &power[k]), tv_bound(&power[k], CHAINS, DELTA), tv(&temp[k], &power[k])));
        }
    }
    d
}

#[test]
fn power_samples_follow_the_enumerated_target_and_a_wrong_ratio_does_not() {
    let m = model("llama");
    let right = distances(&m, None, STEPS);
    for &(d, bound, d_temp) in &right {
        // The check has power: the proposal alone (token temperature 1/α, K = 0) fails it.
        assert!(d_temp > bound, "temperature 1/α is too close to π^α for this check: {right:?}");
        assert!(d < bound, "MCMC vs exact π^α: TV {d} above {bound}: {right:?}");
    }
    // The ratio without q(old suffix)/q(new suffix): the same check catches it.
    fn no_proposal(alpha: f64, cur: &Suffix, prop: &Suffix) -> f64 {
        alpha * (prop.log_ref - cur.log_ref) + (cur.positions as f64).ln() - (prop.positions as f64).ln()
    }
    let wrong = distances(&m, Some(no_proposal), STEPS);
    assert!(wrong.iter().any(|&(d, bound, _)| d > bound), "a wrong ratio passed: {wrong:?}");
}

#[test]
fn logprobs_are_the_models_own_and_forward_tokens_are_counted() {
    let prompts = common::prompts();
    for name in ["llama", "qwen2", "qwen3"] {
        let m = model(name);
        // Without moves a chain is its initial draw: one forward token per decided token.
        let none = PowerSampler::new(2.0, Proposal::Temperature, 0, None).unwrap();
        let out = power_sample(&m, &prompts, 3, &EOS, &params(9, 5), &none).unwrap();
        assert_eq!(out.prefill_tokens, prompts.iter().map(|p| p.len() - 1).sum::<usize>());
        for s in &out.samples {
            assert_eq!((s.forward_tokens, s.proposed), (s.rollout.tokens.len(), 0));
        }
        // With moves (and blocks), every kept prefix comes from a realigned cache: the recorded
        // log-probs must still be the model's own, and each move costs what it redraws.
        let moves = PowerSampler::new(3.0, Proposal::Temperature, 6, Some(4)).unwrap();
        let out = power_sample(&m, &prompts, 3, &EOS, &params(9, 5), &moves).unwrap();
        let rollouts: Vec<_> = out.samples.iter().map(|s| s.rollout.clone()).collect();
        assert_logprobs_are_the_models_own(&m, &prompts, &rollouts);
        for s in &out.samples {
            let r = &s.rollout;
            assert_eq!(s.proposed, 6 * 3, "three blocks (4, 8, 9) of six moves");
            assert!(s.accepted <= s.proposed);
            assert!(s.forward_tokens >= r.tokens.len() && s.forward_tokens <= 9 * (1 + s.proposed));
            let eos = r.tokens.last().is_some_and(|t| EOS.contains(t));
            assert_eq!(r.stop == StopReason::Eos, eos, "{name}: {r:?}");
            assert!(eos || r.tokens.len() == 9, "{name}: a response stops at EOS or the cap: {r:?}");
            // Nothing follows an EOS, also when it came in an earlier block.
            assert!(!r.tokens[..r.tokens.len() - 1].iter().any(|t| EOS.contains(t)), "{name}: {r:?}");
        }
    }
}

#[test]
fn seeds_reproduce_and_chains_do_not_depend_on_the_batch() {
    let m = model("qwen3");
    let prompts = common::prompts();
    let s = PowerSampler::new(2.0, Proposal::Base, 5, None).unwrap();
    let run = |p: &SamplingParams, prompts: &[Vec<u32>]| -> Vec<Vec<u32>> {
        power_sample(&m, prompts, 3, &EOS, p, &s).unwrap().samples.into_iter().map(|x| x.rollout.tokens).collect()
    };
    let all = run(&params(8, 42), &prompts);
    assert_eq!(all, run(&params(8, 42), &prompts));
    assert_ne!(all, run(&params(8, 43), &prompts));
    // Prompt 2 alone, on the streams of its chains in the big batch (2·3), samples the same.
    let alone = run(&SamplingParams { stream_offset: 6, ..params(8, 42) }, &prompts[2..]);
    assert_eq!(alone, all[6..].to_vec());
}

#[test]
fn settings_that_change_the_proposal_are_refused() {
    let m = model("llama");
    let s = PowerSampler::new(2.0, Proposal::Temperature, 1, None).unwrap();
    let prompts = common::prompts();
    for p in [
        SamplingParams { temperature: 0.5, ..params(4, 0) },
        SamplingParams { top_p: 0.9, ..params(4, 0) },
        SamplingParams { greedy: true, ..params(4, 0) },
        SamplingParams { ignore_eos: true, ..params(4, 0) },
    ] {
        assert!(power_sample(&m, &prompts, 1, &EOS, &p, &s).is_err());
    }
    assert!(power_sample(&m, &[vec![]], 1, &EOS, &params(4, 0), &s).is_err());
}
