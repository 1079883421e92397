//! Normalising an extracted answer to a canonical LaTeX-ish string.
//!
//! The aim is that two ways of writing the same final answer become the same string, without
//! making different answers equal: `\boxed{1,000}` becomes `1000`, but the tuple `(1,2)` keeps
//! its comma. Numeric equality (fractions vs decimals, radicals) is left to `equal`.

use super::cap;

/// An answer after normalisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// Canonical text: no whitespace, no `$`, no `\left`/`\right`, no unit words, braced
    /// `\frac`/`\sqrt` arguments.
    pub text: String,
    /// A `%` (or "percent") was removed: the value may be read as `x` or as `x/100`.
    pub percent: bool,
}

/// Commands whose braces are dropped and whose content is kept (`\text{cm}` -> ` cm `).
const WRAPPERS: [&str; 10] = [
    "\\text",
    "\\textbf",
    "\\textit",
    "\\textrm",
    "\\mathrm",
    "\\mathbf",
    "\\mathit",
    "\\mbox",
    "\\textnormal",
    "\\operatorname",
];

/// Layout-only commands removed outright. `\left`/`\right` are handled separately because
/// `\leftarrow`/`\rightarrow` must survive; `\!`, `\,`, `\;`, `\:`, `\ ` by [`remove_spacing`].
const LAYOUT: [&str; 5] = ["\\displaystyle", "\\qquad", "\\quad", "\\nolimits", "\\limits"];

/// Unit and filler words stripped from the end of an answer after a value (`5 cm`, `18 dollars`).
/// Single letters are left out on purpose: `3m` may be an algebraic answer.
const UNITS: [&str; 62] = [
    "cm", "mm", "km", "meter", "meters", "metre", "metres", "inch", "inches", "feet", "foot", "ft", "yard", "yards",
    "mile", "miles", "unit", "units", "square", "sq", "cubic", "degree", "degrees", "dollar", "dollars", "cent",
    "cents", "second", "seconds", "sec", "minute", "minutes", "min", "hour", "hours", "hr", "hrs", "day", "days",
    "week", "weeks", "month", "months", "year", "years", "kg", "gram", "grams", "pound", "pounds", "lb", "lbs",
    "ounce", "ounces", "oz", "liter", "liters", "litre", "litres", "ml", "mph", "percent",
];

/// Normalise one extracted answer (not a whole response).
pub fn normalize(answer: &str) -> Normalized {
    let mut s = cap(answer.trim()).to_string();
    s = unicode_to_latex(&s);
    for w in LAYOUT {
        s = s.replace(w, " ");
    }
    s = remove_spacing(&s);
    s = remove_left_right(&s);
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac");
    s = s.replace("\\dbinom", "\\binom").replace("\\tbinom", "\\binom");
    s = s.replace("{,}", ",");
    s = unwrap_commands(&s);
    s = s.replace('~', " ");
    for deg in ["^{\\circ}", "^\\circ", "\\circ", "\\degree"] {
        s = s.replace(deg, " ");
    }
    let mut percent = false;
    for pct in ["\\%", "%"] {
        if s.contains(pct) {
            percent = true;
            s = s.replace(pct, " ");
        }
    }
    s = s.replace("\\$", " ").replace('$', " ");
    let (stripped, had_percent_word) = strip_trailing_units(&s);
    s = strip_words_after_number(&stripped);
    percent |= had_percent_word;
    s = brace_arguments(&s);
    s = remove_whitespace(&s);
    s = s.trim_start_matches('=').to_string();
    while s.ends_with('.') && !s.ends_with("..") {
        s.pop();
    }
    if is_grouped_thousands(&s) {
        s.retain(|c| c != ',');
    }
    s = strip_trailing_decimal_zeros(&s);
    if let Some(letter) = choice_letter(&s) {
        s = letter;
    }
    Normalized { text: s, percent }
}

/// Drop the spacing commands `\!`, `\,`, `\;`, `\:`, `\ `, keeping `\\` (a line break in a
/// matrix) intact: `1 \\ 2` must not lose a backslash.
fn remove_spacing(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('!' | ',' | ';' | ':' | ' ') => {
                chars.next();
                out.push(' ');
            }
            Some('\\') => {
                chars.next();
                out.push_str("\\\\");
            }
            _ => out.push('\\'),
        }
    }
    out
}

/// Remove whitespace, except one space between a command name and a following letter
/// (`\pi r` must not become the unknown command `\pir`).
fn remove_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_whitespace() {
            out.push(c);
            continue;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let after_command = {
            let name = out.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            name.len() < out.len() && name.ends_with('\\') && !name.ends_with("\\\\")
        };
        if after_command && chars.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            out.push(' ');
        }
    }
    out
}

fn unicode_to_latex(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '−' | '–' => out.push('-'),
            '×' | '·' => out.push_str("\\times "),
            'π' => out.push_str("\\pi "),
            '√' => out.push_str("\\sqrt"),
            '∞' => out.push_str("\\infty "),
            '°' => out.push(' '),
            '\u{a0}' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Drop `\left` and `\right` but not `\leftarrow`, `\rightarrow`, `\leftrightarrow`.
fn remove_left_right(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('\\') {
        out.push_str(&rest[..p]);
        let tail = &rest[p..];
        let cmd = ["\\left", "\\right"]
            .into_iter()
            .find(|c| tail.starts_with(c) && !tail[c.len()..].starts_with(|ch: char| ch.is_ascii_alphabetic()));
        match cmd {
            Some(c) => rest = &tail[c.len()..],
            None => {
                out.push('\\');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Replace `\text{abc}` (and the other wrappers) by ` abc `. Each round removes one command name,
/// so the loop ends after at most `s.len()` rounds (and answers are capped in length).
fn unwrap_commands(s: &str) -> String {
    let mut s = s.to_string();
    loop {
        let found = WRAPPERS
            .iter()
            .filter_map(|w| {
                let mut from = 0;
                while let Some(p) = s[from..].find(w) {
                    let at = from + p;
                    let after = at + w.len();
                    // `\textbf` must not be read as `\text` followed by `bf`.
                    if !s[after..].starts_with(|c: char| c.is_ascii_alphabetic()) {
                        return Some((at, after));
                    }
                    from = after;
                }
                None
            })
            .min();
        let Some((at, after)) = found else { return s };
        let bytes = s.as_bytes();
        let mut open = after;
        while open < bytes.len() && bytes[open] == b' ' {
            open += 1;
        }
        let replaced = if open < bytes.len() && bytes[open] == b'{' {
            match super::extract::matching_brace(bytes, open) {
                Some(close) => format!("{} {} {}", &s[..at], &s[open + 1..close], &s[close + 1..]),
                None => format!("{} {}", &s[..at], &s[after..]),
            }
        } else {
            format!("{} {}", &s[..at], &s[after..])
        };
        s = replaced;
    }
}

/// Strip unit words from the end (`5 cm^2` -> `5`), only while a value remains before them.
/// Returns whether a "percent" word was among them.
fn strip_trailing_units(s: &str) -> (String, bool) {
    let mut s = s.trim_end().to_string();
    let mut percent = false;
    loop {
        let mut end = s.len();
        // An optional power after the unit: `cm^2`, `m^{3}`.
        for pow in ["^{2}", "^{3}", "^2", "^3"] {
            if s.ends_with(pow) {
                end -= pow.len();
                break;
            }
        }
        let body = s[..end].trim_end();
        let word_start = body.trim_end_matches(|c: char| c.is_ascii_alphabetic()).len();
        let word = &body[word_start..];
        let prefix = body[..word_start].trim_end();
        let is_unit = UNITS.iter().any(|u| u.eq_ignore_ascii_case(word));
        // The word must not be the tail of a command (`\pi`, `\infty`) and a value must remain.
        let is_command = body[..word_start].ends_with('\\');
        if !is_unit || is_command || prefix.is_empty() || prefix.ends_with('\\') {
            return (s, percent);
        }
        percent |= word.eq_ignore_ascii_case("percent");
        s = prefix.to_string();
    }
}

/// `18 eggs` -> `18`, `7 more apples` -> `7`: a plain number followed only by words (of two or
/// more letters, separated by spaces) is that number. Anything else is left alone, so
/// `18 or 19`, `2 x` and `x squared` keep their words.
fn strip_words_after_number(s: &str) -> String {
    let t = s.trim();
    let num_end = t.find(char::is_whitespace).unwrap_or(t.len());
    let (num, words) = t.split_at(num_end);
    let is_number = num.bytes().any(|b| b.is_ascii_digit())
        && num.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b',' || b == b'-');
    let all_words = !words.trim().is_empty()
        && words.split_whitespace().all(|w| w.len() >= 2 && w.bytes().all(|b| b.is_ascii_alphabetic()));
    if is_number && all_words {
        num.to_string()
    } else {
        s.to_string()
    }
}

/// `1,000` or `-12,345.5`: digits in groups of three separated by commas.
fn is_grouped_thousands(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if frac.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let groups: Vec<&str> = int.split(',').collect();
    groups.len() >= 2
        && (1..=3).contains(&groups[0].len())
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
        && groups[1..].iter().all(|g| g.len() == 3)
}

/// `18.00` -> `18`, `2.50` -> `2.5` for a plain decimal literal.
fn strip_trailing_decimal_zeros(s: &str) -> String {
    let body = s.strip_prefix('-').unwrap_or(s);
    let Some((int, frac)) = body.split_once('.') else { return s.to_string() };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) {
        return s.to_string();
    }
    let frac = frac.trim_end_matches('0');
    let sign = if s.starts_with('-') { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    }
}

/// Brace the arguments of `\frac`, `\sqrt`, `\binom` so that `\frac12`, `\frac1{2}` and
/// `\frac{1}{2}` are one string (`\sqrt[3]{x}` keeps its optional argument).
fn brace_arguments(s: &str) -> String {
    brace_arguments_at(s, 0)
}

/// Nesting deeper than this is copied verbatim (bounded recursion on adversarial input).
const MAX_BRACE_DEPTH: usize = 32;

fn brace_arguments_at(s: &str, depth: usize) -> String {
    if depth > MAX_BRACE_DEPTH {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < bytes.len() {
        let cmd = ["\\frac", "\\binom", "\\sqrt"]
            .into_iter()
            .find(|c| s[i..].starts_with(c) && !s[i + c.len()..].starts_with(|ch: char| ch.is_ascii_alphabetic()));
        let Some(cmd) = cmd else {
            let ch = s[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
            continue;
        };
        out.push_str(cmd);
        i += cmd.len();
        if cmd == "\\sqrt" && bytes.get(i) == Some(&b'[') {
            if let Some(close) = s[i..].find(']') {
                out.push_str(&s[i..=i + close]);
                i += close + 1;
            }
        }
        let nargs = if cmd == "\\sqrt" { 1 } else { 2 };
        for _ in 0..nargs {
            while bytes.get(i) == Some(&b' ') {
                i += 1;
            }
            match bytes.get(i) {
                Some(b'{') => {
                    let Some(close) = super::extract::matching_brace(bytes, i) else { break };
                    out.push('{');
                    out.push_str(&brace_arguments_at(&s[i + 1..close], depth + 1));
                    out.push('}');
                    i = close + 1;
                }
                Some(b'\\') => {
                    let name_len = s[i + 1..].bytes().take_while(|b| b.is_ascii_alphabetic()).count();
                    if name_len == 0 {
                        break;
                    }
                    out.push('{');
                    out.push_str(&s[i..i + 1 + name_len]);
                    out.push('}');
                    i += 1 + name_len;
                }
                Some(&b) if b.is_ascii_alphanumeric() => {
                    out.push('{');
                    out.push(b as char);
                    out.push('}');
                    i += 1;
                }
                _ => break,
            }
        }
    }
    out
}

/// `(C)` or `\text{(C)}` (already unwrapped) -> `C`: a multiple-choice letter.
fn choice_letter(s: &str) -> Option<String> {
    let inner = s.strip_prefix('(')?.strip_suffix(')')?;
    (inner.len() == 1 && inner.bytes().all(|b| b.is_ascii_uppercase())).then(|| inner.to_string())
}
