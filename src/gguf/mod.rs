//! GGUF (llama architecture) to the parts of a Hugging Face model: config.json, f32 tensors in
//! Hugging Face names and layout, a tokenizer, the chat template and the EOS ids.
//!
//! candle's quantized GGUF reader does the parsing and dequantisation. candle-transformers'
//! quantized models cannot be trained (see the decoder module for why); they run GGUF weights as
//! stored only for evaluation (`crate::quantized`), which takes its tokenizer from
//! [`GgufTokenizer`].

mod config;
mod convert;
mod error;
mod hparams;
mod meta;
mod tensors;
mod tokenizer;

pub use convert::{convert, write_hf_folder};
pub use error::{GgufError, Result};
pub use hparams::Hparams;
pub use tensors::{hf_name, permute, unpermute};
pub use tokenizer::{pre_tokenizer, SpecialTokens};

use candle_core::quantized::gguf_file::Content;
use candle_core::Tensor;
use meta::Meta;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// Everything a model loader needs, as if read from a Hugging Face folder.
pub struct GgufParts {
    /// A transformers llama config.json.
    pub config: Value,
    /// generation_config.json (bos, eos, pad ids).
    pub generation_config: Value,
    /// f32 CPU tensors in Hugging Face names; with tied embeddings there is no `lm_head.weight`.
    pub tensors: HashMap<String, Tensor>,
    pub tokenizer: tokenizers::Tokenizer,
    /// The Jinja chat template (`tokenizer.chat_template`), when the file has one.
    pub chat_template: Option<String>,
    pub special: SpecialTokens,
    /// Every id that ends a generation.
    pub eos_token_ids: Vec<u32>,
    pub hparams: Hparams,
}

impl GgufParts {
    /// tokenizer_config.json: the special tokens and the chat template. The class is the generic
    /// fast tokenizer, so that transformers uses tokenizer.json's pipeline as written.
    pub fn tokenizer_config(&self) -> Value {
        tokenizer_config(&self.special, self.chat_template.as_deref(), self.hparams.context_length)
    }
}

fn tokenizer_config(s: &SpecialTokens, chat_template: Option<&str>, context_length: usize) -> Value {
    let mut v = serde_json::json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "add_bos_token": s.add_bos,
        "add_eos_token": false,
        "add_prefix_space": false,
        "clean_up_tokenization_spaces": false,
        "model_max_length": context_length,
        "bos_token": s.bos,
        "eos_token": s.eos,
        "unk_token": s.unk,
        "pad_token": s.pad,
    });
    if let Some(t) = chat_template {
        v["chat_template"] = serde_json::json!(t);
    }
    v
}

/// The tokenizer side of a GGUF file of any architecture: what the quantized evaluation path
/// (`crate::quantized`) needs besides the weights, which it keeps quantized.
pub struct GgufTokenizer {
    pub tokenizer: tokenizers::Tokenizer,
    /// The Jinja chat template (`tokenizer.chat_template`), when the file has one.
    pub chat_template: Option<String>,
    pub special: SpecialTokens,
    /// Every id that ends a generation.
    pub eos_token_ids: Vec<u32>,
}

impl GgufTokenizer {
    pub fn read(content: &Content) -> Result<Self> {
        let meta = Meta(content);
        let tokens = meta.strings("tokenizer.ggml.tokens")?;
        let special = SpecialTokens::read(&meta, &tokens)?;
        let eos_token_ids = tokenizer::eos_ids(&meta, &special)?;
        let tokenizer = tokenizer::build(&meta, &special)?;
        let chat_template = meta.opt_string("tokenizer.chat_template")?.map(str::to_string);
        Ok(GgufTokenizer { tokenizer, chat_template, special, eos_token_ids })
    }

    /// tokenizer_config.json as [`GgufParts::tokenizer_config`] writes it.
    pub fn tokenizer_config(&self, context_length: usize) -> Value {
        tokenizer_config(&self.special, self.chat_template.as_deref(), context_length)
    }
}

/// Read a GGUF file and dequantise it to f32 Hugging Face parts.
pub fn gguf_to_parts(path: &Path) -> Result<GgufParts> {
    let io = |source| error::GgufError::Io { path: path.to_path_buf(), source };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let content = Content::read(&mut file).map_err(|source| GgufError::Format { path: path.to_path_buf(), source })?;
    let meta = Meta(&content);
    let hparams = Hparams::read(&meta)?;
    let tokens = meta.strings("tokenizer.ggml.tokens")?;
    let special = SpecialTokens::read(&meta, &tokens)?;
    let eos_token_ids = tokenizer::eos_ids(&meta, &special)?;
    let tokenizer = tokenizer::build(&meta, &special)?;
    let tensors = tensors::read_all(&content, &mut file, &hparams)?;
    let vocab = tensors["model.embed_tokens.weight"].dims()[0];
    if vocab != tokens.len() {
        return Err(GgufError::Inconsistent(format!("token_embd has {vocab} rows for {} tokens", tokens.len())));
    }
    let tied = !tensors.contains_key("lm_head.weight");
    let attention_bias = tensors.contains_key("model.layers.0.self_attn.q_proj.bias");
    let config = config::llama_config(&hparams, vocab, tied, attention_bias, &special);
    let generation_config = config::generation_config(&special, &eos_token_ids);
    let chat_template = meta.opt_string("tokenizer.chat_template")?.map(str::to_string);
    Ok(GgufParts { config, generation_config, tensors, tokenizer, chat_template, special, eos_token_ids, hparams })
}

/// The `sharpen convert` command: convert, then say what was written.
pub fn convert_cmd(gguf: &Path, out: &Path, force: bool) -> anyhow::Result<()> {
    use anyhow::Context;
    convert(gguf, out, force).with_context(|| format!("converting {}", gguf.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}
