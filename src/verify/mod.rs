//! The task reward: Math-Verify as the paper's authors call it, through the `sharpen-verify`
//! crate (verify/ in this workspace; see its README).
//!
//! ```
//! use sharpen::verify::{extract_answer, is_equiv, task_reward};
//! assert_eq!(task_reward("so $x = \\boxed{\\frac{1}{2}}$.", "0.5"), 1.0);
//! assert_eq!(extract_answer("so $x = \\boxed{\\frac{1}{2}}$."), Some("\\frac{1}{2}".to_string()));
//! assert!(is_equiv("0.5", "\\frac12"));
//! // The authors' quirk: an answer outside math delimiters is not read unless boxed.
//! assert_eq!(task_reward("**Answer:** \\dfrac{1}{4}", "\\frac{1}{4}"), 0.0);
//! ```
//!
//! Dataset golds are bare answers already (see `data`); [`gold_answer`] reads one out of a
//! solution for `sharpen verify`. Every function here is total: no panic, bounded time.

mod extract;

pub use extract::{after_answer_phrase, after_hashes, has_box, last_boxed};
pub use sharpen_verify::{explain, score};

/// Only the last this-many bytes of a response are searched for its answer.
pub const MAX_RESPONSE_BYTES: usize = sharpen_verify::MAX_INPUT_BYTES;

/// The final answer of a model response as Math-Verify extracts it (the normalized text of the
/// match that converted, else the first match's text); `None` when nothing matched.
pub fn extract_answer(response: &str) -> Option<String> {
    let e = sharpen_verify::extract(response);
    e.parsed_text.or(e.fallback).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
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

/// Whether an extracted answer equals a gold answer: the authors' call with the answer boxed as
/// the response (used to group samples for maj@k and to score extracted answers).
pub fn is_equiv(pred: &str, gold: &str) -> bool {
    score(&format!("\\boxed{{{pred}}}"), gold)
}

/// `sharpen verify`: `pred` is a response (or a bare answer, read as a response), `gold` a bare
/// answer or a solution; scored with the authors' call.
pub fn is_correct(pred: &str, gold: &str) -> bool {
    gold_answer(gold).is_some_and(|g| score(pred, &g))
}

/// The paper's binary task reward r(x, y) ∈ {0, 1}: Math-Verify with the authors' call, the gold
/// wrapped as `\boxed{gold}`; 0 when nothing can be extracted or compared.
pub fn task_reward(response: &str, gold: &str) -> f64 {
    if score(response, gold) {
        1.0
    } else {
        0.0
    }
}
