//! Reading the gold answer out of a dataset's reference field: the last `\boxed{...}` of a
//! solution (balanced braces), the text after a GSM8K `####`, or an "answer is" phrase. Model
//! responses are not read here: their answers are extracted by `sharpen-verify` as Math-Verify
//! does (see the parent module).

use super::MAX_RESPONSE_BYTES;

/// The content of the last `\boxed{}` or `\fbox{}` in `text`, if it is balanced and non-empty.
/// `None` also when there is no box at all; see [`has_box`] to tell the two apart.
pub fn last_boxed(text: &str) -> Option<String> {
    let text = cap_tail(text, MAX_RESPONSE_BYTES);
    let start = last_box_start(text)?;
    let after = &text[start..];
    let bytes = after.as_bytes();
    // Skip spaces between the command and its argument.
    let mut i = 0;
    while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
        i += 1;
    }
    if i < bytes.len() && bytes[i] == b'{' {
        let end = matching_brace(bytes, i)?;
        let inner = after[i + 1..end].trim();
        return (!inner.is_empty()).then(|| inner.to_string());
    }
    if i == 0 {
        return None; // `\boxedx`: another command, not a box.
    }
    // `\boxed 5`: the argument runs to the next `$` or end of line.
    let rest = &after[i..];
    let end = rest.find(['$', '\n']).unwrap_or(rest.len());
    let inner = rest[..end].trim().trim_end_matches('.').trim();
    (!inner.is_empty()).then(|| inner.to_string())
}

/// Whether `text` contains a `\boxed` or `\fbox` command at all.
pub fn has_box(text: &str) -> bool {
    last_box_start(cap_tail(text, MAX_RESPONSE_BYTES)).is_some()
}

/// Byte offset just after the last `\boxed` / `\fbox` command name.
fn last_box_start(text: &str) -> Option<usize> {
    let a = text.rfind("\\boxed").map(|p| p + "\\boxed".len());
    let b = text.rfind("\\fbox").map(|p| p + "\\fbox".len());
    a.max(b)
}

/// Index of the `}` closing the `{` at `open`; escaped braces (`\{`, `\}`) do not count.
pub(crate) fn matching_brace(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1, // skip the escaped character
            b'{' => depth += 1,
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The final answer after the last GSM8K `####` marker (to the end of that line).
pub fn after_hashes(text: &str) -> Option<String> {
    let text = cap_tail(text, MAX_RESPONSE_BYTES);
    let p = text.rfind("####")?;
    let rest = &text[p + 4..];
    let end = rest.find('\n').unwrap_or(rest.len());
    let ans = rest[..end].trim();
    (!ans.is_empty()).then(|| ans.to_string())
}

/// The phrase after the last "answer is" or "answer:" (case-insensitive), to the end of its
/// sentence: a newline, or a period followed by a space or the end of the text.
pub fn after_answer_phrase(text: &str) -> Option<String> {
    let text = cap_tail(text, MAX_RESPONSE_BYTES);
    // ASCII lowercasing keeps byte offsets, so positions carry over to `text`.
    let lower = text.to_ascii_lowercase();
    let candidates = [("answer is", 9), ("answer:", 7)];
    let (p, len) = candidates.iter().filter_map(|(pat, len)| lower.rfind(pat).map(|p| (p, *len))).max()?;
    let rest = text[p + len..].trim_start_matches([' ', ':', '\t', '\n', '*']);
    let bytes = rest.as_bytes();
    let mut end = rest.len();
    for (i, &c) in bytes.iter().enumerate() {
        let next = bytes.get(i + 1).copied();
        if c == b'\n' || (c == b'.' && next.is_none_or(|n| n == b' ' || n == b'\n')) {
            end = i;
            break;
        }
    }
    // Markdown bold (`**18**`) and inline math delimiters around the answer are not part of it.
    let ans = rest[..end].trim().trim_matches(['$', '*']).trim();
    let ans = ans.strip_prefix("\\(").and_then(|a| a.strip_suffix("\\)")).unwrap_or(ans).trim();
    (!ans.is_empty()).then(|| ans.to_string())
}

fn cap_tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
