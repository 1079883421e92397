//! # sharpen-verify
//!
//! A Rust port of Hugging Face Math-Verify 0.8.0 as the dist_sharpening authors call it for
//! the RL task reward:
//!
//! ```text
//! math_metric(gold_extraction_target=(LatexExtractionConfig(),),
//!             pred_extraction_target=(ExprExtractionConfig(), LatexExtractionConfig()))
//! score = f(["\\boxed{" + gold + "}"], [response])   # any exception or timeout -> 0
//! ```
//!
//! ```
//! use sharpen_verify::score;
//! assert!(score("so $x = \\boxed{\\frac{1}{2}}$.", "0.5"));
//! assert!(score("The answer is \\boxed{1} and \\boxed{2}", "1,2"));
//! assert!(!score("**Answer:** \\dfrac{1}{4}", "\\frac{1}{4}")); // the authors' quirk: not in math mode
//! ```
//!
//! Every public function is total: no panics, bounded time on any input (inputs are capped,
//! recursion is depth-limited, regex backtracking is limited, powers are size-limited).

mod compare;
mod expr;
mod extract;
mod latex;
mod normalize;
mod pyexpr;

pub use compare::CompareOptions;
pub use expr::{Expr, RelOp};
pub use extract::{Extracted, Target, MAX_INPUT_BYTES};
pub use normalize::{extract_boxed_content, normalize_latex, BoxedMode};

/// How to verify. `Default` is the authors' call, quirks included.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub compare: CompareOptions,
    /// Join several `\boxed{}` answers as Math-Verify does (the default). Off reads only the last
    /// box: a mutation switch for the tests, not a mode to use.
    pub multi_boxed: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { compare: CompareOptions::default(), multi_boxed: true }
    }
}

/// Extract the answer of a model response (targets Expr + LaTeX, as the authors' `pred`).
pub fn extract(response: &str) -> Extracted {
    extract::extract_with(response, &[Target::Expr, Target::Latex], true)
}

/// Extract the gold as the authors do: `\boxed{gold}` with the LaTeX target only.
pub fn extract_gold(gold: &str) -> Extracted {
    extract::extract_with(&format!("\\boxed{{{gold}}}"), &[Target::Latex], true)
}

/// Parse one LaTeX answer (already extracted) after Math-Verify's normalization.
pub fn parse(latex: &str) -> Option<Expr> {
    let n = normalize_latex(latex, BoxedMode::Last);
    latex::parse_latex(&n).ok()
}

/// Whether two parsed answers are equal under Math-Verify's comparison (gold first: the
/// comparison is not symmetric).
pub fn equal(gold: &Expr, pred: &Expr) -> bool {
    compare::expr_eq(gold, pred, &CompareOptions::default())
}

/// The authors' reward: `response` scored against the bare `gold` answer (wrapped in `\boxed{}`
/// here, as they do).
pub fn score(response: &str, gold: &str) -> bool {
    score_with(response, gold, &Options::default())
}

/// [`score`] with explicit options.
pub fn score_with(response: &str, gold: &str, o: &Options) -> bool {
    let (g, p) = extract_pair(response, gold, o);
    verdict(&g, &p, o)
}

fn extract_pair(response: &str, gold: &str, o: &Options) -> (Extracted, Extracted) {
    let g = extract::extract_with(&format!("\\boxed{{{gold}}}"), &[Target::Latex], o.multi_boxed);
    let p = extract::extract_with(response, &[Target::Expr, Target::Latex], o.multi_boxed);
    (g, p)
}

/// Any (gold, pred) pair of `[value, fallback]` lists matches: values by [`equal`], strings when
/// equal after trimming and non-empty. An empty gold scores 0.
fn verdict(g: &Extracted, p: &Extracted, o: &Options) -> bool {
    if g.value.is_none() && g.fallback.is_none() {
        return false;
    }
    if let (Some(gv), Some(pv)) = (&g.value, &p.value) {
        if compare::expr_eq(gv, pv, &o.compare) {
            return true;
        }
    }
    if let (Some(gs), Some(ps)) = (&g.fallback, &p.fallback) {
        let (gs, ps) = (gs.trim(), ps.trim());
        if !gs.is_empty() && gs == ps {
            return true;
        }
    }
    false
}

/// What `sharpen verify --explain` prints: both extractions and the verdict, as text lines.
pub fn explain(response: &str, gold: &str) -> String {
    let o = Options::default();
    let (g, p) = extract_pair(response, gold, &o);
    let ok = verdict(&g, &p, &o);
    let side = |name: &str, e: &Extracted| -> String {
        let mut s = String::new();
        match &e.matched {
            Some((pat, text)) => s.push_str(&format!("{name}: matched by [{pat}]: {text:?}\n")),
            None => s.push_str(&format!("{name}: no match converted to a value\n")),
        }
        if let Some(t) = &e.parsed_text {
            s.push_str(&format!("  parsed text: {t:?}\n"));
        }
        match &e.value {
            Some(v) => s.push_str(&format!("  value: {v}\n")),
            None => s.push_str("  value: none\n"),
        }
        if let Some(f) = &e.fallback {
            s.push_str(&format!("  fallback string: {f:?}\n"));
        }
        s
    };
    let why = match (&g.value, &p.value) {
        _ if g.value.is_none() && g.fallback.is_none() => "the gold has no extractable answer (scores 0)".to_string(),
        (Some(gv), Some(pv)) if compare::expr_eq(gv, pv, &o.compare) => "values are equal".to_string(),
        (Some(_), Some(_)) if ok => "values differ, but the fallback strings are identical".to_string(),
        (Some(_), Some(_)) => "values differ (and the fallback strings differ)".to_string(),
        _ if ok => "fallback strings are identical".to_string(),
        _ => "no value on one side and the fallback strings differ".to_string(),
    };
    format!("{}{}verdict: {ok} ({why})\n", side("gold", &g), side("pred", &p))
}
