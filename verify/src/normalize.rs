//! LaTeX normalization as latex2sympy2_extended's `normalize_latex` does it with the
//! configuration Math-Verify passes (basic_latex, units, malformed_operators, nits; boxed "all"
//! for an environment match, "last" for a plain `\boxed{...}` match).

use fancy_regex::{Captures, Regex};
use std::sync::OnceLock;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BoxedMode {
    All,
    Last,
}

/// The unit words removed after a number (latex2sympy's list, in its order; the entries are
/// regular expressions there, so they are here too, e.g. `q .` matches `q` + space + any char).
const UNITS: &[&str] = &[
    "integerpoint",
    "feet",
    "sue",
    "digit",
    "pound",
    "meal",
    "edge",
    "student",
    "children ticket",
    "multiple",
    "east",
    "degree",
    "mph",
    "kmph",
    "ft",
    "m square",
    " m east",
    "sq m",
    "deg",
    "mile",
    "q .",
    "monkey",
    "prime",
    "ratio",
    "profit of rs",
    "rd",
    "o",
    "gm",
    "p . m",
    "lb",
    "tile",
    "per",
    "dm",
    "lt",
    "gain",
    "ab",
    "way",
    "west",
    "a .",
    "b .",
    "c .",
    "d .",
    "e .",
    "f .",
    "g .",
    "h .",
    "t",
    "h",
    "no change",
    "men",
    "soldier",
    "pie",
    "bc",
    "excess",
    "st",
    "inches",
    "noon",
    "cent",
    "by",
    "gal",
    "kmh",
    "c",
    "acre",
    "rise",
    "a . m",
    "th",
    "π r 2",
    "sq",
    "mark",
    "l",
    "toy",
    "coin",
    "sq . m",
    "gallon",
    "° f",
    "profit",
    "minw",
    "yr",
    "women",
    "am",
    "pm",
    "hr",
    "cu cm",
    "square",
    "v â € ™",
    "are",
    "rupee",
    "rounds",
    "cubic",
    "cc",
    "mtr",
    "s",
    "ohm",
    "number",
    "kmph",
    "day",
    "hour",
    "minute",
    "min",
    "second",
    "man",
    "woman",
    "sec",
    "cube",
    "mt",
    "sq inch",
    "mp",
    "∏ cm ³",
    "hectare",
    "more",
    "sec",
    "unit",
    "cu . m",
    "cm 2",
    "rs .",
    "rs",
    "kg",
    "g",
    "month",
    "km",
    "m",
    "cm",
    "mm",
    "apple",
    "liter",
    "loss",
    "yard",
    "pure",
    "year",
    "increase",
    "decrease",
    "d",
    "less",
    "Surface",
    "litre",
    "pi sq m",
    "s .",
    "metre",
    "meter",
    "inch",
];

struct Res {
    left: Regex,
    right: Regex,
    permutation: Regex,
    to_remove: Regex,
    to_replace: Regex,
    command_slash: Regex,
    unit_superscript: Regex,
    units: Regex,
    malformed: Vec<(Regex, &'static str)>,
}

fn res() -> &'static Res {
    static R: OnceLock<Res> = OnceLock::new();
    R.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("static regex");
        let units = format!(r"(\d|\}}|\s)\s*(?:(?:{})(?:s|es)?)\s*(?=\n?\z)", UNITS.join("|"));
        Res {
            left: re(r"\\m?left(\\\{|\{|\\\||\||\[|\(|\\rbracl|\\lgroup|\\lbrace|\\lbrack|\\vert|\\lvert|\\lceil|\\lfloor|\\vert|\\lvert|\\langle|\\llcorner|\\ulcorner)"),
            right: re(r"\\m?right(\\\}|\}|\\\||\||\]|\)|\\rbrack|\\rgroup|\\rbrace|\\rbrack|\\vert|\\rvert|\\rceil|\\rfloor|\\vert|\\rvert|\\rangle|\\lrcorner|\\urcorner)"),
            permutation: re(r"\(([a-zA-Z0-9+\-*/\\ ]+?)\)_\{([a-zA-Z0-9+\-*/\\ ]+?)\}"),
            to_remove: re(r#"\\mathrm\{th\}|\\!\s*|\\text\s*\{\s*\}|\\\$|\$|(?<!\\)["']|\\displaystyle"#),
            to_replace: re(concat!(
                r"(?P<math>\\math(?:rm|it|bf))|",
                r"(?P<text>\\text(?:normal|bf|it|rm))|",
                r"(?P<frac>\\(?:d|t|c)frac)|",
                r"(?P<decimal_space>\s\.)|",
                r"(?P<decimal_brace>\{\.)|",
                r"(?P<approx>\~\=)|",
                r"(?P<comma>\s*\{\s*,\s*\})|",
                r"(?P<and_or>(?<![a-zA-Z])(,?\s*(?:and|or))(?![a-zA-Z]))|",
                r"(?P<and_or_text>(,?\s*\\text\{\s*(?:and|or)\s*\}))|",
                r"(?P<backslash_space>(?<!\\)\\\s)|",
                r"(?P<infinity>infinity)|",
                r"(?P<dot>,?(\\ldots))|",
                r"(?P<percentage>\s*percentage)|",
                r"(?P<percentage_in_text>\\text\{percentage\})|",
                r"(?P<percent>\s*percent)|",
                r"(?P<percent_in_text>\\text\{percent\})|",
                r"(?P<pct>\s*pct)|",
                r"(?P<pct_in_text>\\text\{pct\})|",
                r"(?P<inf>((?<!\\)inf(?!inity)))|",
                r"(?P<sqrt> sqrt)"
            )),
            command_slash: re(r"\\\\(?=[a-zA-Z])"),
            unit_superscript: re(r"(\\(?:text|mbox)\{.*?\})(\^\d|\{\^\d\})?(?=\n?\z)"),
            units: re(&units),
            malformed: vec![
                (re(r"\^\s?\((.*?)\)"), r"^{$1}"),
                (re(r"sqrt\s?\((.*?)\)"), r"\sqrt{$1}"),
                (re(r"\\frac\s?(\d)\s?(\d+)"), r"\frac{$1}{$2}"),
                (re(r"\\log_\s?(\d)\s?(\d+)"), r"\log_{$1}{$2}"),
                (re(r"\\frac\s?\{(.*?)\}\s?(\d)"), r"\frac{$1}{$2}"),
                (re(r"\\frac\s?(\d)\s?\{(.*?)\}"), r"\frac{$1}{$2}"),
                (re(r"\\sqrt\s?(\d)"), r"\sqrt{$1}"),
            ],
        }
    })
}

const REPLACEMENTS: &[(&str, &str)] = &[
    ("math", r"\text"),
    ("text", r"\text"),
    ("frac", r"\frac"),
    ("decimal_space", " 0."),
    ("decimal_brace", "{0."),
    ("approx", r"\approx"),
    ("comma", ","),
    ("and_or", ","),
    ("and_or_text", ","),
    ("backslash_space", " "),
    ("infinity", r"\infty"),
    ("dot", " "),
    ("percentage", r"\%"),
    ("percentage_in_text", r"\%"),
    ("percent", r"\%"),
    ("percent_in_text", r"\%"),
    ("pct", r"\%"),
    ("pct_in_text", r"\%"),
    ("inf", r"\infty"),
    ("sqrt", r"\sqrt"),
];

/// `re.sub` with a fixed replacement; a regex that gives up (backtracking limit) leaves the
/// text unchanged, as if nothing matched.
fn sub(re: &Regex, text: &str, rep: &str) -> String {
    match re.try_replacen(text, 0, rep) {
        Ok(s) => s.into_owned(),
        Err(_) => text.to_string(),
    }
}

/// The contents of `\boxed{}`/`\fbox{}` boxes, scanned from the right. `Last` keeps the last box
/// and earlier ones separated from it by < 10 chars, or by < 70 chars containing `and`, `or`,
/// `,` or `;` when the contents differ; `All` keeps every box. Contents are joined with `,`.
/// Without any box the text is returned as is.
pub fn extract_boxed_content(text: &str, mode: BoxedMode) -> String {
    let c: Vec<char> = text.chars().collect();
    // The start of the last `\boxed` or `\fbox` that ends at or before `end` (one backward scan
    // for both, so that many boxes stay linear).
    let find_back = |end: usize| -> Option<(usize, usize)> {
        let b: Vec<char> = "\\boxed".chars().collect();
        let f: Vec<char> = "\\fbox".chars().collect();
        let mut i = end;
        while i > 0 {
            i -= 1;
            if c[i] != '\\' {
                continue;
            }
            if i + b.len() <= end && c[i..i + b.len()] == b[..] {
                return Some((i, i + 6));
            }
            if i + f.len() <= end && c[i..i + f.len()] == f[..] {
                return Some((i, i + 5));
            }
        }
        None
    };
    let mut results: Vec<String> = Vec::new();
    let mut current = c.len();
    let mut last_boxed_start: Option<usize> = None;
    let mut max_pos = c.len();
    // Each iteration moves `current` left, so this loop is bounded by the text length.
    while let Some((start, cmd_end)) = find_back(current) {
        let mut next = cmd_end;
        while next < max_pos && c[next].is_whitespace() {
            next += 1;
        }
        if next >= max_pos {
            break;
        }
        if c[next] == '{' {
            // Balanced content within [next, max_pos).
            let mut depth = 1usize;
            let mut i = next;
            let mut close = None;
            while i + 1 < max_pos {
                i += 1;
                if c[i] == '{' {
                    depth += 1;
                } else if c[i] == '}' {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(i);
                        break;
                    }
                }
            }
            let Some(close) = close else {
                if results.is_empty() {
                    results.push(c[next..].iter().collect());
                }
                break;
            };
            let content: String = c[next + 1..close].iter().collect::<String>().trim().to_string();
            if mode == BoxedMode::Last {
                if let Some(lbs) = last_boxed_start {
                    let between: String = if close < lbs { c[close + 1..lbs].iter().collect() } else { String::new() };
                    let n = between.chars().count();
                    let later = results.last().cloned().unwrap_or_default();
                    let sep = between.contains("and")
                        || between.contains("or")
                        || between.contains(',')
                        || between.contains(';');
                    let keep = n < 10 || (content != later && n < 70 && sep);
                    if !keep {
                        break;
                    }
                }
            }
            results.push(content);
            last_boxed_start = Some(start);
            max_pos = start;
        } else {
            if results.is_empty() {
                results.push(c[next..].iter().collect());
            }
            break;
        }
        current = start;
    }
    if results.is_empty() {
        return text.to_string();
    }
    results.reverse();
    results.join(",")
}

fn fix_fracs(text: &str) -> String {
    let parts: Vec<&str> = text.split("\\frac").collect();
    let mut out = parts[0].to_string();
    for sub in &parts[1..] {
        let sub = sub.trim_start();
        out.push_str("\\frac");
        let ch: Vec<char> = sub.chars().collect();
        if !ch.is_empty() && ch[0] == '{' {
            out.push_str(sub);
        } else if ch.len() < 2 {
            return text.to_string();
        } else {
            let (a, b) = (ch[0], ch[1]);
            let rest: String = ch[2..].iter().collect();
            if b != '{' {
                out.push_str(&format!("{{{a}}}{{{b}}}{rest}"));
            } else {
                out.push_str(&format!("{{{a}}}{b}{rest}"));
            }
        }
    }
    out
}

fn fix_a_slash_b(text: &str) -> String {
    let parts: Vec<&str> = text.split('/').collect();
    if parts.len() != 2 {
        return text.to_string();
    }
    // Python's int() accepts surrounding whitespace and a sign, but the round trip
    // `"{}/{}".format(a, b) == text` then requires the canonical form.
    let canon = |s: &str| -> Option<String> {
        let t = s.trim();
        let (sign, digits) = match t.strip_prefix('-') {
            Some(d) => ("-", d),
            None => ("", t.strip_prefix('+').unwrap_or(t)),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let d = digits.trim_start_matches('0');
        let d = if d.is_empty() { "0" } else { d };
        Some(if d == "0" { "0".to_string() } else { format!("{sign}{d}") })
    };
    match (canon(parts[0]), canon(parts[1])) {
        (Some(a), Some(b)) if format!("{a}/{b}") == text => format!("\\frac{{{a}}}{{{b}}}"),
        _ => text.to_string(),
    }
}

fn fix_sqrt(text: &str) -> String {
    if !text.contains("\\sqrt") {
        return text.to_string();
    }
    let parts: Vec<&str> = text.split("\\sqrt").collect();
    let mut out = parts[0].to_string();
    for sp in &parts[1..] {
        let sp = sp.trim_start();
        let mut it = sp.chars();
        match it.next() {
            Some(a) if a != '{' && a != '[' => {
                out.push_str(&format!("\\sqrt{{{a}}}{}", it.as_str()));
            }
            _ => {
                out.push_str("\\sqrt");
                out.push_str(sp);
            }
        }
    }
    out
}

/// Python's `str.strip()`.
fn py_strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
}

/// Math-Verify's normalization of one extracted LaTeX string.
pub fn normalize_latex(text: &str, boxed: BoxedMode) -> String {
    let r = res();
    let mut t = extract_boxed_content(text, boxed);
    // basic_latex
    t = t.replace(r"\mathrm{T}", "T");
    t = t.replace(r"\mathrm{d}", "d").replace(r"{\rm d}", "d");
    t = t.replace(r"\left[\begin{matrix}", r"\begin{bmatrix}").replace(r"\end{matrix}\right]", r"\end{bmatrix}");
    t = sub(&r.left, &t, "$1");
    t = sub(&r.right, &t, "$1");
    t = sub(&r.permutation, &t, r"\frac{($1)!}{(($1)-($2))!}");
    t = sub(&r.to_remove, &t, "");
    t = match r.to_replace.try_replacen(&t, 0, |caps: &Captures| {
        for (name, rep) in REPLACEMENTS {
            if caps.name(name).is_some() {
                return rep.to_string();
            }
        }
        caps.get(0).map(|m| m.as_str().to_string()).unwrap_or_default()
    }) {
        Ok(s) => s.into_owned(),
        Err(_) => t,
    };
    t = t.replace(['\n', '\t'], " ");
    if !t.contains("matrix") {
        t = sub(&r.command_slash, &t, r"\");
    }
    // units
    let u = py_strip(&sub(&r.unit_superscript, &t, "")).to_string();
    if !u.is_empty() && u != t {
        t = u;
    }
    for _ in 0..2 {
        let u = sub(&r.units, &t, "$1");
        if !u.is_empty() && u != t {
            t = u;
        }
    }
    // nits
    if t.starts_with('.') {
        t = format!("0{t}");
    }
    if t == "0.5" {
        t = r"\frac{1}{2}".to_string();
    }
    // malformed operators
    for (re, rep) in &r.malformed {
        t = sub(re, &t, rep);
    }
    t = t.replace(" sqrt", "\\sqrt");
    t = fix_sqrt(&t);
    t = fix_fracs(&t);
    t = fix_a_slash_b(&t);
    py_strip(&t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxed_last_and_all() {
        assert_eq!(extract_boxed_content(r"We get \boxed{3} then \boxed{5}", BoxedMode::Last), "3,5");
        assert_eq!(
            extract_boxed_content(r"\boxed{3} is wrong. The correct value is \boxed{5}", BoxedMode::Last),
            "3,5"
        );
        let far = r"\boxed{3} was the first guess but after all the checking we conclude that it must be \boxed{5}";
        assert_eq!(extract_boxed_content(far, BoxedMode::Last), "5");
        assert_eq!(extract_boxed_content(r"\boxed{\frac{1}{2}", BoxedMode::Last), r"{\frac{1}{2}");
    }

    #[test]
    fn units_and_text() {
        assert_eq!(normalize_latex(r"5 \text{ cm}", BoxedMode::Last), "5");
        assert_eq!(normalize_latex("5 square meters", BoxedMode::Last), "5");
        assert_eq!(normalize_latex(r"\dfrac12", BoxedMode::Last), r"\frac{1}{2}");
        assert_eq!(normalize_latex("3/4", BoxedMode::Last), r"\frac{3}{4}");
    }
}
