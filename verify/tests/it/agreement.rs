//! Agreement with the reference labels in tests/fixtures (labelled by
//! scripts/verify/make_fixture.py running Math-Verify 0.8.0 with the authors' exact call).

use sharpen_verify::{score_with, Options};

pub struct Case {
    pub response: String,
    pub gold: String,
    pub verdict: bool,
    pub class: String,
}

pub fn load(name: &str) -> Vec<Case> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("fixture line is JSON");
            Case {
                response: v["response"].as_str().expect("response").to_string(),
                gold: v["gold"].as_str().expect("gold").to_string(),
                verdict: v["verdict"].as_bool().expect("verdict"),
                class: v["class"].as_str().unwrap_or("").to_string(),
            }
        })
        .collect()
}

pub struct Report {
    pub n: usize,
    pub agree: usize,
    pub fp: usize,
    pub fn_: usize,
    pub misses: Vec<String>,
}

impl Report {
    pub fn agreement(&self) -> f64 {
        self.agree as f64 / self.n as f64
    }
    pub fn fp_rate(&self) -> f64 {
        self.fp as f64 / self.n as f64
    }
}

pub fn run(cases: &[Case], o: &Options) -> Report {
    let mut r = Report { n: cases.len(), agree: 0, fp: 0, fn_: 0, misses: vec![] };
    for c in cases {
        let ours = score_with(&c.response, &c.gold, o);
        if ours == c.verdict {
            r.agree += 1;
        } else {
            if ours {
                r.fp += 1;
            } else {
                r.fn_ += 1;
            }
            let tail: String = c.response.chars().rev().take(160).collect::<Vec<_>>().into_iter().rev().collect();
            r.misses.push(format!(
                "{} ours={} ref={} class={} gold={:?} resp_tail={:?}",
                if ours { "FP" } else { "FN" },
                ours,
                c.verdict,
                c.class,
                c.gold,
                tail
            ));
        }
    }
    r
}

fn show(name: &str, r: &Report) {
    eprintln!(
        "{name}: {} cases, agree {:.2}%, FP {} ({:.2}%), FN {}",
        r.n,
        100.0 * r.agreement(),
        r.fp,
        100.0 * r.fp_rate(),
        r.fn_
    );
    for m in &r.misses {
        eprintln!("  {m}");
    }
}

#[test]
fn authors_call_fixture_agreement() {
    let cases = load("authors_call.jsonl");
    assert!(cases.len() >= 1500, "fixture has {} cases", cases.len());
    let r = run(&cases, &Options::default());
    show("authors_call", &r);
    assert!(r.agreement() >= 0.98, "agreement {:.4}", r.agreement());
    assert!(r.fp_rate() <= 0.005, "false positives {:.4}", r.fp_rate());
}

#[test]
fn math_verify_suite_agreement() {
    let cases = load("math_verify_suite.jsonl");
    let r = run(&cases, &Options::default());
    show("math_verify_suite", &r);
    assert!(r.agreement() >= 0.95, "agreement {:.4}", r.agreement());
}

/// The examples of the behaviour spec the port was written from (Math-Verify's quirks), labelled
/// by the reference: all must agree (a ratchet at the level reached).
#[test]
fn spec_examples_agreement() {
    let cases = load("spec_examples.jsonl");
    assert!(cases.len() >= 80);
    let r = run(&cases, &Options::default());
    show("spec_examples", &r);
    assert_eq!(r.agree, r.n, "{}", r.misses.join("\n"));
}
