//! What the trainer trains on and the evaluation measures: prompts as token ids and a task
//! reward for a response. `math` is the task of the paper (datasets, the authors' prompt, the
//! Math-Verify reward).

pub mod math;

/// A set of problems. The math task (prompts in the chat template, the verifier as the reward)
/// is one implementation; tests use synthetic rewards on tiny models.
pub trait Task {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The prompt of problem `i`, tokenised (chat template applied).
    fn prompt(&self, i: usize) -> &[u32];
    /// Task reward r ∈ [0, 1] of a response (generated token ids, EOS included if generated).
    fn score(&self, i: usize, response: &[u32]) -> f64;
    /// The answer a response gives (for maj@k votes); None when it gives none or the task has
    /// no notion of one.
    fn answer(&self, _i: usize, _response: &[u32]) -> Option<String> {
        None
    }
    /// The reference answer of problem `i`, if the task has one.
    fn gold(&self, _i: usize) -> Option<String> {
        None
    }
}
