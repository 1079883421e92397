//! Answer extraction as Math-Verify's `parse` does it: regex targets at priority levels, tried
//! lowest priority first; within a level every match of every pattern, rightmost end first; the
//! first match that converts to a value wins; the first match's string is kept as a fallback.
//!
//! The patterns are Math-Verify 0.8.0's (lookbehinds and lazy quantifiers included), run by
//! `fancy-regex`, whose backtracking limit bounds the time on adversarial input; a pattern that
//! hits the limit counts as matching nothing there.

use crate::expr::Expr;
use crate::latex::parse_latex;
use crate::normalize::{normalize_latex, BoxedMode};
use crate::pyexpr::parse_py_expr;
use fancy_regex::{Captures, Regex};
use std::sync::OnceLock;

/// Which extractor a pattern belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Plain numbers and arithmetic (`ExprExtractionConfig`).
    Expr,
    /// LaTeX environments and `\boxed` (`LatexExtractionConfig`).
    Latex,
}

struct Pattern {
    re: Regex,
    priority: u32,
    target: Target,
    name: &'static str,
}

/// Literals every match of a pattern contains: a pattern whose literals are absent cannot match,
/// so it is not run (an exact shortcut, not a heuristic).
struct Needs {
    final_answer: bool,
    answer: bool,
    boxed: bool,
    latex_env: bool,
    digit: bool,
}

fn needs(name: &str) -> Needs {
    Needs {
        final_answer: name.contains("final answer"),
        answer: name.contains("answer"),
        boxed: name.contains("boxed"),
        // The plain `\\boxed{…}` pattern needs no math environment.
        latex_env: name.starts_with("latex") && name != "latex: \\boxed",
        digit: name.starts_with("expr"),
    }
}

struct TextFacts {
    final_answer: bool,
    answer: bool,
    boxed: bool,
    latex_env: bool,
    digit: bool,
}

impl TextFacts {
    fn of(text: &str) -> TextFacts {
        let lower = text.to_lowercase();
        // Case-insensitive matching folds some non-ASCII letters onto ASCII ones (`ſ`, the Kelvin
        // sign): with non-ASCII text the "answer" patterns always run.
        let ascii = text.is_ascii();
        TextFacts {
            final_answer: !ascii || lower.contains("final answer"),
            answer: !ascii || lower.contains("answer"),
            boxed: text.contains("\\boxed"),
            latex_env: text.contains('$')
                || text.contains("\\[")
                || text.contains("\\(")
                || text.contains('[')
                || text.contains("\\frac"),
            digit: text.chars().any(|c| c.is_numeric()),
        }
    }
    fn allows(&self, n: &Needs) -> bool {
        (!n.final_answer || self.final_answer)
            && (!n.answer || self.answer)
            && (!n.boxed || self.boxed)
            && (!n.latex_env || self.latex_env)
            && (!n.digit || self.digit)
    }
}

/// What one extraction produced: Math-Verify's `[value, fallback_str]` list.
#[derive(Clone, Debug, Default)]
pub struct Extracted {
    /// The first match that converted to a value.
    pub value: Option<Expr>,
    /// The string of the first match tried (even if it did not convert).
    pub fallback: Option<String>,
    /// For `--explain`: the pattern and text of the winning match.
    pub matched: Option<(String, String)>,
    /// The normalized LaTeX (or expression text) that was parsed into `value`.
    pub parsed_text: Option<String>,
}

const LATEX_KINDS: &[&str] = &[
    "latexDisplayDollar",
    "latexDisplayBracket",
    "latexInlineDollar",
    "latexInlineParenthesis",
    "latexInlineBracket",
    "latexFraction",
    "latexBoxed",
];

fn env_pattern(prefix: &str, boxed: bool) -> String {
    let percent = format!(r"(?P<{prefix}percent>(?:\\?%|[Pp]ercent|[Pp]ercentage|[Pp]ct))");
    let dd = r"(?:[^$]|\$(?!\$))";
    let db = r"(?:[^\\]|\\(?!\]))";
    let id = r"(?:\\[$]|[^\n$])";
    let ip = r"(?:[^\\\n]|\\(?!\)))";
    let ib = r"[^\n\]\[]";
    let body = |c: &str| {
        if boxed {
            format!(r"{c}*?\\boxed\{{{c}+?\}}{c}*?")
        } else {
            format!("{c}+?")
        }
    };
    let mut pats = vec![
        format!(r"(?<!\\)\$\$(?P<{prefix}latexDisplayDollar>{})(?<!\\)\$\$", body(dd)),
        format!(r"(?<!\\)\\\[(?P<{prefix}latexDisplayBracket>{})(?<!\\)\\\]", body(db)),
        format!(r"(?<![\\\d])\$(?P<{prefix}latexInlineDollar>{})(?<!\\)\$", body(id)),
        format!(r"(?<!\\)\\\((?P<{prefix}latexInlineParenthesis>{})(?<!\\)\\\)", body(ip)),
        format!(r"\s\[(?P<{prefix}latexInlineBracket>{})\]\s", body(ib)),
    ];
    if !boxed {
        let n = r"-?\d+(?:[.,]\d+)?";
        pats.push(format!(r"(?P<{prefix}latexFraction>-?\\frac\{{{n}\}}\{{{n}\}})"));
    }
    format!(r"(?:(?:{})\s*{percent}?)", pats.join("|"))
}

fn latex_patterns() -> Vec<(String, u32, &'static str)> {
    let first = env_pattern("first_", false);
    let next: String =
        (1..=5).map(|i| format!(r"(?:\s*(?:,?and|,?or|,)\s*{})?", env_pattern(&format!("next{i}_"), false))).collect();
    let envs = format!("(?:{first}{next})");
    let mut v = vec![
        (format!(r"(?s)(?i:final answer is):?\s*{envs}\.?\s?I hope"), 0, "latex: final answer is ... I hope"),
        (format!(r"(?s)(?i:final answer.{{0,100}}?)\s+is:?\s*{envs}"), 50, "latex: final answer ... is"),
        (format!(r"(?s)(?i:answer):.{{0,50}}?{envs}"), 100, "latex: answer:"),
        (format!(r"(?s)(?i:answer).{{0,50}}?{envs}"), 200, "latex: answer"),
        (format!(r"(?s){envs}"), 300, "latex: any environment"),
    ];
    let bfirst = env_pattern("first_", true);
    let bnext: String = (1..=5)
        .map(|i| format!(r"\s*(?:\s*(?:,?and|,?or|,)\s*{})?", env_pattern(&format!("next{i}_"), true)))
        .collect();
    v.push((format!(r"(?s){bfirst}{bnext}"), 50, "latex: environment with \\boxed"));
    v.push((r"(?s)(?P<first_latexBoxed>\\boxed\{.+\})".to_string(), 50, "latex: \\boxed"));
    v
}

fn expr_patterns() -> Vec<(String, u32, &'static str)> {
    let number = concat!(
        r"(?<!\d)(?:",
        r"(?P<integer1>-?[1-9]\d{0,2}(?:[ ,]\d{3})+)(?P<decimal1>\.\d+)?|",
        r"(?P<integer2>-?\d+)(?P<decimal2>[.,]\d+)|",
        r"(?P<decimal3>\.\d+)|",
        r"(?P<integer3>-?\d+)",
        r")(?P<percent>\s*(?:%|[Pp]ercent|\s*[Pp]ercentage|\s*[Pp]ct))?"
    );
    let ops = r"\+\-\*×/\^\(\)÷";
    let all = format!(r"[\d\.\s{ops}]");
    let expr = format!(r"(?P<expr>-?\(?-?\d{all}*[{ops}]{all}+\)?)");
    let currency = r"[\$€£¥₹₽₪₩₫฿₡₢₣₤₥₦₧₨₭₮₯₰₱₲₳₴₵₶₷₸₺₻₼₾₿]";
    // Python's `$` (no MULTILINE) also matches before a final newline.
    let end = r"(?=\n?\z)";
    let prefix = r"(?:^|\s|=)(?:\*\*)?";
    let suffix = format!(r"(?:\*\*)?(?:\.|,|:|\s|\)|\$|{end})");
    let ewa = format!("(?:{prefix}{expr}{suffix})");
    let nwa = format!("(?:{prefix}{currency}?{number})");
    let eon = format!("(?:{ewa}|{nwa})");
    vec![
        (format!(r"(?i:final answer is):?\s*{eon}\.?\s?I hope"), 0, "expr: final answer is ... I hope"),
        (format!(r"(?i:final answer.{{0,100}}?)\s+is:?{eon}"), 50, "expr: final answer ... is"),
        (format!(r"(?i:answer):(?:.{{0,100}}=\s*|.{{0,50}}?){eon}(?!\s*=)"), 100, "expr: answer:"),
        (format!(r"(?i:answer)(?:.{{0,100}}=\s*|.{{0,50}}?){eon}(?!\s*=)"), 200, "expr: answer"),
        (ewa, 300, "expr: expression"),
        (nwa, 300, "expr: number"),
    ]
}

fn compile(list: Vec<(String, u32, &'static str)>, target: Target) -> Vec<Pattern> {
    list.into_iter()
        .map(|(p, priority, name)| Pattern {
            re: fancy_regex::RegexBuilder::new(&p).backtrack_limit(200_000).build().expect("static pattern"),
            priority,
            target,
            name,
        })
        .collect()
}

/// Patterns for the prediction (Expr then Latex, as the authors list them), sorted stably by
/// priority.
fn pred_patterns() -> &'static Vec<Pattern> {
    static P: OnceLock<Vec<Pattern>> = OnceLock::new();
    P.get_or_init(|| {
        let mut v = compile(expr_patterns(), Target::Expr);
        v.extend(compile(latex_patterns(), Target::Latex));
        v.sort_by_key(|p| p.priority);
        v
    })
}

fn latex_only_patterns() -> &'static Vec<Pattern> {
    static P: OnceLock<Vec<Pattern>> = OnceLock::new();
    P.get_or_init(|| {
        let mut v = compile(latex_patterns(), Target::Latex);
        v.sort_by_key(|p| p.priority);
        v
    })
}

/// Inputs longer than this are cut to their last this-many bytes before extraction (answers
/// sit at the end; Math-Verify would time out on such inputs anyway).
pub const MAX_INPUT_BYTES: usize = 256 * 1024;

fn tail(s: &str) -> &str {
    if s.len() <= MAX_INPUT_BYTES {
        return s;
    }
    let mut start = s.len() - MAX_INPUT_BYTES;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Extract with the given targets (`[Expr, Latex]` for a prediction, `[Latex]` for a gold).
pub fn extract_with(text: &str, targets: &[Target], multi_boxed: bool) -> Extracted {
    let text = tail(text);
    let pats: &Vec<Pattern> = if targets.contains(&Target::Expr) { pred_patterns() } else { latex_only_patterns() };
    let mut out = Extracted::default();
    let facts = TextFacts::of(text);
    let mut i = 0;
    while i < pats.len() {
        let prio = pats[i].priority;
        let mut j = i;
        while j < pats.len() && pats[j].priority == prio {
            j += 1;
        }
        let mut matches: Vec<(usize, usize, usize, Captures<'_>)> = Vec::new();
        for (k, p) in pats[i..j].iter().enumerate() {
            if !facts.allows(&needs(p.name)) {
                continue;
            }
            for m in p.re.captures_iter(text) {
                let Ok(c) = m else { break };
                let Some(m0) = c.get(0) else { continue };
                matches.push((m0.start(), m0.end(), i + k, c));
            }
        }
        // Rightmost end first, then leftmost start; ties keep pattern order (a stable sort).
        matches.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (_, _, k, caps) in &matches {
            let p = &pats[*k];
            let (value, s) = match p.target {
                Target::Expr => extract_expr(caps),
                Target::Latex => extract_latex(caps, multi_boxed),
            };
            if !s.is_empty() && out.fallback.is_none() {
                out.fallback = Some(s.clone());
            }
            if let Some(v) = value {
                out.value = Some(v);
                out.matched =
                    Some((p.name.to_string(), caps.get(0).map(|m| m.as_str().to_string()).unwrap_or_default()));
                out.parsed_text = Some(s);
                return out;
            }
        }
        i = j;
    }
    out
}

fn extract_expr(c: &Captures<'_>) -> (Option<Expr>, String) {
    let get = |n: &str| c.name(n).map(|m| m.as_str()).filter(|s| !s.is_empty());
    let integer = ["integer1", "integer2", "integer3"].iter().find_map(|n| get(n)).unwrap_or("");
    let decimal = ["decimal1", "decimal2", "decimal3"].iter().find_map(|n| get(n)).unwrap_or("");
    let pct = get("percent").is_some();
    if !integer.is_empty() || !decimal.is_empty() {
        // Separators out, leading zeros out (the sign stays: Python's lstrip("0") on "-05"
        // leaves it), comma decimal point to a dot.
        let mut int: String = integer.chars().filter(|&ch| ch != ',' && ch != ' ').collect();
        int = int.trim_start_matches('0').to_string();
        if int.is_empty() {
            int = "0".into();
        }
        let dec = decimal.replace(',', ".");
        let s = format!("{int}{dec}");
        let v = crate::latex::parse_decimal(&s).ok().map(|n| if pct { Expr::Percent(Box::new(n)) } else { n });
        return (v, s);
    }
    if let Some(e) = get("expr") {
        let v = parse_py_expr(&e.replace('\n', " ").replace('^', "**"));
        return (v, e.to_string());
    }
    (None, String::new())
}

fn extract_latex(c: &Captures<'_>, multi_boxed: bool) -> (Option<Expr>, String) {
    let mut exprs: Vec<Option<Expr>> = Vec::new();
    let mut strs: Vec<String> = Vec::new();
    for prefix in ["first", "next1", "next2", "next3", "next4", "next5"] {
        let found = LATEX_KINDS.iter().find_map(|k| {
            c.name(&format!("{prefix}_{k}")).filter(|m| !m.as_str().is_empty()).map(|m| (m.as_str(), *k))
        });
        let Some((latex, kind)) = found else { continue };
        let pct = c.name(&format!("{prefix}_percent")).is_some_and(|m| !m.as_str().is_empty());
        // An environment match keeps all its boxes ("all"); the plain `\boxed{…}` match applies
        // the "last" rule (§ several boxes in the README).
        let mode = if kind == "latexBoxed" { BoxedMode::Last } else { BoxedMode::All };
        let norm = if multi_boxed { normalize_latex(latex, mode) } else { normalize_latex_single_box(latex) };
        let parsed = parse_latex_lenient(&norm).map(|e| if pct { Expr::Percent(Box::new(e)) } else { e });
        strs.push(norm);
        exprs.push(parsed);
    }
    if exprs.is_empty() {
        return (None, String::new());
    }
    if exprs.len() > 1 && exprs.iter().all(Option::is_some) {
        let mut all = Vec::new();
        for e in exprs.into_iter().flatten() {
            match e {
                Expr::Set(v) => all.extend(v),
                x => all.push(x),
            }
        }
        return (Some(Expr::Set(all)), strs.join(" and "));
    }
    (exprs.swap_remove(0), strs.swap_remove(0))
}

/// The mutation switch for multiple boxes: only the very last box is read.
fn normalize_latex_single_box(latex: &str) -> String {
    let last = match latex.rfind("\\boxed") {
        Some(i) => &latex[i..],
        None => latex,
    };
    normalize_latex(last, BoxedMode::Last)
}

/// Parse normalized LaTeX; `None` when latex2sympy would fail (an unclosed group left by a
/// truncated box fails too: `\boxed{\frac{1}{2}` is then read by the bare-fraction pattern).
fn parse_latex_lenient(s: &str) -> Option<Expr> {
    parse_latex(s).ok()
}
