//! The task reward: a math answer verifier (DESIGN §4).
//!
//! ```
//! use sharpen::verify::{extract_answer, is_equiv, task_reward};
//! assert_eq!(extract_answer("so $x = \\boxed{\\frac{1}{2}}$."), Some("\\frac{1}{2}".to_string()));
//! assert!(is_equiv("0.5", "\\frac12"));
//! assert_eq!(task_reward("... the total is \\boxed{1,000}.", "1000"), 1.0);
//! ```
//!
//! Every function here is total: it never panics and its running time is bounded on any input
//! (responses are scanned once from the end, answers are capped at [`MAX_ANSWER_BYTES`], and
//! all recursion is depth-limited). Nothing uses regular expressions.

mod equal;
mod extract;
mod normalize;
mod value;

pub use extract::{after_answer_phrase, after_hashes, has_box, last_boxed};
pub use normalize::{normalize, Normalized};

/// Answers longer than this are compared only as exact (trimmed) strings.
pub const MAX_ANSWER_BYTES: usize = 2000;
/// Only the last this-many bytes of a response are searched for its answer.
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// The final answer of a model response: the last `\boxed{}`/`\fbox{}` (balanced braces), else
/// the text after the last `####`, else the phrase after the last "answer is"/"answer:".
/// A response whose last box is unbalanced (truncated) has no answer.
pub fn extract_answer(response: &str) -> Option<String> {
    extract::extract_answer(response)
}

/// The reference answer from a dataset field: the last box of a solution, the text after a
/// GSM8K `####`, or the field itself when it is already a bare answer.
pub fn gold_answer(gold: &str) -> Option<String> {
    if has_box(gold) {
        return last_boxed(gold);
    }
    if gold.contains("####") {
        return after_hashes(gold);
    }
    let g = gold.trim();
    (!g.is_empty()).then(|| g.to_string())
}

/// Whether two bare answers (already extracted) are the same answer.
pub fn is_equiv(pred: &str, gold: &str) -> bool {
    let (p, g) = (pred.trim(), gold.trim());
    if p.len() > MAX_ANSWER_BYTES || g.len() > MAX_ANSWER_BYTES {
        return !p.is_empty() && p == g;
    }
    equal::equal_normalized(&normalize(p), &normalize(g))
}

/// Lenient check used by `sharpen verify`: `pred` may be a whole response or a bare answer, and
/// `gold` a solution or a bare answer.
pub fn is_correct(pred: &str, gold: &str) -> bool {
    let p = extract_answer(pred).unwrap_or_else(|| pred.trim().to_string());
    gold_answer(gold).is_some_and(|g| is_equiv(&p, &g))
}

/// The paper's binary task reward r(x, y) ∈ {0, 1}: 1.0 when the response's extracted final
/// answer equals the reference answer, 0.0 otherwise (also when no answer can be extracted).
pub fn task_reward(response: &str, gold: &str) -> f64 {
    let correct = match (extract_answer(response), gold_answer(gold)) {
        (Some(p), Some(g)) => is_equiv(&p, &g),
        _ => false,
    };
    if correct {
        1.0
    } else {
        0.0
    }
}

/// `s` cut to at most [`MAX_ANSWER_BYTES`] bytes at a character boundary.
pub(crate) fn cap(s: &str) -> &str {
    if s.len() <= MAX_ANSWER_BYTES {
        return s;
    }
    let mut end = MAX_ANSWER_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
