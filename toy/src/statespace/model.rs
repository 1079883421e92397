//! A state-space autoregressive model: the next-token law depends on a small state (the
//! family's phase) and the position, not on the whole prefix.
//!
//! At position t (the number of tokens so far) in state s the law is a [`Law`]: a stop
//! probability and groups of tokens, each group a contiguous token range whose tokens share one
//! probability and lead to one next state. A vocabulary of 152,000 equiprobable tokens is one
//! group, not 152,000 entries. The law may change with the position ([`State::pieces`]), which
//! is how a per-position stop hazard or a forced conclusion before the cap is written.
//! A prefix of `max_len` tokens stops with probability 1; the answer and the task reward of a
//! complete sequence are functions of its final state.

use crate::error::ToyError;
use crate::tree::model::Family;
use serde::Serialize;

/// Tokens `first..first + count`, each with probability exp(`log_p`), each leading to `next`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub first: u32,
    pub count: u32,
    pub log_p: f64,
    pub next: usize,
}

/// The next-token law of one state over a range of positions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Law {
    /// log p(EOS); −∞ where stopping is impossible.
    pub log_stop: f64,
    pub groups: Vec<Group>,
}

/// One state: its answer and reward (of a sequence that ends in it) and its laws, piecewise
/// constant in the position: `pieces[k].0` is the first position of piece k (the first is 0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub name: String,
    pub answer: String,
    pub reward: f64,
    pub pieces: Vec<(usize, Law)>,
}

/// A validated state-space model (see the module documentation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StateModel {
    pub name: String,
    pub vocab: usize,
    pub max_len: usize,
    pub start: usize,
    pub states: Vec<State>,
    /// The token a fixed-length wrapper emits where the model would stop with certainty.
    pub pad: u32,
}

/// How far a law's probabilities may be from summing to one (as for trees).
const SUM_TOL: f64 = 1e-9;

/// The largest cap a state-space model accepts: positions are stored densely.
pub const MAX_STATE_LEN: usize = 1 << 16;

impl StateModel {
    /// Check every law: disjoint token ranges inside the vocabulary, positive finite group
    /// probabilities, next states that exist, probabilities summing to one, rewards in [0, 1].
    pub fn new(
        name: String,
        vocab: usize,
        max_len: usize,
        start: usize,
        states: Vec<State>,
        pad: u32,
    ) -> Result<Self, ToyError> {
        let bad = |msg: String| Err(ToyError::Invalid(format!("{name}: {msg}")));
        if vocab == 0 || vocab > u32::MAX as usize {
            return bad(format!("the vocabulary must hold 1..={} tokens, got {vocab}", u32::MAX));
        }
        if max_len > MAX_STATE_LEN {
            return bad(format!("max_len {max_len} is above {MAX_STATE_LEN}"));
        }
        if start >= states.len() {
            return bad(format!("start state {start} does not exist ({} states)", states.len()));
        }
        for st in &states {
            if !(st.reward.is_finite() && (0.0..=1.0).contains(&st.reward)) {
                return bad(format!("state {}: reward {} is outside [0, 1]", st.name, st.reward));
            }
            if st.pieces.first().map(|p| p.0) != Some(0) || st.pieces.windows(2).any(|w| w[0].0 >= w[1].0) {
                return bad(format!("state {}: law pieces must start at position 0 and increase", st.name));
            }
            for (from, law) in &st.pieces {
                let mut ranges: Vec<(u64, u64)> = Vec::with_capacity(law.groups.len());
                let mut total = if law.log_stop == f64::NEG_INFINITY { 0.0 } else { law.log_stop.exp() };
                if law.log_stop.is_nan() || law.log_stop > 1e-12 {
                    return bad(format!("state {} at {from}: log p(EOS) = {}", st.name, law.log_stop));
                }
                for g in &law.groups {
                    if g.count == 0 || !g.log_p.is_finite() || g.log_p > 1e-12 || g.next >= states.len() {
                        return bad(format!("state {} at {from}: invalid group {g:?}", st.name));
                    }
                    if g.first as u64 + g.count as u64 > vocab as u64 {
                        return bad(format!("state {} at {from}: group {g:?} leaves the vocabulary", st.name));
                    }
                    ranges.push((g.first as u64, g.first as u64 + g.count as u64));
                    total += g.count as f64 * g.log_p.exp();
                }
                ranges.sort_unstable();
                if ranges.windows(2).any(|w| w[0].1 > w[1].0) {
                    return bad(format!("state {} at {from}: token groups overlap", st.name));
                }
                if (total - 1.0).abs() > SUM_TOL {
                    return bad(format!("state {} at {from}: next-token probabilities sum to {total}", st.name));
                }
            }
        }
        if pad as usize >= vocab {
            return bad(format!("pad token {pad} is outside the vocabulary"));
        }
        Ok(Self { name, vocab, max_len, start, states, pad })
    }

    pub fn len(&self) -> usize {
        self.states.len()
    }
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// The law of state `s` at position `pos` (< max_len).
    pub fn law(&self, pos: usize, s: usize) -> &Law {
        let pieces = &self.states[s].pieces;
        let k = pieces.partition_point(|p| p.0 <= pos);
        &pieces[k - 1].1
    }

    /// log p(stop) at (pos, s): the law's EOS below the cap, certainty at it.
    pub fn log_stop(&self, pos: usize, s: usize) -> f64 {
        if pos == self.max_len {
            0.0
        } else {
            self.law(pos, s).log_stop
        }
    }

    /// The fixed-length version: EOS forbidden before the cap, the token probabilities
    /// renormalised; where the model would stop with certainty it emits its pad token and keeps
    /// its state (the pad is a no-op, so the answer stays that of the state).
    pub fn fixed_length(&self) -> Self {
        let mut m = self.clone();
        m.name = format!("fixed-length {}", self.name);
        for (s, st) in m.states.iter_mut().enumerate() {
            for (_, law) in st.pieces.iter_mut() {
                if law.groups.is_empty() {
                    law.groups = vec![Group { first: self.pad, count: 1, log_p: 0.0, next: s }];
                } else {
                    let keep = crate::logspace::logsumexp(
                        &law.groups.iter().map(|g| (g.count as f64).ln() + g.log_p).collect::<Vec<_>>(),
                    );
                    law.groups.iter_mut().for_each(|g| g.log_p -= keep);
                }
                law.log_stop = f64::NEG_INFINITY;
            }
        }
        m
    }

    /// The state after a token sequence from the start, or `None` if a token is impossible.
    pub fn walk(&self, seq: &[u32]) -> Option<usize> {
        let mut s = self.start;
        for (pos, &v) in seq.iter().enumerate() {
            if pos >= self.max_len {
                return None;
            }
            let g = self.law(pos, s).groups.iter().find(|g| v >= g.first && v - g.first < g.count)?;
            s = g.next;
        }
        Some(s)
    }
}

/// A state-space model read as a [`Family`], so that [`crate::tree::Tree::build`] expands it
/// into the prefix tree that stays the reference.
impl Family for StateModel {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn vocab(&self) -> usize {
        self.vocab
    }
    fn max_len(&self) -> usize {
        self.max_len
    }
    fn next(&self, prefix: &[u32], probs: &mut [f64]) -> f64 {
        // Tree::build only asks for prefixes it reached with positive probability.
        let Some(s) = self.walk(prefix) else { return 1.0 };
        let law = self.law(prefix.len(), s);
        for g in &law.groups {
            let p = g.log_p.exp();
            probs[g.first as usize..(g.first + g.count) as usize].iter_mut().for_each(|x| *x = p);
        }
        law.log_stop.exp()
    }
    fn outcome(&self, seq: &[u32]) -> (String, f64) {
        match self.walk(seq) {
            Some(s) => (self.states[s].answer.clone(), self.states[s].reward),
            None => ("unreachable".into(), 0.0),
        }
    }
    fn pad(&self) -> u32 {
        self.pad
    }
}
