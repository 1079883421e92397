//! Chat templates, rendered from the template text shipped with the model (tokenizer_config.json's
//! `chat_template`, or chat_template.jinja) with minijinja, configured like Hugging Face's
//! renderer: trim_blocks, lstrip_blocks, Python string methods, `raise_exception`, and `tojson`
//! without HTML escaping. `strftime_now` is deliberately left undefined so that output does not
//! depend on the date (the Llama-3 template then falls back to its fixed date).

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
    pub fn render(&self, messages: &[Message], add_generation_prompt: bool) -> Result<String, ChatError> {
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
