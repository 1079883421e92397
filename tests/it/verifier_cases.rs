//! The committed verifier cases (tests/data/verifier_cases.jsonl), labelled with the authors'
//! Math-Verify call by `scripts/verify/make_fixture.py --relabel-cases` (25 of the 226 labels
//! changed from the earlier hand-written verifier's; their notes say so): `is_correct` and, for
//! boxed responses, `task_reward` must give every label.

use serde::Deserialize;
use sharpen::verify::{extract_answer, is_correct, is_equiv, task_reward};

#[derive(Deserialize)]
struct Case {
    pred: String,
    gold: String,
    correct: bool,
    note: String,
}

fn cases() -> Vec<Case> {
    let text = include_str!("../data/verifier_cases.jsonl");
    text.lines()
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("line {}: {e}", i + 1)))
        .collect()
}

#[test]
fn all_committed_cases_get_their_label() {
    let cases = cases();
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let wrong: Vec<String> = cases
        .iter()
        .enumerate()
        .filter(|(_, c)| is_correct(&c.pred, &c.gold) != c.correct)
        .map(|(i, c)| format!("line {}: {:?} vs {:?} expected {} ({})", i + 1, c.pred, c.gold, c.correct, c.note))
        .collect();
    assert!(wrong.is_empty(), "{} of {} cases wrong:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
    let (t, f) = (cases.iter().filter(|c| c.correct).count(), cases.iter().filter(|c| !c.correct).count());
    assert!(t >= 50 && f >= 50, "both labels well represented: {t} true, {f} false");
}

#[test]
fn task_reward_agrees_with_the_cases_for_boxed_responses() {
    for c in
        cases().iter().filter(|c| c.pred.contains("\\boxed") && !c.gold.contains("\\boxed") && !c.gold.contains("####"))
    {
        let r = task_reward(&c.pred, &c.gold);
        assert_eq!(r, if c.correct { 1.0 } else { 0.0 }, "{:?} vs {:?} ({})", c.pred, c.gold, c.note);
    }
}

#[test]
fn the_authors_semantics_hold() {
    // A bare number is read by Math-Verify's expression target.
    assert_eq!(task_reward("42", "42"), 1.0);
    assert_eq!(task_reward("I computed it: \\boxed{42}", "42"), 1.0);
    assert_eq!(task_reward("\\boxed{42}", ""), 0.0, "an empty gold answer matches nothing");
    assert_eq!(task_reward("\\boxed{}", ""), 0.0);
    // Several boxes close together are one answer (a set), so a corrected guess scores 0...
    assert_eq!(task_reward("We get \\boxed{3} then \\boxed{5}", "5"), 0.0);
    // ...and a list written as boxes scores 1.
    assert_eq!(task_reward("The roots are \\boxed{1} and \\boxed{2}", "1,2"), 1.0);
    // Undelimited LaTeX is invisible unless boxed.
    assert_eq!(task_reward("**Answer:** \\dfrac{1}{4}", "\\frac{1}{4}"), 0.0);
    assert_eq!(task_reward("**Answer:** $\\dfrac{1}{4}$", "\\frac{1}{4}"), 1.0);
    // A lowercase e in a gold is Euler's number.
    assert_eq!(task_reward("\\boxed{3.89 \\times 10^{-10}}", "3.89e-10"), 0.0);
}

#[test]
fn extraction_rules() {
    assert_eq!(extract_answer("a \\boxed{1} b \\boxed{2} c").as_deref(), Some("1,2"));
    assert_eq!(extract_answer("#### 72\n").as_deref(), Some("72"));
    assert_eq!(extract_answer("The answer is 3.5.").as_deref(), Some("3.5"));
    assert_eq!(extract_answer("THE ANSWER IS $12$").as_deref(), Some("12"));
    assert_eq!(extract_answer("nothing"), None);
    assert!(is_equiv("0.5", "\\frac12"));
    assert!(!is_equiv("0.5", "\\frac13"));
}
