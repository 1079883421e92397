//! Cases where the multiple-boxed handling and symbolic equality decide the verdict (labels from
//! Math-Verify 0.8.0 with the authors' call), and proof that the fixtures catch their removal.

use crate::agreement::{load, run};
use sharpen_verify::{score_with, CompareOptions, Options};

/// (response, gold, the authors' verdict)
const MULTI_BOXED: &[(&str, &str, bool)] = &[
    (r"We get \boxed{3} then \boxed{5}", "5", false),
    (r"The roots are \boxed{1} and \boxed{2}", "1,2", true),
    (r"\boxed{3} was the first guess but after all the checking we conclude that it must be \boxed{5}", "5", true),
    (r"We get \boxed{5} and \boxed{5}", "5", true),
    (r"So $x=\boxed{2}$ or $x=\boxed{-3}$.", "-3, 2", true),
    (r"\boxed{3} is wrong. The correct value is \boxed{5}", "5", false),
];

const SYMBOLIC: &[(&str, &str, bool)] = &[
    (r"The answer is $\boxed{\frac{x}{7}+\frac{2}{7}}$", r"\frac{x+2}{7}", true),
    (r"The answer is $\boxed{\tan^2 y + 1}$", r"\sec^2 y", true),
    (r"\boxed{(x-1)(x+1)}", "x^2-1", true),
    (r"\boxed{\sqrt{5+2\sqrt{6}}}", r"\sqrt{2}+\sqrt{3}", true),
    (r"\boxed{4x + 6y = 12}", "2x + 3y = 6", true),
    (r"\boxed{x^2+1}", "x^2-1", false),
    (r"\boxed{\frac{\sqrt{3}}{3}}", r"\frac{1}{\sqrt{3}}", true),
    (r"\boxed{2\sin x \cos x}", r"\sin 2x", true),
    (r"\boxed{e^{2\ln 3}}", "9", true),
    (r"\boxed{\log_2 8}", "3", true),
];

/// Other behaviours of the authors' call worth pinning (also reference-labelled).
const OTHER: &[(&str, &str, bool)] = &[
    (r"\boxed{\frac{1}{12}}", "0.0833333", true),
    (r"\boxed{2 < x}", "x > 2", true),
    (r"\boxed{(2, \infty)}", "x > 2", true),
    ("The total is 32, 349", "32349", false),
    ("Answer: 3, 5, 7", "3, 5, 7", false),
];

fn wrong(cases: &[(&str, &str, bool)], o: &Options) -> Vec<String> {
    cases
        .iter()
        .filter(|(r, g, v)| score_with(r, g, o) != *v)
        .map(|(r, g, v)| format!("{r:?} vs {g:?}: expected {v}"))
        .collect()
}

#[test]
fn pinned_cases_get_the_authors_verdict() {
    let o = Options::default();
    for set in [MULTI_BOXED, SYMBOLIC, OTHER] {
        let w = wrong(set, &o);
        assert!(w.is_empty(), "{}", w.join("\n"));
    }
}

#[test]
fn reading_only_the_last_box_fails_the_tests() {
    let o = Options { multi_boxed: false, ..Options::default() };
    assert!(wrong(MULTI_BOXED, &o).len() >= 3, "the multiple-boxed cases must notice");
    let r = run(&load("authors_call.jsonl"), &o);
    assert!(r.agreement() < 0.98 || r.fp_rate() > 0.005, "the fixture must notice: {:.4}", r.agreement());
}

#[test]
fn dropping_symbolic_equality_fails_the_tests() {
    let o = Options { compare: CompareOptions { symbolic: false, ..CompareOptions::default() }, ..Options::default() };
    assert!(wrong(SYMBOLIC, &o).len() >= 6, "the symbolic cases must notice");
    let r = run(&load("authors_call.jsonl"), &o);
    assert!(r.agreement() < 0.98, "the fixture must notice: {:.4}", r.agreement());
}
