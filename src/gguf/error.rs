//! Typed errors of GGUF reading and conversion: each names the key, tensor or value at fault.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a readable GGUF file: {source}")]
    Format { path: PathBuf, source: candle_core::Error },
    #[error("GGUF metadata key `{0}` is missing")]
    MissingKey(String),
    #[error("GGUF metadata key `{key}` is not {expected}")]
    WrongType { key: String, expected: &'static str },
    #[error("GGUF architecture `{0}` is not supported (supported: llama)")]
    UnsupportedArchitecture(String),
    #[error("GGUF tokenizer model `{0}` is not supported (supported: gpt2, a byte-level BPE)")]
    UnsupportedTokenizerModel(String),
    #[error("GGUF pre-tokenizer `{0}` is not supported (supported: smollm, gpt-2)")]
    UnsupportedPreTokenizer(String),
    #[error("GGUF tensor `{0}` has no Hugging Face name in the llama layout")]
    UnknownTensor(String),
    #[error("GGUF tensor `{0}` is missing")]
    MissingTensor(String),
    #[error("GGUF tensor `{name}` has shape {shape:?}, expected {expected}")]
    BadShape { name: String, shape: Vec<usize>, expected: String },
    #[error("GGUF {0} (Llama-3 rope scaling) cannot be converted: its scaling parameters are not stored")]
    RopeFreqs(String),
    #[error("GGUF metadata is inconsistent: {0}")]
    Inconsistent(String),
    #[error("tensor `{name}`: {source}")]
    Tensor { name: String, source: candle_core::Error },
    #[error("{0} already exists (pass --force to replace it)")]
    Exists(PathBuf),
    #[error("writing {path}: {message}")]
    Write { path: PathBuf, message: String },
    #[error("building the tokenizer: {0}")]
    Tokenizer(String),
}

pub type Result<T> = std::result::Result<T, GgufError>;
