//! Chat templates, rendered from the template text shipped with the model (tokenizer_config.json's
//! `chat_template`, or chat_template.jinja) with minijinja, configured like Hugging Face's
//! renderer: trim_blocks, lstrip_blocks, Python string methods, `raise_exception`, and `tojson`
//! without HTML escaping, and `strftime_now(format)` giving the current date as transformers does
//! (so the Llama-3 template writes "Today Date: 30 Nov 2026", as the authors' prompts had it).
//! The date is UTC, and injectable ([`ChatTemplate::render_at`]) so tests do not depend on it.

use minijinja::{Environment, Error, ErrorKind};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("{path}: {msg}")]
    File { path: String, msg: String },
    #[error("chat template: {0}")]
    Template(String),
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: &str, content: &str) -> Self {
        Message { role: role.into(), content: content.into() }
    }
    pub fn user(content: &str) -> Self {
        Message::new("user", content)
    }
}

#[derive(Debug, Clone)]
pub struct ChatTemplate {
    source: String,
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
}

/// A special token in tokenizer_config.json: a string or an AddedToken object with `content`.
fn token_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content").and_then(Value::as_str).map(String::from),
        _ => None,
    }
}

/// `chat_template` as a string, or a list of named templates (the one named "default").
fn template_text(v: &Value) -> Option<String> {
    match v.get("chat_template")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(list) => list
            .iter()
            .find(|t| t.get("name").and_then(Value::as_str) == Some("default"))
            .and_then(|t| t.get("template")?.as_str().map(String::from)),
        _ => None,
    }
}

impl ChatTemplate {
    pub fn new(source: impl Into<String>, bos_token: Option<String>, eos_token: Option<String>) -> Self {
        ChatTemplate { source: source.into(), bos_token, eos_token }
    }

    /// From a tokenizer_config.json value; `override_source` (chat_template.jinja) wins if given.
    pub fn from_tokenizer_config(v: &Value, override_source: Option<String>) -> Option<Self> {
        let source = override_source.or_else(|| template_text(v))?;
        Some(ChatTemplate::new(source, token_text(v.get("bos_token")), token_text(v.get("eos_token"))))
    }

    /// From a Hugging Face folder: tokenizer_config.json, and chat_template.jinja when present.
    /// Ok(None) when the model has no template.
    pub fn from_dir(dir: &Path) -> Result<Option<Self>, ChatError> {
        let read = |p: &Path| {
            std::fs::read_to_string(p)
                .map_err(|e| ChatError::File { path: p.display().to_string(), msg: e.to_string() })
        };
        let jinja = dir.join("chat_template.jinja");
        let over = if jinja.exists() { Some(read(&jinja)?) } else { None };
        let cfg_path = dir.join("tokenizer_config.json");
        let cfg: Value = if cfg_path.exists() {
            serde_json::from_str(&read(&cfg_path)?)
                .map_err(|e| ChatError::File { path: cfg_path.display().to_string(), msg: e.to_string() })?
        } else {
            Value::Null
        };
        Ok(ChatTemplate::from_tokenizer_config(&cfg, over))
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Render `messages`; `add_generation_prompt` appends the opening of the assistant's turn.
    /// `strftime_now` gives today's date (UTC).
    pub fn render(&self, messages: &[Message], add_generation_prompt: bool) -> Result<String, ChatError> {
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        self.render_at(messages, add_generation_prompt, now)
    }

    /// [`render`](Self::render) with `strftime_now` at `unix_seconds` (UTC).
    pub fn render_at(
        &self,
        messages: &[Message],
        add_generation_prompt: bool,
        unix_seconds: i64,
    ) -> Result<String, ChatError> {
        let mut env = Environment::new();
        let syntax = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| ChatError::Template(e.to_string()))?;
        env.set_syntax(syntax);
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |msg: String| -> Result<String, Error> {
            Err(Error::new(ErrorKind::InvalidOperation, msg))
        });
        env.add_filter("tojson", |v: minijinja::Value| -> Result<String, Error> {
            serde_json::to_string(&v).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
        });
        env.add_function("strftime_now", move |format: String| -> Result<String, Error> {
            strftime(&format, unix_seconds).map_err(|e| Error::new(ErrorKind::InvalidOperation, e))
        });
        let tmpl = env.template_from_str(&self.source).map_err(|e| ChatError::Template(format!("{e:#}")))?;
        let ctx = minijinja::context! {
            messages => minijinja::value::Value::from(minijinja::value::Serde(messages)),
            add_generation_prompt => add_generation_prompt,
            bos_token => self.bos_token.clone().unwrap_or_default(),
            eos_token => self.eos_token.clone().unwrap_or_default(),
        };
        tmpl.render(ctx).map_err(|e| ChatError::Template(format!("{e:#}")))
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// Python's `strftime` for the directives chat templates use (%d %e %m %y %Y %b %B %a %A %H %M
/// %S %j %%), at `unix_seconds` UTC; any other directive is an error rather than a wrong date.
pub fn strftime(format: &str, unix_seconds: i64) -> Result<String, String> {
    let days = unix_seconds.div_euclid(86_400);
    let secs = unix_seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let weekday = (days + 3).rem_euclid(7) as usize; // 1970-01-01 was a Thursday (Monday = 0)
    let yday = days - days_from_civil(y, 1, 1) + 1;
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str(&format!("{d:02}")),
            Some('e') => out.push_str(&format!("{d:>2}")),
            Some('m') => out.push_str(&format!("{m:02}")),
            Some('y') => out.push_str(&format!("{:02}", y.rem_euclid(100))),
            Some('Y') => out.push_str(&y.to_string()),
            Some('b') => out.push_str(&MONTHS[m as usize - 1][..3]),
            Some('B') => out.push_str(MONTHS[m as usize - 1]),
            Some('a') => out.push_str(&WEEKDAYS[weekday][..3]),
            Some('A') => out.push_str(WEEKDAYS[weekday]),
            Some('H') => out.push_str(&format!("{:02}", secs / 3600)),
            Some('M') => out.push_str(&format!("{:02}", secs / 60 % 60)),
            Some('S') => out.push_str(&format!("{:02}", secs % 60)),
            Some('j') => out.push_str(&format!("{yday:03}")),
            Some('%') => out.push('%'),
            other => {
                return Err(format!(
                    "strftime_now: unsupported directive %{}",
                    other.map(String::from).unwrap_or_default()
                ))
            }
        }
    }
    Ok(out)
}

/// (year, month 1–12, day 1–31) of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Days since 1970-01-01 of a (year, month, day).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strftime_matches_python() {
        // Values from Python: datetime.fromtimestamp(t, timezone.utc).strftime(...)
        assert_eq!(strftime("%d %b %Y", 0).unwrap(), "01 Jan 1970");
        assert_eq!(strftime("%d %b %Y", 1_772_712_000).unwrap(), "05 Mar 2026");
        assert_eq!(
            strftime("%A %e %B %y %H:%M:%S %j %%", 951_782_400 + 3661).unwrap(),
            "Tuesday 29 February 00 01:01:01 060 %"
        );
        assert_eq!(strftime("%a %m/%d", -86_400).unwrap(), "Wed 12/31");
        assert!(strftime("%Q", 0).is_err());
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
