//! Inference-time power sampling on a [`Model`] ("Reasoning with Sampling", Karan & Du, 2025):
//! the Metropolis–Hastings chain of `sharpen_toy::mcmc` — same states, same moves, same
//! acceptance ratio ([`log_acceptance`], reused, not restated) — run on a decoder, one chain per
//! sample, all chains of a call in one batch.
//!
//! A chain's state is a response y with one *decision* per token (an EOS token included) plus,
//! when y reached its cap without EOS, the cap's stop decision (log-probability 0 under every
//! law). A move picks t uniformly among y's decisions, keeps y_{<t}, redraws the rest from the
//! proposal q (π_ref, or token temperature 1/α) until EOS, the cap or the block's end, and is
//! accepted with the exact ratio for the target π_ref^α, q and the 1/n position choice included.
//! While drawing, each token's log p_ref (temperature 1) and log q are recorded: the ratio needs
//! both, and they differ under the temperature proposal. The block-wise schedule is the toy's.
//!
//! The KV cache: each prompt is prefilled once (all but its last token) and shared by its n
//! chains; a chain's current state keeps the cache rows its tokens were decoded into. A move from
//! position t cuts that row back to prompt + y_{<t} ([`KvCache::gather`] realigns rows cut at
//! different t into one batch, copying slots, computing none) and feeds the one token before t,
//! so a move costs exactly the decisions it redraws in forward tokens — the toy's count —
//! with no re-prefill of the prompt or of the kept prefix.
//!
//! Randomness: chain r (prompt i, sample j, r = i·n + j) draws everything — positions, tokens,
//! acceptances — from its own ChaCha8 stream `stream_offset + r` of `seed`, as [`super::sample`]'s
//! rows do, so a chain's choices depend on (seed, r) and the model only.

use super::{with_host_logits, Rollout, RolloutError, SamplingParams, StopReason};
use crate::model::{GatherRow, KvCache, Model};
use candle_core::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use sharpen_toy::mcmc::{log_acceptance, PowerSampler, Proposal, Suffix};
use std::rc::Rc;

/// One power sample: the response (its `logprobs` are log p_ref, temperature 1) and its chain.
#[derive(Debug, Clone, Serialize)]
pub struct PowerRollout {
    pub rollout: Rollout,
    /// Metropolis–Hastings moves proposed and accepted.
    pub proposed: usize,
    pub accepted: usize,
    /// Next-token evaluations of this chain (initial draw and every proposal): the forward
    /// tokens it cost beyond the shared prompt prefill.
    pub forward_tokens: usize,
}

/// Everything one call sampled.
#[derive(Debug, Clone, Serialize)]
pub struct PowerOutput {
    /// In order: prompt 0 samples 0..n, prompt 1, ...
    pub samples: Vec<PowerRollout>,
    /// Forward tokens of the prompt prefills (each prompt once, shared by its n chains).
    pub prefill_tokens: usize,
}

/// The log acceptance ratio a chain uses: `sharpen_toy::mcmc::log_acceptance`, or a variant for
/// tests that must see a wrong ratio fail.
pub type LogAcceptance = fn(f64, &Suffix, &Suffix) -> f64;

/// A chain state: tokens and, per decision, log p_ref and log q (as in the toy's sampler).
#[derive(Debug, Clone, Default)]
struct State {
    tokens: Vec<u32>,
    /// The state is a complete response (EOS or the cap's stop decision is in it).
    stopped: bool,
    eos: bool,
    log_ref: Vec<f64>,
    log_q: Vec<f64>,
}

impl State {
    fn positions(&self) -> usize {
        self.log_ref.len()
    }

    fn suffix(&self, t: usize) -> Suffix {
        Suffix::of(&self.log_ref, &self.log_q, t)
    }

    /// Decisions 0..t (t ≤ the number of tokens).
    fn prefix(&self, t: usize) -> State {
        State {
            tokens: self.tokens[..t].to_vec(),
            stopped: false,
            eos: false,
            log_ref: self.log_ref[..t].to_vec(),
            log_q: self.log_q[..t].to_vec(),
        }
    }

    /// Take the decisions that need no model: the cap's stop. True when `s` still needs tokens
    /// to reach `end` (or a stop).
    fn settle(&mut self, cap: usize, end: usize) -> bool {
        if self.stopped {
            return false;
        }
        if self.tokens.len() == cap {
            self.log_ref.push(0.0);
            self.log_q.push(0.0);
            self.stopped = true;
            return false;
        }
        self.tokens.len() < end
    }
}

/// Where a state's keys and values live: row `row` of `cache` holds prompt + all its tokens but
/// the last (the last is fed when decoding continues).
#[derive(Clone)]
struct Kv {
    cache: Rc<KvCache>,
    row: usize,
}

struct Chain {
    prompt: usize,
    cap: usize,
    state: State,
    kv: Kv,
    rng: ChaCha8Rng,
    proposed: usize,
    accepted: usize,
    forward_tokens: usize,
}

/// Pick a token from one row of logits under the proposal q ∝ p^a (a = α for token temperature
/// 1/α, 1 for π_ref); returns (token, log p_ref, log q). `u` is uniform in [0, 1).
fn pick_power(logits: &[f32], a: f64, u: f64, w: &mut Vec<f64>) -> (u32, f64, f64) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let z1: f64 = logits.iter().map(|&x| (x as f64 - max).exp()).sum();
    w.clear();
    w.extend(logits.iter().map(|&x| if a == 1.0 { (x as f64 - max).exp() } else { (a * (x as f64 - max)).exp() }));
    let zq: f64 = w.iter().sum();
    let target = u * zq;
    let mut acc = 0.0;
    // The fallback is the last token of positive weight, so rounding never picks an impossible one.
    let mut token = w.iter().rposition(|&x| x > 0.0).unwrap_or(0);
    for (i, &x) in w.iter().enumerate() {
        acc += x;
        if acc > target {
            token = i;
            break;
        }
    }
    let x = logits[token] as f64 - max;
    (token as u32, x - z1.ln(), a * x - zq.ln())
}

/// Check the settings of a power-sampling call (sampling flags that would change the proposal
/// are refused rather than ignored).
fn check(params: &SamplingParams, power: &PowerSampler) -> Result<(), RolloutError> {
    if params.greedy || params.ignore_eos || params.temperature != 1.0 || params.top_p != 1.0 {
        return Err(RolloutError::Params(
            "power sampling draws from its own proposal: no greedy, ignore-EOS, temperature or top-p".into(),
        ));
    }
    if !(power.alpha.is_finite() && power.alpha >= 0.0) {
        return Err(RolloutError::Params(format!("α must be finite and >= 0, got {}", power.alpha)));
    }
    if power.block == Some(0) {
        return Err(RolloutError::Params("the block size must be at least 1 token".into()));
    }
    Ok(())
}

/// Sample `n` responses of every prompt from π_ref^α by Metropolis–Hastings, one chain per
/// response (`power.steps` moves per block). `params` gives the caps (`max_new_tokens`,
/// `max_total_tokens`), `seed` and `stream_offset`; its temperature and top-p must stay at 1.
pub fn power_sample(
    model: &Model,
    prompts: &[Vec<u32>],
    n: usize,
    eos_ids: &[u32],
    params: &SamplingParams,
    power: &PowerSampler,
) -> Result<PowerOutput, RolloutError> {
    power_sample_with(model, prompts, n, eos_ids, params, power, log_acceptance)
}

/// [`power_sample`] with the acceptance ratio given (tests check that a wrong one is caught).
#[doc(hidden)]
pub fn power_sample_with(
    model: &Model,
    prompts: &[Vec<u32>],
    n: usize,
    eos_ids: &[u32],
    params: &SamplingParams,
    power: &PowerSampler,
    accept: LogAcceptance,
) -> Result<PowerOutput, RolloutError> {
    check(params, power)?;
    if prompts.iter().any(Vec::is_empty) {
        return Err(RolloutError::Params("empty prompt".into()));
    }
    let context = model.config().max_position_embeddings;
    let caps: Vec<usize> = prompts.iter().map(|p| params.row_budget(p.len())).collect();
    if let Some((p, c)) = prompts.iter().zip(&caps).map(|(p, &c)| (p.len(), c)).find(|&(p, c)| p + c > context) {
        return Err(RolloutError::Params(format!(
            "a prompt of {p} tokens plus {c} new tokens exceeds the model's context of {context} (max_position_embeddings)"
        )));
    }
    let a = match power.proposal {
        Proposal::Temperature => power.alpha,
        Proposal::Base => 1.0,
    };
    let device = model.device().clone();

    // The shared prefix: every prompt but its last token, once per prompt.
    let heads: Vec<usize> = prompts.iter().map(|p| p.len() - 1).collect();
    let longest = heads.iter().copied().max().unwrap_or(0);
    let mut prompt_cache = model.new_cache(heads.iter().map(|&h| longest - h).collect(), longest.max(1))?;
    if longest > 0 {
        let flat: Vec<u32> = prompts
            .iter()
            .flat_map(|p| std::iter::repeat_n(0u32, longest + 1 - p.len()).chain(p[..p.len() - 1].iter().copied()))
            .collect();
        model.forward_cached(&Tensor::from_vec(flat, (prompts.len(), longest), &device)?, &mut prompt_cache, true)?;
    }
    let prompt_cache = Rc::new(prompt_cache);
    let mut chains: Vec<Chain> = (0..prompts.len() * n)
        .map(|r| {
            let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
            rng.set_stream(params.stream_offset + r as u64);
            Chain {
                prompt: r / n.max(1),
                cap: caps[r / n.max(1)],
                state: State::default(),
                kv: Kv { cache: prompt_cache.clone(), row: r / n.max(1) },
                rng,
                proposed: 0,
                accepted: 0,
                forward_tokens: 0,
            }
        })
        .collect();
    drop(prompt_cache);

    // A chain with a cap of 0 has only the empty response and takes part in nothing.
    let ends: Vec<Vec<usize>> =
        chains.iter().map(|c| if c.cap == 0 { vec![] } else { power.block_ends(c.cap) }).collect();
    let blocks = ends.iter().map(Vec::len).max().unwrap_or(0);
    for b in 0..blocks {
        let live: Vec<usize> = (0..chains.len()).filter(|&c| b < ends[c].len()).collect();
        // Extend each unfinished state to the block's end: a proposal accepted unconditionally
        // (a state that stopped in an earlier block is complete and stays as it is).
        let reqs: Vec<(usize, usize, usize)> = live
            .iter()
            .filter(|&&c| !chains[c].state.stopped)
            .map(|&c| (c, chains[c].state.tokens.len(), ends[c][b]))
            .collect();
        for (c, prop, kv) in propose(model, prompts, eos_ids, a, &mut chains, &reqs)? {
            chains[c].state = prop;
            chains[c].kv = kv;
        }
        for _ in 0..power.steps {
            let reqs: Vec<(usize, usize, usize)> = live
                .iter()
                .map(|&c| {
                    let ch = &mut chains[c];
                    (c, ch.rng.gen_range(0..ch.state.positions()), ends[c][b])
                })
                .collect();
            for ((c, prop, kv), &(_, t, _)) in
                propose(model, prompts, eos_ids, a, &mut chains, &reqs)?.into_iter().zip(&reqs)
            {
                let ch = &mut chains[c];
                let log_a = accept(power.alpha, &ch.state.suffix(t), &prop.suffix(t));
                ch.proposed += 1;
                // ln u < log A with u ∈ [0, 1): accepts with probability min(1, A); NaN never does.
                if log_a >= 0.0 || ch.rng.gen::<f64>().ln() < log_a {
                    ch.state = prop;
                    ch.kv = kv;
                    ch.accepted += 1;
                }
            }
        }
    }
    let samples = chains
        .into_iter()
        .enumerate()
        .map(|(r, ch)| {
            let s = ch.state;
            let logprobs = s.log_ref[..s.tokens.len()].iter().map(|&x| x as f32).collect();
            PowerRollout {
                rollout: Rollout {
                    prompt_index: ch.prompt,
                    sample_index: r % n.max(1),
                    tokens: s.tokens,
                    logprobs,
                    stop: if s.eos { StopReason::Eos } else { StopReason::Length },
                },
                proposed: ch.proposed,
                accepted: ch.accepted,
                forward_tokens: ch.forward_tokens,
            }
        })
        .collect();
    Ok(PowerOutput { samples, prefill_tokens: heads.iter().sum() })
}

/// For each request (chain c, position t, block end): the chain's state cut at t and redrawn
/// from the proposal (exponent `a`) until a stop or the end, with where its keys and values
/// now live. Requests that need no token (a cut at the cap) cost nothing; the others run as one
/// batch on a cache gathered from the chains' own rows.
fn propose(
    model: &Model,
    prompts: &[Vec<u32>],
    eos_ids: &[u32],
    a: f64,
    chains: &mut [Chain],
    reqs: &[(usize, usize, usize)],
) -> Result<Vec<(usize, State, Kv)>, RolloutError> {
    let mut out: Vec<(usize, State, Kv)> = Vec::with_capacity(reqs.len());
    // Rows to decode: (index in `out`, chain, block end).
    let mut rows: Vec<(usize, usize, usize)> = Vec::new();
    for &(c, t, end) in reqs {
        let ch = &chains[c];
        let mut s = ch.state.prefix(t);
        if s.settle(ch.cap, end) {
            rows.push((out.len(), c, end));
        }
        out.push((c, s, ch.kv.clone()));
    }
    if rows.is_empty() {
        return Ok(out);
    }
    // Gather each row's kept prefix: prompt + tokens minus the last, which is fed below.
    let mut sources: Vec<Rc<KvCache>> = Vec::new();
    let mut gather = Vec::with_capacity(rows.len());
    let mut feed = Vec::with_capacity(rows.len());
    let mut room = 0;
    for &(o, c, end) in &rows {
        let (s, kv) = (&out[o].1, &out[o].2);
        let source = match sources.iter().position(|x| Rc::ptr_eq(x, &kv.cache)) {
            Some(i) => i,
            None => {
                sources.push(kv.cache.clone());
                sources.len() - 1
            }
        };
        let p = &prompts[chains[c].prompt];
        gather.push(GatherRow { source, row: kv.row, keep: p.len() + s.tokens.len() - 1 });
        feed.push(*s.tokens.last().unwrap_or(&p[p.len() - 1]));
        room = room.max(end.min(chains[c].cap) - s.tokens.len());
    }
    let refs: Vec<&KvCache> = sources.iter().map(|x| x.as_ref()).collect();
    let mut cache = KvCache::gather(&refs, &gather, room)?;
    drop(refs);
    drop(sources);
    let device = model.device().clone();
    let v = model.config().vocab_size;
    let mut active: Vec<bool> = vec![true; rows.len()];
    loop {
        let logits =
            model.forward_cached(&Tensor::from_vec(feed.clone(), (rows.len(), 1), &device)?, &mut cache, true)?;
        // One uniform per active row, from its chain's stream; the picks run in parallel.
        let us: Vec<f64> =
            rows.iter().zip(&active).map(|(&(_, c, _), &on)| if on { chains[c].rng.gen() } else { 0.0 }).collect();
        let picks: Vec<(u32, f64, f64)> = with_host_logits(&logits, |host| {
            (0..rows.len())
                .into_par_iter()
                .map_init(Vec::new, |w, i| {
                    if active[i] {
                        pick_power(&host[i * v..(i + 1) * v], a, us[i], w)
                    } else {
                        (0, 0.0, 0.0)
                    }
                })
                .collect()
        })?;
        for (i, &(o, c, end)) in rows.iter().enumerate() {
            if !active[i] {
                continue;
            }
            let (tok, lp, lq) = picks[i];
            chains[c].forward_tokens += 1;
            let s = &mut out[o].1;
            s.tokens.push(tok);
            s.log_ref.push(lp);
            s.log_q.push(lq);
            if eos_ids.contains(&tok) {
                s.stopped = true;
                s.eos = true;
                active[i] = false;
            } else {
                active[i] = s.settle(chains[c].cap, end);
            }
            feed[i] = tok;
        }
        if !active.iter().any(|&x| x) {
            break;
        }
    }
    let cache = Rc::new(cache);
    for (i, &(o, _, _)) in rows.iter().enumerate() {
        out[o].2 = Kv { cache: cache.clone(), row: i };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_power_reports_both_laws() {
        // p ∝ (1, e, e²); at a = 2 q ∝ (1, e², e⁴).
        let logits = [0.0f32, 1.0, 2.0];
        let zp: f64 = (0..3).map(|i| (i as f64).exp()).sum();
        let zq: f64 = (0..3).map(|i| (2.0 * i as f64).exp()).sum();
        let mut w = Vec::new();
        let (t, lp, lq) = pick_power(&logits, 2.0, 0.999, &mut w);
        assert_eq!(t, 2);
        assert!((lp - (2.0 - zp.ln())).abs() < 1e-6);
        assert!((lq - (4.0 - zq.ln())).abs() < 1e-6);
        // u just below the first token's q-mass picks it.
        let (t, _, lq) = pick_power(&logits, 2.0, 0.99 / zq, &mut w);
        assert_eq!(t, 0);
        assert!((lq + zq.ln()).abs() < 1e-6);
        // At a = 1 the two laws agree.
        let (_, lp, lq) = pick_power(&logits, 1.0, 0.5, &mut w);
        assert_eq!(lp, lq);
    }

    #[test]
    fn a_cut_at_the_cap_takes_the_stop_decision_only() {
        let mut s =
            State { tokens: vec![3, 4], log_ref: vec![-1.0, -2.0], log_q: vec![-0.5, -1.5], ..State::default() };
        assert!(!s.settle(2, 2));
        assert!(s.stopped && !s.eos);
        assert_eq!(s.positions(), 3);
        assert_eq!(s.suffix(2), Suffix { log_ref: 0.0, log_q: 0.0, positions: 3 });
        let mut p = s.prefix(1);
        assert!(p.settle(2, 2));
        assert_eq!((p.tokens.len(), p.positions(), p.stopped), (1, 1, false));
    }
}
