//! The adapter over sharpen-verify (`sharpen::verify`) is total: no panic and bounded work on
//! arbitrary and adversarial input. LaTeX-shaped random input is the verify crate's own test.
//! (Math-Verify's comparison is not symmetric and an extracted answer need not equal itself, e.g.
//! `x^2 + c`; the properties asserting those of the earlier verifier are gone.)

use proptest::prelude::*;
use sharpen::verify::{extract_answer, gold_answer, is_correct, is_equiv, task_reward};

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_strings(a in ".{0,200}", b in ".{0,200}") {
        let _ = extract_answer(&a);
        let _ = gold_answer(&b);
        let _ = is_equiv(&a, &b);
        let _ = is_correct(&a, &b);
        let r = task_reward(&a, &b);
        prop_assert!(r == 0.0 || r == 1.0);
    }

    #[test]
    fn integers_compare_by_value(n in any::<i64>(), m in any::<i64>()) {
        prop_assert_eq!(is_equiv(&n.to_string(), &m.to_string()), n == m);
        let boxed = format!("\\boxed{{{n}}}");
        prop_assert_eq!(task_reward(&boxed, &n.to_string()), 1.0);
    }
}

/// Inputs built to defeat naive parsers: deep nesting, long digit strings, many boxes.
#[test]
fn adversarial_inputs_finish() {
    let deep_braces = format!("\\boxed{{{}1{}}}", "{".repeat(50_000), "}".repeat(50_000));
    let deep_parens = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let deep_fracs = "\\frac{".repeat(2_000) + &"1}{2}".repeat(2_000);
    let deep_sqrt = "\\sqrt{".repeat(500) + "2" + &"}".repeat(500);
    let huge_number = "9".repeat(100_000);
    let many_boxes = "\\boxed{1} ".repeat(100_000);
    let unclosed = "\\boxed{".repeat(100_000);
    let powers = "2^".repeat(1_000) + "2";
    let texts = "\\text{".repeat(1_000) + &"}".repeat(1_000);
    let commas = "1,".repeat(1_000) + "1";
    let long_tuple = format!("({})", "1,".repeat(900) + "1");
    let inputs = [
        deep_braces,
        deep_parens,
        deep_fracs,
        deep_sqrt,
        huge_number,
        many_boxes,
        unclosed,
        powers,
        texts,
        commas,
        long_tuple,
    ];
    for a in &inputs {
        for b in &inputs {
            let _ = task_reward(a, b);
            let _ = is_correct(a, b);
        }
    }
    assert_eq!(task_reward(&inputs[4], &inputs[4]), 1.0, "a bare number is read (the expression target)");
    assert!(is_equiv(&"9".repeat(1_500), &"9".repeat(1_500)));
    assert!(!is_equiv(&"9".repeat(1_500), &("9".repeat(1_499) + "8")));
    assert!(!is_equiv("2^{99999}", "2^{99998}"), "overflowing powers are not equal as infinities");
    assert!(is_equiv(&long_tuple_of(900), &long_tuple_of(900)));
}

fn long_tuple_of(n: usize) -> String {
    format!("({})", (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(","))
}
