//! The tabular autoregressive model: a prefix tree with an end-of-sequence token and a length cap.
//!
//! Every prefix is a node, numbered in breadth-first order, so the children of a node are one
//! contiguous range and every child comes after its parent: the forward recursion runs over
//! the nodes in order, the backward one in reverse, both over flat arrays.
//!
//! A complete sequence is a node together with the event "stop here": EOS (for a prefix shorter
//! than the cap) or the cap itself (a prefix of length `max_len` stops with probability 1). So
//! there is at most one complete sequence per node, and a distribution over complete sequences
//! is one log-probability per node. Its length L is the number of non-EOS tokens (0..=max_len).

use crate::error::ToyError;
use std::collections::HashMap;
use std::ops::Range;

/// A family of autoregressive models, described by its next-token rule and its answer rule.
pub trait Family {
    /// A short name for reports ("geometric V=2 s=0.3 L=12", …).
    fn name(&self) -> String;
    /// Number of ordinary tokens (EOS is not counted).
    fn vocab(&self) -> usize;
    /// The length cap: a prefix of this many tokens is a complete sequence.
    fn max_len(&self) -> usize;
    /// Write p(v | prefix) for v in 0..vocab into `probs` and return p(EOS | prefix).
    /// Called only for prefixes shorter than the cap; the values must sum to 1.
    fn next(&self, prefix: &[u32], probs: &mut [f64]) -> f64;
    /// The answer and the task reward in [0, 1] of a complete sequence.
    fn outcome(&self, seq: &[u32]) -> (String, f64);
    /// The token a fixed-length wrapper emits where the family would stop with certainty.
    fn pad(&self) -> u32 {
        0
    }
}

/// Token-level conditionals on a tree's prefixes (the base model, a power target's exact
/// conditionals, a token-temperature sampler): `log_edge[c]` = log q(token(c) | parent(c)),
/// `log_stop[n]` = log q(stop | n). Unreachable entries are −∞, never NaN.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub log_edge: Vec<f64>,
    pub log_stop: Vec<f64>,
}

/// Largest tree `Tree::build` accepts unless told otherwise (≈ 0.5 GB of arrays).
pub const DEFAULT_MAX_NODES: usize = 10_000_000;

/// A validated prefix tree: topology, the base model's conditionals and each complete
/// sequence's answer and reward.
#[derive(Debug, Clone)]
pub struct Tree {
    name: String,
    vocab: usize,
    max_len: usize,
    parent: Vec<u32>,
    token: Vec<u32>,
    depth: Vec<u16>,
    child_start: Vec<u32>,
    base: Policy,
    answer: Vec<u32>,
    reward: Vec<f64>,
    answers: Vec<String>,
}

/// Marks nodes that are not complete sequences (EOS impossible there).
pub const NO_ANSWER: u32 = u32::MAX;

/// How far the next-token values of a prefix may be from summing to one.
const SUM_TOL: f64 = 1e-9;

impl Tree {
    /// Expand a family into its full prefix tree (zero-probability tokens are left out).
    pub fn build(family: &dyn Family, max_nodes: usize) -> Result<Self, ToyError> {
        let (vocab, max_len) = (family.vocab(), family.max_len());
        if vocab == 0 {
            return Err(ToyError::Invalid("the vocabulary must hold at least one token".into()));
        }
        if max_len > u16::MAX as usize {
            return Err(ToyError::Invalid(format!("max_len {max_len} is above {}", u16::MAX)));
        }
        let mut t = Tree {
            name: family.name(),
            vocab,
            max_len,
            parent: vec![u32::MAX],
            token: vec![u32::MAX],
            depth: vec![0],
            child_start: Vec::new(),
            base: Policy { log_edge: vec![0.0], log_stop: Vec::new() },
            answer: Vec::new(),
            reward: Vec::new(),
            answers: Vec::new(),
        };
        let mut interned: HashMap<String, u32> = HashMap::new();
        let mut probs = vec![0.0; vocab];
        let mut prefix: Vec<u32> = Vec::with_capacity(max_len);
        let mut n = 0;
        while n < t.parent.len() {
            t.child_start.push(t.parent.len() as u32);
            t.prefix_into(n, &mut prefix);
            let log_stop = if prefix.len() == max_len {
                0.0
            } else {
                probs.iter_mut().for_each(|p| *p = 0.0);
                let eos = family.next(&prefix, &mut probs);
                let total = eos + probs.iter().sum::<f64>();
                let bad = probs.iter().chain([&eos]).any(|p| !(p.is_finite() && *p >= 0.0));
                if bad || (total - 1.0).abs() > SUM_TOL {
                    return Err(ToyError::Invalid(format!(
                        "{}: next-token probabilities after {prefix:?} are invalid or sum to {total}",
                        t.name
                    )));
                }
                for (v, &p) in probs.iter().enumerate() {
                    if p > 0.0 {
                        if t.parent.len() >= max_nodes {
                            return Err(ToyError::Invalid(format!(
                                "{}: the tree has more than {max_nodes} prefixes",
                                t.name
                            )));
                        }
                        t.parent.push(n as u32);
                        t.token.push(v as u32);
                        t.depth.push(prefix.len() as u16 + 1);
                        t.base.log_edge.push((p / total).ln());
                    }
                }
                (eos / total).ln()
            };
            t.base.log_stop.push(log_stop);
            if log_stop > f64::NEG_INFINITY {
                let (answer, reward) = family.outcome(&prefix);
                if !(reward.is_finite() && (0.0..=1.0).contains(&reward)) {
                    return Err(ToyError::Invalid(format!(
                        "{}: reward {reward} of {prefix:?} is outside [0, 1]",
                        t.name
                    )));
                }
                let next_id = interned.len() as u32;
                let id = *interned.entry(answer.clone()).or_insert_with(|| {
                    t.answers.push(answer);
                    next_id
                });
                t.answer.push(id);
                t.reward.push(reward);
            } else {
                t.answer.push(NO_ANSWER);
                t.reward.push(0.0);
            }
            n += 1;
        }
        t.child_start.push(t.parent.len() as u32);
        Ok(t)
    }

    fn prefix_into(&self, mut n: usize, out: &mut Vec<u32>) {
        out.clear();
        while n != 0 {
            out.push(self.token[n]);
            n = self.parent[n] as usize;
        }
        out.reverse();
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    /// Number of prefixes (nodes), the root included.
    pub fn len(&self) -> usize {
        self.parent.len()
    }
    pub fn is_empty(&self) -> bool {
        false
    }
    pub fn vocab(&self) -> usize {
        self.vocab
    }
    pub fn max_len(&self) -> usize {
        self.max_len
    }
    pub fn parent(&self, n: usize) -> usize {
        self.parent[n] as usize
    }
    /// The token leading to `n` from its parent (`u32::MAX` for the root).
    pub fn token(&self, n: usize) -> u32 {
        self.token[n]
    }
    /// The prefix length of `n` — also the length L of the complete sequence that stops at `n`.
    pub fn depth(&self, n: usize) -> usize {
        self.depth[n] as usize
    }
    pub fn children(&self, n: usize) -> Range<usize> {
        self.child_start[n] as usize..self.child_start[n + 1] as usize
    }
    /// The base model π_ref's conditionals.
    pub fn base(&self) -> &Policy {
        &self.base
    }
    /// Whether a complete sequence can stop at `n` (EOS possible, or the cap reached).
    pub fn is_terminal(&self, n: usize) -> bool {
        self.answer[n] != NO_ANSWER
    }
    /// The answer of the complete sequence stopping at `n` (`None` if it cannot stop there).
    pub fn answer(&self, n: usize) -> Option<&str> {
        self.answers.get(self.answer[n] as usize).map(|s| s.as_str())
    }
    /// Answer ids per node (`NO_ANSWER` where no sequence stops); ids index [`Tree::answers`].
    pub fn answer_ids(&self) -> &[u32] {
        &self.answer
    }
    /// Distinct answers, in order of first appearance.
    pub fn answers(&self) -> &[String] {
        &self.answers
    }
    /// The task reward of the complete sequence stopping at `n` (0 where none stops).
    pub fn reward(&self, n: usize) -> f64 {
        self.reward[n]
    }
    /// The tokens of prefix `n`.
    pub fn sequence(&self, n: usize) -> Vec<u32> {
        let mut out = Vec::new();
        self.prefix_into(n, &mut out);
        out
    }
    /// The node of a token sequence, if the tree holds it.
    pub fn find(&self, seq: &[u32]) -> Option<usize> {
        let mut n = 0;
        for &v in seq {
            n = self.children(n).find(|&c| self.token[c] == v)?;
        }
        Some(n)
    }
}
