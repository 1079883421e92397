//! The paper's chain-of-thought prompt, as the user message of a chat.
//!
//! Rendering the messages into a model's chat template is `chat`'s job; this module only
//! produces the text: the bytes of the authors' examples/prompts/cot.txt after Python's
//! `str.format(problem)` — including the two backslashes before "boxed" (the file writes `\\`,
//! which `format` leaves alone) and the `.:` after "tags". tests/fixtures/prompt/ pins them
//! against the Python rendering (scripts/fixtures/make_prompt_fixture.py).

use serde::{Deserialize, Serialize};

/// The instruction line that precedes the problem.
pub const COT_INSTRUCTION: &str =
    "Think step-by-step to solve the following problem. Output your answer inside of \\\\boxed{} tags.";
/// The line after the problem (and a blank line).
pub const COT_SUFFIX: &str = "Let's think step-by-step";

/// One chat message (`role` is "system", "user" or "assistant").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

/// The user-message text: instruction, the problem, a blank line, "Let's think step-by-step".
pub fn cot_prompt(problem: &str) -> String {
    format!("{COT_INSTRUCTION}:\n{problem}\n\n{COT_SUFFIX}")
}

/// The conversation given to the model: a single user message holding [`cot_prompt`].
pub fn cot_messages(problem: &str) -> Vec<ChatMessage> {
    vec![ChatMessage { role: "user".to_string(), content: cot_prompt(problem) }]
}
