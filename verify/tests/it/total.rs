//! Totality: no panic and bounded time on arbitrary strings, deep nesting and huge numbers.

use proptest::prelude::*;
use sharpen_verify::{explain, extract, parse, score};
use std::time::{Duration, Instant};

/// One call's time budget in these tests (release build; Math-Verify's own limit is 5 s).
const BUDGET: Duration = Duration::from_secs(3);

fn latexish() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "\\boxed{",
        "\\fbox{",
        "{",
        "}",
        "\\{",
        "\\}",
        "(",
        ")",
        "[",
        "]",
        "\\frac",
        "\\dfrac",
        "\\sqrt",
        "\\sqrt[",
        "\\pi",
        "\\text{",
        "\\left",
        "\\right",
        "\\cup",
        "\\in",
        "^",
        "_",
        "=",
        ",",
        ";",
        ".",
        "-",
        "+",
        "/",
        "\\%",
        "%",
        "$",
        "$$",
        "\\(",
        "\\)",
        "\\[",
        "\\]",
        "\\le",
        "\\approx",
        "\\pm",
        "x",
        "y",
        "e",
        "E",
        "i",
        "I",
        "1",
        "0",
        "9",
        "12",
        "3.5",
        " ",
        "\n",
        "and",
        "or",
        "Answer:",
        "final answer is",
        "I hope",
        "\\begin{pmatrix}",
        "\\end{pmatrix}",
        "&",
        "\\\\",
        "\\sin",
        "\\log_",
        "!",
        "°",
        "−",
        "×",
        "÷",
    ]);
    prop::collection::vec(atoms, 0..60).prop_map(|v| v.concat())
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let r = f();
    (r, t.elapsed())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings(a in ".{0,300}", b in ".{0,100}") {
        let (_, dt) = timed(|| score(&a, &b));
        prop_assert!(dt < BUDGET, "{:?}", dt);
        let _ = extract(&a);
        let _ = parse(&a);
    }

    #[test]
    fn latex_like_strings(a in latexish(), b in latexish()) {
        let (_, dt) = timed(|| (score(&a, &b), explain(&a, &b)));
        prop_assert!(dt < BUDGET, "{:?} on {:?} vs {:?}", dt, a, b);
    }

    #[test]
    fn integers_compare_by_value(n in any::<i64>(), m in any::<i64>()) {
        prop_assert_eq!(score(&format!("\\boxed{{{n}}}"), &m.to_string()), n == m);
    }
}

#[test]
fn adversarial_inputs_finish_in_bounded_time() {
    let big = "9".repeat(100_000);
    let inputs = [
        format!("\\boxed{{{}1{}}}", "{".repeat(50_000), "}".repeat(50_000)),
        format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000)),
        "\\frac{".repeat(2_000) + &"1}{2}".repeat(2_000),
        "\\sqrt{".repeat(500) + "2" + &"}".repeat(500),
        format!("\\boxed{{{big}}}"),
        big.clone(),
        "\\boxed{1} ".repeat(20_000),
        "\\boxed{".repeat(50_000),
        "2^".repeat(1_000) + "2",
        format!("\\boxed{{{}}}", "x^".repeat(9_000) + "2"),
        format!("\\boxed{{{}}}", "x!".repeat(9_000)),
        format!("\\boxed{{{}}}", "-".repeat(9_000) + "1"),
        "10^{10^{10^{10}}}".to_string(),
        "$".repeat(20_000),
        "answer: ".repeat(5_000) + "1",
        "1,".repeat(5_000) + "1",
        format!("({})", "1,".repeat(900) + "1"),
        "$x$ and ".repeat(3_000),
        "\\left(".repeat(3_000),
    ];
    for a in &inputs {
        for b in ["1", "x^2", "\\frac{1}{2}", big.as_str()] {
            let (_, dt) = timed(|| score(a, b));
            assert!(dt < BUDGET, "{dt:?} on {}... vs {}...", &a[..a.len().min(40)], &b[..b.len().min(10)]);
        }
    }
    // 10^5-digit numbers compare exactly.
    assert!(score(&format!("\\boxed{{{big}}}"), &big));
    let other = format!("{}8", "9".repeat(99_999));
    assert!(!score(&format!("\\boxed{{{big}}}"), &other));
    assert!(!score("\\boxed{2^{99999}}", "2^{99998}"));
}
