//! The committed verifier cases (tests/data/verifier_cases.jsonl): every labelled pair must get
//! its label from the lenient check `is_correct`, and boxed responses the same from `task_reward`.

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
    let text = include_str!("data/verifier_cases.jsonl");
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
    for c in cases().iter().filter(|c| c.pred.contains("\\boxed")) {
        let r = task_reward(&c.pred, &c.gold);
        assert_eq!(r, if c.correct { 1.0 } else { 0.0 }, "{:?} vs {:?} ({})", c.pred, c.gold, c.note);
    }
}

#[test]
fn equivalence_is_symmetric_on_the_cases() {
    for c in cases() {
        let (Some(p), Some(g)) = (extract_answer(&c.pred), sharpen::verify::gold_answer(&c.gold)) else { continue };
        assert_eq!(is_equiv(&p, &g), is_equiv(&g, &p), "{p:?} vs {g:?} ({})", c.note);
    }
}

#[test]
fn task_reward_needs_an_extractable_answer() {
    // A bare number is a fine `sharpen verify --pred` but not a response with a final answer.
    assert_eq!(task_reward("42", "42"), 0.0);
    assert_eq!(task_reward("I computed it: \\boxed{42}", "42"), 1.0);
    assert_eq!(task_reward("\\boxed{42}", ""), 0.0, "an empty gold answer matches nothing");
    assert_eq!(task_reward("\\boxed{}", ""), 0.0);
}

#[test]
fn extraction_rules() {
    assert_eq!(extract_answer("a \\boxed{1} b \\fbox{2} c").as_deref(), Some("2"));
    assert_eq!(extract_answer("\\boxed{\\frac{1}{2}} then \\boxed{x^{2}}").as_deref(), Some("x^{2}"));
    assert_eq!(extract_answer("#### 72\n").as_deref(), Some("72"));
    assert_eq!(extract_answer("The answer is 3.5.").as_deref(), Some("3.5"));
    assert_eq!(extract_answer("THE ANSWER IS $12$").as_deref(), Some("12"));
    assert_eq!(extract_answer("\\boxed{1} \\boxed{2"), None, "a truncated last box is no answer");
    assert_eq!(extract_answer("nothing"), None);
    assert_eq!(extract_answer("\\boxedx"), None);
}

#[test]
fn normal_forms_of_real_answers() {
    use sharpen::verify::normalize;
    let cases = [
        ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})", false),
        ("\\frac{270}7\\text{ degrees}", "\\frac{270}{7}", false),
        ("11,\\! 111,\\! 111,\\! 100", "11111111100", false),
        ("\\$32,\\!348", "32348", false),
        ("864 \\mbox{ inches}^2", "864", false),
        ("\\text{(C)}", "C", false),
        ("\\frac 59", "\\frac{5}{9}", false),
        ("\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}", "\\begin{pmatrix}-1&0\\\\0&-1\\end{pmatrix}", false),
        ("(-\\infty, 0]", "(-\\infty,0]", false),
        ("\\$18.90", "18.9", false),
        ("12.5\\%", "12.5", true),
        ("90^\\circ", "90", false),
        ("p \\rightarrow q", "p\\rightarrow q", false),
        ("2\\pi r", "2\\pi r", false),
    ];
    for (raw, text, percent) in cases {
        let n = normalize(raw);
        assert_eq!((n.text.as_str(), n.percent), (text, percent), "{raw:?}");
    }
}
