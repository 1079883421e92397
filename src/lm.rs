//! A language model ready to prompt: decoder, tokenizer, chat template and EOS ids, opened from
//! a Hugging Face folder or from [`ModelParts`] in memory (what a GGUF reader produces).

use crate::chat::{ChatError, ChatTemplate, Message};
use crate::model::config::token_ids;
use crate::model::{LoadOptions, Model, ModelError};
use crate::tokenizer::{Tokenizer, TokenizerError};
use candle_core::Tensor;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum LmError {
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error(transparent)]
    Chat(#[from] ChatError),
    #[error(transparent)]
    Gguf(#[from] crate::gguf::GgufError),
    #[error(transparent)]
    Hub(#[from] crate::hub::HubError),
    #[error("{0}")]
    Other(String),
}

/// Everything a Hugging Face folder holds, already in memory.
pub struct ModelParts {
    /// config.json
    pub config: Value,
    /// Weights under Hugging Face names (rotate-half q/k layout), any float dtype.
    pub tensors: HashMap<String, Tensor>,
    pub tokenizer: tokenizers::Tokenizer,
    /// tokenizer_config.json (chat_template, bos_token, eos_token), if any.
    pub tokenizer_config: Option<Value>,
    /// generation_config.json (eos_token_id), if any.
    pub generation_config: Option<Value>,
}

impl From<crate::gguf::GgufParts> for ModelParts {
    /// What the model loader takes from a GGUF file: the same files a converted folder holds.
    fn from(g: crate::gguf::GgufParts) -> Self {
        let tokenizer_config = Some(g.tokenizer_config());
        ModelParts {
            config: g.config,
            tensors: g.tensors,
            tokenizer: g.tokenizer,
            tokenizer_config,
            generation_config: Some(g.generation_config),
        }
    }
}

/// `M` is what generates: our decoder ([`Model`], the default), or a quantized GGUF model
/// (`crate::quantized::QuantizedModel`) for evaluation only.
pub struct LanguageModel<M = Model> {
    pub model: M,
    pub tokenizer: Tokenizer,
    pub chat: Option<ChatTemplate>,
    /// Generation stops at any of these: generation_config's `eos_token_id`, config.json's, and
    /// the tokenizer config's `eos_token`.
    pub eos_ids: Vec<u32>,
}

fn read_opt_json(path: &Path) -> Result<Option<Value>, LmError> {
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|e| LmError::Other(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map(Some).map_err(|e| LmError::Other(format!("{}: {e}", path.display())))
}

fn eos_ids(
    config: &Value,
    gen: Option<&Value>,
    chat: Option<&ChatTemplate>,
    tok: &Tokenizer,
) -> Result<Vec<u32>, LmError> {
    let mut ids = token_ids(gen.and_then(|g| g.get("eos_token_id")))?;
    ids.extend(token_ids(config.get("eos_token_id"))?);
    if let Some(id) = chat.and_then(|c| c.eos_token.as_deref()).and_then(|t| tok.token_id(t)) {
        ids.push(id);
    }
    let mut seen = std::collections::BTreeSet::new();
    ids.retain(|x| seen.insert(*x));
    Ok(ids)
}

impl LanguageModel {
    /// A Hugging Face folder, a `.gguf` file (dequantised in memory), or a hub id
    /// (`Qwen/Qwen2.5-3B-Instruct`) in the local Hugging Face cache.
    pub fn open(path: &Path, opts: &LoadOptions) -> Result<Self, LmError> {
        let path = &crate::hub::resolve_model(path)?;
        if path.is_dir() {
            return Self::from_dir(path, opts);
        }
        if path.extension().and_then(|e| e.to_str()) == Some("gguf") {
            let parts = crate::gguf::gguf_to_parts(path)?;
            return Self::from_parts(parts.into(), opts);
        }
        Err(LmError::Other(format!("{}: not a model folder or a .gguf file", path.display())))
    }

    pub fn from_dir(dir: &Path, opts: &LoadOptions) -> Result<Self, LmError> {
        let model = Model::load(dir, opts)?;
        let tokenizer = Tokenizer::from_file(&dir.join("tokenizer.json"))?;
        let chat = ChatTemplate::from_dir(dir)?;
        let config = read_opt_json(&dir.join("config.json"))?.unwrap_or(Value::Null);
        let gen = read_opt_json(&dir.join("generation_config.json"))?;
        let eos_ids = eos_ids(&config, gen.as_ref(), chat.as_ref(), &tokenizer)?;
        Ok(LanguageModel { model, tokenizer, chat, eos_ids })
    }

    pub fn from_parts(parts: ModelParts, opts: &LoadOptions) -> Result<Self, LmError> {
        let model = Model::from_parts(&parts.config, parts.tensors, opts)?;
        let tokenizer = Tokenizer::from_inner(parts.tokenizer);
        let chat = parts.tokenizer_config.as_ref().and_then(|c| ChatTemplate::from_tokenizer_config(c, None));
        let eos_ids = eos_ids(&parts.config, parts.generation_config.as_ref(), chat.as_ref(), &tokenizer)?;
        Ok(LanguageModel { model, tokenizer, chat, eos_ids })
    }
}

impl<M> LanguageModel<M> {
    /// Token ids of a prompt: as one user message in the chat template (`chat`), or as plain text
    /// with the tokenizer's own special tokens.
    pub fn encode_prompt(&self, text: &str, chat: bool) -> Result<Vec<u32>, LmError> {
        if chat {
            let tmpl = self.chat.as_ref().ok_or_else(|| LmError::Other("the model has no chat template".into()))?;
            let rendered = tmpl.render(&[Message::user(text)], true)?;
            Ok(self.tokenizer.encode(&rendered, false)?)
        } else {
            Ok(self.tokenizer.encode(text, true)?)
        }
    }
}
