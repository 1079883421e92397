//! Equality of two normalised answers: tuples and intervals element by element, unions piece by
//! piece, comma lists as multisets, numbers by value, everything else as text.

use super::normalize::Normalized;
use super::value::{evaluate, num_eq, percent_of};

/// Nesting of tuples/unions/lists followed before falling back to plain text equality.
const MAX_STRUCT_DEPTH: usize = 8;

/// Whether two normalised answers are the same answer.
pub fn equal_normalized(pred: &Normalized, gold: &Normalized) -> bool {
    if pred.text.is_empty() || gold.text.is_empty() {
        return false;
    }
    pred.text == gold.text || equal_text(&pred.text, &gold.text, (pred.percent, gold.percent), 0)
}

/// `percent`: whether `a` and `b` (respectively) carried a `%` that normalisation removed.
fn equal_text(a: &str, b: &str, percent: (bool, bool), depth: usize) -> bool {
    let (a, b) = (strip_lhs(a), strip_lhs(b));
    if a == b {
        return true;
    }
    if a.is_empty() || b.is_empty() || depth > MAX_STRUCT_DEPTH {
        return false;
    }
    let (ua, ub) = (split_top(a, "\\cup"), split_top(b, "\\cup"));
    if ua.len() > 1 || ub.len() > 1 {
        return ua.len() == ub.len() && ua.iter().zip(&ub).all(|(x, y)| equal_text(x, y, NO_PERCENT, depth + 1));
    }
    match (matrix(a), matrix(b)) {
        (Some(ma), Some(mb)) => {
            return ma.env == mb.env
                && ma.rows.len() == mb.rows.len()
                && ma.rows.iter().zip(&mb.rows).all(|(ra, rb)| {
                    ra.len() == rb.len() && ra.iter().zip(rb).all(|(x, y)| equal_text(x, y, NO_PERCENT, depth + 1))
                });
        }
        (None, None) => {}
        _ => return false,
    }
    match (sequence(a), sequence(b)) {
        (Some(sa), Some(sb)) => {
            if sa.open != sb.open || sa.close != sb.close || sa.items.len() != sb.items.len() {
                return false;
            }
            return if sa.open == "\\{" {
                multiset_equal(&sa.items, &sb.items, depth)
            } else {
                sa.items.iter().zip(&sb.items).all(|(x, y)| equal_text(x, y, NO_PERCENT, depth + 1))
            };
        }
        (None, None) => {}
        // A set `\{1,2\}` is the same answer as the bare list `1, 2` (both unordered).
        (Some(set), None) if set.open == "\\{" => return set_equals_list(&set, b, depth),
        (None, Some(set)) if set.open == "\\{" => return set_equals_list(&set, a, depth),
        _ => return false, // a tuple or interval never equals a non-tuple
    }
    let (la, lb) = (split_top(a, ","), split_top(b, ","));
    if la.len() > 1 || lb.len() > 1 {
        return la.len() == lb.len() && multiset_equal(&la, &lb, depth);
    }
    equal_atom(a, b, percent)
}

/// A set `\{1,2\}` is the same answer as the bare list `1, 2` (both unordered).
fn set_equals_list(set: &Sequence<'_>, list: &str, depth: usize) -> bool {
    let items = split_top(list, ",");
    items.len() == set.items.len() && multiset_equal(&set.items, &items, depth)
}

fn multiset_equal(a: &[&str], b: &[&str], depth: usize) -> bool {
    let mut used = vec![false; b.len()];
    a.iter().all(|x| match (0..b.len()).find(|&j| !used[j] && equal_text(x, b[j], NO_PERCENT, depth + 1)) {
        Some(j) => {
            used[j] = true;
            true
        }
        None => false,
    })
}

const NO_PERCENT: (bool, bool) = (false, false);

/// Two single answers (no top-level commas): by value if both are numbers, else as text.
/// A side that carried `%` may be read as x or x/100 (`50\%` = `50` = `0.5`; `0.5\%` ≠ `50`).
fn equal_atom(a: &str, b: &str, (pa, pb): (bool, bool)) -> bool {
    let (a, b) = (a.strip_prefix('+').unwrap_or(a), b.strip_prefix('+').unwrap_or(b));
    if let (Some(x), Some(y)) = (integer_literal(a), integer_literal(b)) {
        return x == y; // exact even past the range of any machine integer
    }
    match (evaluate(a), evaluate(b)) {
        (Some(x), Some(y)) => {
            num_eq(x, y)
                || (pa && percent_of(x).is_some_and(|x| num_eq(x, y)))
                || (pb && percent_of(y).is_some_and(|y| num_eq(x, y)))
        }
        (None, None) => {
            a == b || (a.bytes().all(|c| c.is_ascii_alphabetic()) && a.len() > 1 && a.eq_ignore_ascii_case(b))
        }
        _ => false,
    }
}

/// `-0042` -> `-42`; `None` unless the whole string is an integer literal.
fn integer_literal(s: &str) -> Option<String> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    Some(match (trimmed.is_empty(), neg) {
        (true, _) => "0".to_string(),
        (false, true) => format!("-{trimmed}"),
        (false, false) => trimmed.to_string(),
    })
}

/// `x=3` -> `3`, `f_1=\frac{1}{2}` -> `\frac{1}{2}`, `x\in[1,2]` -> `[1,2]`: drop a simple
/// left-hand side (a name, not a value: `2x=4` and `a<=b` stay as they are).
fn strip_lhs(s: &str) -> &str {
    let cut = if let Some(p) = s.find('=') {
        let single = s.matches('=').count() == 1;
        let relation = p > 0 && matches!(s.as_bytes()[p - 1], b'<' | b'>' | b'!');
        (single && !relation).then_some((p, p + 1))
    } else {
        s.match_indices("\\in")
            .find(|(p, _)| !s[p + 3..].starts_with(|c: char| c.is_ascii_alphabetic()))
            .map(|(p, _)| (p, p + 3))
    };
    let Some((lhs_end, rhs_start)) = cut else { return s };
    let lhs = &s[..lhs_end];
    let simple = !lhs.is_empty()
        && lhs.len() <= 16
        && lhs.starts_with(|c: char| c.is_ascii_alphabetic() || c == '\\')
        && lhs.bytes().all(|c| c.is_ascii_alphanumeric() || b"_{}\\'".contains(&c));
    let rhs = &s[rhs_start..];
    if simple && !rhs.is_empty() {
        rhs
    } else {
        s
    }
}

/// A matrix or vector: `\begin{pmatrix}1\\2\end{pmatrix}` as rows of cells.
struct Matrix<'a> {
    env: &'a str,
    rows: Vec<Vec<&'a str>>,
}

fn matrix(s: &str) -> Option<Matrix<'_>> {
    let rest = s.strip_prefix("\\begin{")?;
    let close = rest.find('}')?;
    let env = &rest[..close];
    let body = rest[close + 1..].strip_suffix(&format!("\\end{{{env}}}")[..])?;
    let rows = split_top(body, "\\\\").into_iter().filter(|r| !r.is_empty()).map(|r| split_top(r, "&")).collect();
    Some(Matrix { env, rows })
}

/// A bracketed sequence of at least two items: a tuple `(1,2)`, an interval `[1,2)`, a set
/// `\{1,2\}`.
struct Sequence<'a> {
    open: &'a str,
    close: &'a str,
    items: Vec<&'a str>,
}

fn sequence(s: &str) -> Option<Sequence<'_>> {
    let (open, close) = if s.starts_with("\\{") && s.ends_with("\\}") && s.len() >= 4 {
        (&s[..2], &s[s.len() - 2..])
    } else {
        let (f, l) = (s.as_bytes().first()?, s.as_bytes().last()?);
        if !(b"([".contains(f) && b")]".contains(l)) || s.len() < 2 {
            return None;
        }
        (&s[..1], &s[s.len() - 1..])
    };
    let inner = &s[open.len()..s.len() - close.len()];
    // The opening bracket must close only at the very end: `(1)+(2)` is not a sequence.
    let mut depth: i64 = 0;
    for c in inner.bytes() {
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return None;
        }
    }
    if depth != 0 {
        return None;
    }
    let items = split_top(inner, ",");
    (items.len() >= 2).then_some(Sequence { open, close, items })
}

/// Split at `sep` outside any brackets. Unbalanced input yields the whole string as one piece.
fn split_top<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let bytes = s.as_bytes();
    let mut parts = Vec::new();
    let mut depth: i64 = 0;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
        if depth == 0 && bytes[i..].starts_with(sep.as_bytes()) {
            parts.push(&s[start..i]);
            i += sep.len();
            start = i;
            continue;
        }
        i += 1;
    }
    parts.push(&s[start..]);
    if depth != 0 {
        return vec![s];
    }
    parts
}
