//! Named families of tabular autoregressive models.
//!
//! * [`Geometric`] — stop with probability s at every step, else one of V tokens (uniform or
//!   Zipf-weighted): lengths vary geometrically up to the cap. Answer: the last token; a
//!   response is correct when it ends in token `a` (the empty response is wrong).
//! * [`Reasoning`] — a one-token direct answer versus chains of thought (step tokens) that end
//!   in an answer token; the accuracy of each branch is a parameter. Answer: the first answer
//!   token. With the defaults the single likeliest string is the wrong direct answer while most
//!   mass is on correct chains (T3 on sequences).
//! * [`Loop`] — a confident repeating token that can run to the cap next to short answers: the
//!   loop is unlikely as a whole but likely per token, so `mean` normalisation favours it.
//! * [`FixedLength`] — any family with EOS forbidden before the cap (the paper's ignore-EOS runs).

use super::model::Family;
use crate::error::ToyError;
use serde::Serialize;

fn letter(v: u32) -> String {
    if v < 26 {
        ((b'a' + v as u8) as char).to_string()
    } else {
        format!("t{v}")
    }
}

fn check_prob(what: &str, x: f64, open: bool) -> Result<(), ToyError> {
    let ok = x.is_finite() && if open { x > 0.0 && x < 1.0 } else { (0.0..=1.0).contains(&x) };
    if ok {
        Ok(())
    } else {
        let range = if open { "(0, 1)" } else { "[0, 1]" };
        Err(ToyError::Invalid(format!("{what} must lie in {range}, got {x}")))
    }
}

/// The longest cap a family accepts; trees are further bounded by their number of prefixes.
pub const MAX_LEN: usize = 4096;

/// The largest vocabulary a family takes (an LLM's is at most a few 10^5; the geometric family
/// keeps one weight per token).
pub const MAX_VOCAB: usize = 10_000_000;

fn check_vocab(vocab: usize, min: usize) -> Result<(), ToyError> {
    if vocab < min || vocab > MAX_VOCAB {
        return Err(ToyError::Invalid(format!("vocab must lie in {min}..={MAX_VOCAB}, got {vocab}")));
    }
    Ok(())
}

fn check_len(max_len: usize, min: usize) -> Result<(), ToyError> {
    if max_len < min || max_len > MAX_LEN {
        return Err(ToyError::Invalid(format!("max_len must lie in {min}..={MAX_LEN}, got {max_len}")));
    }
    Ok(())
}

/// Stop with probability `stop`, else token v with probability (1 − stop)·u_v.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Geometric {
    pub vocab: usize,
    pub stop: f64,
    /// Zipf exponent e (u_v ∝ (v+1)^−e); `None` is uniform.
    pub zipf: Option<f64>,
    pub max_len: usize,
    #[serde(skip)]
    u: Vec<f64>,
}

impl Geometric {
    pub fn new(vocab: usize, stop: f64, zipf: Option<f64>, max_len: usize) -> Result<Self, ToyError> {
        check_vocab(vocab, 1)?;
        check_prob("stop", stop, true)?;
        check_len(max_len, 1)?;
        if let Some(e) = zipf {
            if !(e.is_finite() && e >= 0.0) {
                return Err(ToyError::Invalid(format!("zipf exponent must be a finite number >= 0, got {e}")));
            }
        }
        let raw: Vec<f64> = (0..vocab).map(|v| ((v + 1) as f64).powf(-zipf.unwrap_or(0.0))).collect();
        let total: f64 = raw.iter().sum();
        let u = raw.iter().map(|x| x / total).collect();
        Ok(Self { vocab, stop, zipf, max_len, u })
    }

    /// The token distribution u (sums to 1).
    pub fn token_weights(&self) -> &[f64] {
        &self.u
    }
}

impl Family for Geometric {
    fn name(&self) -> String {
        let tokens = self.zipf.map_or("uniform".to_string(), |e| format!("zipf {e}"));
        format!("geometric V={} s={} {tokens} L={}", self.vocab, self.stop, self.max_len)
    }
    fn vocab(&self) -> usize {
        self.vocab
    }
    fn max_len(&self) -> usize {
        self.max_len
    }
    fn next(&self, _prefix: &[u32], probs: &mut [f64]) -> f64 {
        for (p, u) in probs.iter_mut().zip(&self.u) {
            *p = (1.0 - self.stop) * u;
        }
        self.stop
    }
    fn outcome(&self, seq: &[u32]) -> (String, f64) {
        match seq.last() {
            None => ("∅".into(), 0.0),
            Some(&v) => (letter(v), if v == 0 { 1.0 } else { 0.0 }),
        }
    }
}

/// Tokens: 0 = `A` (correct answer), 1 = `B` (wrong answer), 2.. = step tokens.
/// At the root: answer directly with probability `p_direct` (correct with `acc_direct`), else
/// start a chain. In a chain: conclude with probability `conclude` (forced one token before
/// the cap), giving `A` with probability `acc_cot`; else another step. After an answer: EOS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reasoning {
    pub vocab: usize,
    pub max_len: usize,
    pub conclude: f64,
    pub p_direct: f64,
    pub acc_direct: f64,
    pub acc_cot: f64,
}

impl Reasoning {
    pub fn new(
        vocab: usize,
        max_len: usize,
        conclude: f64,
        p_direct: f64,
        acc_direct: f64,
        acc_cot: f64,
    ) -> Result<Self, ToyError> {
        // A, B and a step token.
        check_vocab(vocab, 3)?;
        check_len(max_len, 2)?;
        check_prob("conclude (--stop)", conclude, true)?;
        check_prob("p_direct", p_direct, false)?;
        check_prob("acc_direct", acc_direct, false)?;
        check_prob("acc_cot", acc_cot, false)?;
        Ok(Self { vocab, max_len, conclude, p_direct, acc_direct, acc_cot })
    }

    fn answered(prefix: &[u32]) -> Option<u32> {
        prefix.iter().copied().find(|&v| v < 2)
    }
}

impl Family for Reasoning {
    fn name(&self) -> String {
        format!(
            "reasoning V={} L={} conclude={} p_direct={} acc_direct={} acc_cot={}",
            self.vocab, self.max_len, self.conclude, self.p_direct, self.acc_direct, self.acc_cot
        )
    }
    fn vocab(&self) -> usize {
        self.vocab
    }
    fn max_len(&self) -> usize {
        self.max_len
    }
    fn next(&self, prefix: &[u32], probs: &mut [f64]) -> f64 {
        if Self::answered(prefix).is_some() {
            return 1.0;
        }
        let steps = (self.vocab - 2) as f64;
        let (answer, acc) = if prefix.is_empty() {
            (self.p_direct, self.acc_direct)
        } else if prefix.len() + 1 == self.max_len {
            (1.0, self.acc_cot)
        } else {
            (self.conclude, self.acc_cot)
        };
        probs[0] = answer * acc;
        probs[1] = answer * (1.0 - acc);
        probs[2..].iter_mut().for_each(|p| *p = (1.0 - answer) / steps);
        0.0
    }
    fn outcome(&self, seq: &[u32]) -> (String, f64) {
        match Self::answered(seq) {
            Some(0) => ("A".into(), 1.0),
            Some(_) => ("B".into(), 0.0),
            None => ("none".into(), 0.0),
        }
    }
    fn pad(&self) -> u32 {
        2
    }
}

/// Tokens: 0 = `~` (the loop token), 1 = `A` (correct), 2.. = wrong answers.
/// At the root: enter the loop with probability `p_loop`, else answer (`A` with probability
/// `acc`, the wrong answers sharing the rest) and stop. In the loop: repeat with probability
/// 1 − `stop`, else EOS. A loop carries no answer (reward 0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Loop {
    pub vocab: usize,
    pub max_len: usize,
    pub stop: f64,
    pub p_loop: f64,
    pub acc: f64,
}

impl Loop {
    pub fn new(vocab: usize, max_len: usize, stop: f64, p_loop: f64, acc: f64) -> Result<Self, ToyError> {
        // ~, A and a wrong answer.
        check_vocab(vocab, 3)?;
        check_len(max_len, 1)?;
        check_prob("stop", stop, true)?;
        check_prob("p_loop", p_loop, false)?;
        check_prob("acc", acc, false)?;
        Ok(Self { vocab, max_len, stop, p_loop, acc })
    }
}

impl Family for Loop {
    fn name(&self) -> String {
        format!("loop V={} L={} stop={} p_loop={} acc={}", self.vocab, self.max_len, self.stop, self.p_loop, self.acc)
    }
    fn vocab(&self) -> usize {
        self.vocab
    }
    fn max_len(&self) -> usize {
        self.max_len
    }
    fn next(&self, prefix: &[u32], probs: &mut [f64]) -> f64 {
        match prefix.first() {
            None => {
                let wrong = (self.vocab - 2) as f64;
                probs[0] = self.p_loop;
                probs[1] = (1.0 - self.p_loop) * self.acc;
                probs[2..].iter_mut().for_each(|p| *p = (1.0 - self.p_loop) * (1.0 - self.acc) / wrong);
                0.0
            }
            Some(0) if prefix.iter().all(|&v| v == 0) => {
                probs[0] = 1.0 - self.stop;
                self.stop
            }
            Some(_) => 1.0,
        }
    }
    fn outcome(&self, seq: &[u32]) -> (String, f64) {
        match seq.first() {
            Some(0) | None => ("loop".into(), 0.0),
            Some(1) => ("A".into(), 1.0),
            Some(&v) => (format!("W{}", v - 1), 0.0),
        }
    }
}

/// Any family with EOS forbidden before the cap: the token probabilities are renormalised, and
/// where the family would stop for sure it emits its pad token instead.
pub struct FixedLength<F: Family>(pub F);

impl<F: Family> Family for FixedLength<F> {
    fn name(&self) -> String {
        format!("fixed-length {}", self.0.name())
    }
    fn vocab(&self) -> usize {
        self.0.vocab()
    }
    fn max_len(&self) -> usize {
        self.0.max_len()
    }
    fn next(&self, prefix: &[u32], probs: &mut [f64]) -> f64 {
        let eos = self.0.next(prefix, probs);
        if eos < 1.0 {
            let keep = probs.iter().sum::<f64>();
            probs.iter_mut().for_each(|p| *p /= keep);
        } else {
            probs.iter_mut().for_each(|p| *p = 0.0);
            probs[self.0.pad() as usize] = 1.0;
        }
        0.0
    }
    fn outcome(&self, seq: &[u32]) -> (String, f64) {
        self.0.outcome(seq)
    }
    fn pad(&self) -> u32 {
        self.0.pad()
    }
}
