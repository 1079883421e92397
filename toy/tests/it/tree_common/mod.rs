//! Random small autoregressive models and brute-force enumeration, the reference for every DP.
#![allow(dead_code)]

use proptest::prelude::*;
use sharpen_toy::tree::{Family, FixedLength, Tree};
use sharpen_toy::{Bandit, Response};

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A uniform number in [0, 1) from a seed, a prefix and a slot.
fn unit(seed: u64, prefix: &[u32], slot: u64) -> f64 {
    let mut h = splitmix(seed ^ slot.wrapping_mul(0xD6E8_FEB8_6659_FD93));
    for &v in prefix {
        h = splitmix(h ^ (v as u64 + 1));
    }
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Next-token probabilities drawn per prefix from a hash: log-weights spread over `spread`
/// nats, each token (and EOS) missing with probability `holes`.
#[derive(Debug, Clone)]
pub struct RandomFamily {
    pub seed: u64,
    pub vocab: usize,
    pub max_len: usize,
    pub holes: f64,
    pub spread: f64,
    /// Fractional rewards instead of 0/1.
    pub graded: bool,
}

impl Family for RandomFamily {
    fn name(&self) -> String {
        format!("random {self:?}")
    }
    fn vocab(&self) -> usize {
        self.vocab
    }
    fn max_len(&self) -> usize {
        self.max_len
    }
    fn next(&self, prefix: &[u32], probs: &mut [f64]) -> f64 {
        let w = |slot: u64| {
            if unit(self.seed, prefix, 2 * slot) < self.holes {
                0.0
            } else {
                (self.spread * unit(self.seed, prefix, 2 * slot + 1)).exp()
            }
        };
        for (v, p) in probs.iter_mut().enumerate() {
            *p = w(v as u64);
        }
        let mut eos = w(self.vocab as u64);
        if eos == 0.0 && probs.iter().all(|&p| p == 0.0) {
            eos = 1.0;
        }
        let total = eos + probs.iter().sum::<f64>();
        probs.iter_mut().for_each(|p| *p /= total);
        eos / total
    }
    fn outcome(&self, seq: &[u32]) -> (String, f64) {
        let u = unit(self.seed ^ 0xABCD, seq, 7);
        let answer = ((u * 3.0) as u8).min(2);
        let reward = if self.graded { unit(self.seed ^ 0x1234, seq, 9) } else { f64::from(answer == 0) };
        (((b'a' + answer) as char).to_string(), if answer == 0 { reward } else { 0.0 })
    }
    fn pad(&self) -> u32 {
        0
    }
}

/// A random family, sometimes wrapped in fixed-length (vocabulary ≤ 4, length ≤ 6).
pub fn family() -> impl Strategy<Value = (RandomFamily, bool)> {
    (
        any::<u64>(),
        1usize..=4,
        1usize..=6,
        prop_oneof![Just(0.0), 0.0f64..0.5],
        0.5f64..6.0,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(seed, vocab, max_len, holes, spread, graded, fixed)| {
            (RandomFamily { seed, vocab, max_len, holes, spread, graded }, fixed)
        })
}

pub fn boxed(f: &RandomFamily, fixed: bool) -> Box<dyn Family> {
    if fixed {
        Box::new(FixedLength(f.clone()))
    } else {
        Box::new(f.clone())
    }
}

pub fn tree_of(f: &dyn Family) -> Tree {
    Tree::build(f, 1_000_000).expect("valid random family")
}

/// One complete sequence found by enumeration.
#[derive(Debug, Clone)]
pub struct Seq {
    pub tokens: Vec<u32>,
    /// log π_ref(y), summed token by token from the family.
    pub log_p: f64,
    /// The log-probability of the same sequence under token temperature 1/alpha.
    pub log_temp: f64,
    pub answer: String,
    pub reward: f64,
}

/// Enumerate every complete sequence of a family with positive probability, straight from its
/// next-token rule (no tree involved).
pub fn enumerate(f: &dyn Family, alpha: f64) -> Vec<Seq> {
    let mut out = Vec::new();
    walk(f, alpha, &mut Vec::new(), 0.0, 0.0, &mut out);
    out
}

fn walk(f: &dyn Family, alpha: f64, prefix: &mut Vec<u32>, lp: f64, lt: f64, out: &mut Vec<Seq>) {
    let emit = |prefix: &Vec<u32>, lp: f64, lt: f64, out: &mut Vec<Seq>| {
        let (answer, reward) = f.outcome(prefix);
        out.push(Seq { tokens: prefix.clone(), log_p: lp, log_temp: lt, answer, reward });
    };
    if prefix.len() == f.max_len() {
        emit(prefix, lp, lt, out);
        return;
    }
    let mut probs = vec![0.0; f.vocab()];
    let eos = f.next(prefix, &mut probs);
    let norm: f64 = probs.iter().chain([&eos]).filter(|&&p| p > 0.0).map(|p| p.powf(alpha)).sum();
    if eos > 0.0 {
        emit(prefix, lp + eos.ln(), lt + alpha * eos.ln() - norm.ln(), out);
    }
    for (v, &p) in probs.iter().enumerate() {
        if p > 0.0 {
            prefix.push(v as u32);
            walk(f, alpha, prefix, lp + p.ln(), lt + alpha * p.ln() - norm.ln(), out);
            prefix.pop();
        }
    }
}

/// The enumerated sequences as a finite response set (the bandit code is the reference).
pub fn bandit(seqs: &[Seq]) -> Bandit {
    let responses = seqs
        .iter()
        .map(|s| Response { prob: s.log_p.exp(), reward: s.reward, length: s.tokens.len(), answer: s.answer.clone() })
        .collect();
    Bandit::new(responses).expect("enumerated probabilities sum to one")
}
