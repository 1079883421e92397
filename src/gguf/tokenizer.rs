//! A byte-level BPE `tokenizers::Tokenizer` from the GGUF vocabulary, merges and token types.
//!
//! The pre-tokenizer depends on `tokenizer.ggml.pre`, the name llama.cpp gives to the original
//! tokenizer.json's pre-tokenizer. Only the names we can reproduce exactly are accepted; any other
//! is an error, because a wrong pre-tokenizer silently changes token ids.

use super::error::{GgufError, Result};
use super::meta::Meta;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::{AddedToken, Tokenizer};

/// llama.cpp's token types (`llama_token_type`).
const CONTROL: u64 = 3;
const USER_DEFINED: u64 = 4;

/// The special tokens named in the metadata, with their text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpecialTokens {
    pub bos_id: Option<u32>,
    pub eos_id: Option<u32>,
    pub unk_id: Option<u32>,
    pub pad_id: Option<u32>,
    pub bos: Option<String>,
    pub eos: Option<String>,
    pub unk: Option<String>,
    pub pad: Option<String>,
    /// Whether encoding prepends the BOS token (`tokenizer.ggml.add_bos_token`).
    pub add_bos: bool,
}

impl SpecialTokens {
    pub fn read(meta: &Meta, tokens: &[&str]) -> Result<Self> {
        let id = |key: &str| -> Result<Option<u32>> {
            match meta.opt_u64(key)? {
                None => Ok(None),
                Some(i) if (i as usize) < tokens.len() => Ok(Some(i as u32)),
                Some(i) => Err(GgufError::Inconsistent(format!("{key} = {i} is outside the vocabulary"))),
            }
        };
        let text = |i: Option<u32>| i.map(|i| tokens[i as usize].to_string());
        let bos_id = id("tokenizer.ggml.bos_token_id")?;
        let eos_id = id("tokenizer.ggml.eos_token_id")?;
        // llama.cpp writes `unknown_token_id` / `padding_token_id`; older files the short names.
        let unk_id = id("tokenizer.ggml.unknown_token_id")?.or(id("tokenizer.ggml.unk_token_id")?);
        let pad_id = id("tokenizer.ggml.padding_token_id")?.or(id("tokenizer.ggml.pad_token_id")?);
        Ok(Self {
            bos_id,
            eos_id,
            unk_id,
            pad_id,
            bos: text(bos_id),
            eos: text(eos_id),
            unk: text(unk_id),
            pad: text(pad_id),
            add_bos: meta.opt_bool("tokenizer.ggml.add_bos_token")?.unwrap_or(false),
        })
    }
}

/// Every id that ends a generation: EOS, and end-of-turn / end-of-message where the file names them.
pub fn eos_ids(meta: &Meta, special: &SpecialTokens) -> Result<Vec<u32>> {
    let mut ids: Vec<u32> = special.eos_id.into_iter().collect();
    for key in ["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
        if let Some(i) = meta.opt_u64(key)? {
            if !ids.contains(&(i as u32)) {
                ids.push(i as u32);
            }
        }
    }
    Ok(ids)
}

/// The pre-tokenizer that the original tokenizer.json had, by llama.cpp's name for it.
pub fn pre_tokenizer(pre: &str) -> Result<PreTokenizerWrapper> {
    // ByteLevel(add_prefix_space = false, trim_offsets = true, use_regex = true): the GPT-2 regex.
    let byte_level = ByteLevel::new(false, true, true);
    match pre {
        // SmolLM / SmolLM2: every digit is its own word before the GPT-2 regex runs.
        "smollm" => Ok(Sequence::new(vec![Digits::new(true).into(), byte_level.into()]).into()),
        "gpt-2" | "gpt2" => Ok(byte_level.into()),
        other => Err(GgufError::UnsupportedPreTokenizer(other.to_string())),
    }
}

/// The tokenizer described by the `tokenizer.ggml.*` metadata.
pub fn build(meta: &Meta, special: &SpecialTokens) -> Result<Tokenizer> {
    let model = meta.string("tokenizer.ggml.model")?;
    if model != "gpt2" {
        return Err(GgufError::UnsupportedTokenizerModel(model.to_string()));
    }
    let pre = pre_tokenizer(meta.string("tokenizer.ggml.pre")?)?;
    let tokens = meta.strings("tokenizer.ggml.tokens")?;
    let merges = meta
        .strings("tokenizer.ggml.merges")?
        .into_iter()
        .map(|m| match m.split_once(' ') {
            Some((a, b)) => Ok((a.to_string(), b.to_string())),
            None => Err(GgufError::Tokenizer(format!("merge `{m}` is not two tokens"))),
        })
        .collect::<Result<Vec<_>>>()?;
    let vocab: tokenizers::models::bpe::Vocab =
        tokens.iter().enumerate().map(|(i, t)| (t.to_string(), i as u32)).collect();
    if vocab.len() != tokens.len() {
        return Err(GgufError::Tokenizer("the vocabulary has duplicate tokens".into()));
    }
    let bpe =
        BPE::builder().vocab_and_merges(vocab, merges).build().map_err(|e| GgufError::Tokenizer(e.to_string()))?;
    let mut tok = Tokenizer::new(bpe);
    tok.with_pre_tokenizer(Some(pre));
    tok.with_decoder(Some(ByteLevelDecoder::default()));
    tok.with_post_processor(Some(post_processor(special)?));

    let types = meta.opt_ints("tokenizer.ggml.token_type")?.unwrap_or_default();
    if !types.is_empty() && types.len() != tokens.len() {
        return Err(GgufError::Inconsistent(format!("{} token types for {} tokens", types.len(), tokens.len())));
    }
    let named = [special.bos_id, special.eos_id, special.unk_id, special.pad_id];
    let mut specials = Vec::new();
    let mut added = Vec::new();
    for (i, tok_text) in tokens.iter().enumerate() {
        let ty = types.get(i).copied();
        if ty == Some(CONTROL) || named.contains(&Some(i as u32)) {
            specials.push(AddedToken::from(tok_text.to_string(), true));
        } else if ty == Some(USER_DEFINED) {
            added.push(AddedToken::from(tok_text.to_string(), false));
        }
    }
    tok.add_special_tokens(specials).map_err(|e| GgufError::Tokenizer(e.to_string()))?;
    tok.add_tokens(added).map_err(|e| GgufError::Tokenizer(e.to_string()))?;
    Ok(tok)
}

/// Byte-level offsets, plus the BOS token in front when the file asks for it.
fn post_processor(special: &SpecialTokens) -> Result<PostProcessorWrapper> {
    match (special.add_bos, &special.bos, special.bos_id) {
        (true, Some(bos), Some(id)) => {
            let t = TemplateProcessing::builder()
                .try_single(format!("{bos} $A"))
                .and_then(|b| b.try_pair(format!("{bos} $A {bos} $B:1")))
                .map_err(|e| GgufError::Tokenizer(e.to_string()))?
                .special_tokens(vec![(bos.clone(), id)])
                .build()
                .map_err(|e| GgufError::Tokenizer(e.to_string()))?;
            Ok(t.into())
        }
        (true, _, _) => Err(GgufError::MissingKey("tokenizer.ggml.bos_token_id".into())),
        _ => Ok(ByteLevel::new(true, false, true).into()),
    }
}
