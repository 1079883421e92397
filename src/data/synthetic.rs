//! A synthetic arithmetic task that needs no download: integer expressions with a difficulty
//! knob, generated from one seed, with exact gold answers.
//!
//! Difficulty `d` (1..=10) sets the number of operands (`d + 1`), their size (up to `10·d`) and,
//! from `d = 3`, allows products (factors up to 12, so they stay mental arithmetic).

use super::{DataError, Problem};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Highest accepted difficulty.
pub const MAX_DIFFICULTY: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
        }
    }
}

/// `n` problems of the given difficulty; the same `(n, difficulty, seed)` gives the same problems.
/// The most synthetic problems one call makes (about 100 bytes each in memory).
pub const MAX_SYNTHETIC: usize = 10_000_000;

pub fn arithmetic(n: usize, difficulty: u32, seed: u64) -> Result<Vec<Problem>, DataError> {
    if !(1..=MAX_DIFFICULTY).contains(&difficulty) {
        return Err(DataError::Difficulty { difficulty, max: MAX_DIFFICULTY });
    }
    if !(1..=MAX_SYNTHETIC).contains(&n) {
        return Err(DataError::Count { n, max: MAX_SYNTHETIC });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Ok((0..n)
        .map(|i| {
            let (text, value) = expression(&mut rng, difficulty);
            Problem {
                id: format!("arith-d{difficulty}-s{seed}/{i}"),
                problem: format!("What is {text}?"),
                gold: value.to_string(),
            }
        })
        .collect())
}

/// One expression and its value under the usual precedence (products before sums).
fn expression(rng: &mut ChaCha8Rng, difficulty: u32) -> (String, i64) {
    let max = 10 * i64::from(difficulty);
    let operands = difficulty as usize + 1;
    let mut values = vec![rng.gen_range(1..=max)];
    let mut ops = Vec::with_capacity(operands - 1);
    for _ in 1..operands {
        let op = match rng.gen_range(0..if difficulty >= 3 { 3 } else { 2 }) {
            0 => Op::Add,
            1 => Op::Sub,
            _ => Op::Mul,
        };
        let v = if op == Op::Mul { rng.gen_range(2..=12) } else { rng.gen_range(1..=max) };
        ops.push(op);
        values.push(v);
    }
    let mut text = values[0].to_string();
    for (op, v) in ops.iter().zip(&values[1..]) {
        text.push_str(&format!(" {} {v}", op.symbol()));
    }
    (text, evaluate(&values, &ops))
}

/// Products first, then sums and differences left to right.
fn evaluate(values: &[i64], ops: &[Op]) -> i64 {
    let mut terms = vec![(1i64, values[0])]; // (sign, running product)
    for (op, &v) in ops.iter().zip(&values[1..]) {
        match op {
            Op::Mul => terms.last_mut().expect("non-empty").1 *= v,
            Op::Add => terms.push((1, v)),
            Op::Sub => terms.push((-1, v)),
        }
    }
    terms.iter().map(|(s, p)| s * p).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_products_first() {
        // 2 + 3 * 4 - 5 = 9
        assert_eq!(evaluate(&[2, 3, 4, 5], &[Op::Add, Op::Mul, Op::Sub]), 9);
        // 7 - 2 * 3 * 2 = -5
        assert_eq!(evaluate(&[7, 2, 3, 2], &[Op::Sub, Op::Mul, Op::Mul]), -5);
        assert_eq!(evaluate(&[4], &[]), 4);
    }
}
