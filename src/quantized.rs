//! Quantized evaluation of frozen models (`sharpen eval --quantized`, `sharpen sample
//! --quantized`): a GGUF file's weights stay as stored (Q4_1, Q8_0, ...) and run through
//! candle-transformers' quantized llama, qwen2 and qwen3 on the CPU, instead of being
//! dequantised into our decoder.
//!
//! Training never uses this path: those models have no backward, and they keep one KV-cache
//! offset for the whole batch, so rows cannot be left-padded. [`QuantizedModel`] therefore says
//! [`Decoder::mixes_lengths`] = false and [`crate::rollout::sample`] runs each run of
//! equal-length prompts (the n samples of one problem, at least) as its own batch; every row
//! still draws from its own random stream, so a seed gives the same samples whatever the split.
//! A batch of several rows is prefilled one position at a time (see [`Decoder::next_logits`]).

use crate::chat::ChatTemplate;
use crate::gguf::{GgufError, GgufTokenizer};
use crate::lm::{LanguageModel, LmError};
use crate::rollout::{Decoder, RolloutError};
use crate::tokenizer::Tokenizer;
use candle_core::quantized::gguf_file::Content;
use candle_core::{Device, Tensor};
use candle_transformers::models::{quantized_llama, quantized_qwen2, quantized_qwen3};
use std::path::Path;
use std::sync::Mutex;

/// The GGUF architectures `--quantized` runs.
pub const ARCHITECTURES: [&str; 3] = ["llama", "qwen2", "qwen3"];

/// candle-transformers' model of each architecture; its KV cache lives inside it.
enum Inner {
    Llama(quantized_llama::ModelWeights),
    Qwen2(quantized_qwen2::ModelWeights),
    Qwen3(quantized_qwen3::ModelWeights),
}

impl Inner {
    /// Logits (B, vocab) of the last of `ids` (B, T) fed at positions `offset..offset + T`.
    fn forward(&mut self, ids: &Tensor, offset: usize) -> candle_core::Result<Tensor> {
        match self {
            Inner::Llama(m) => m.forward(ids, offset),
            Inner::Qwen2(m) => m.forward(ids, offset),
            Inner::Qwen3(m) => m.forward(ids, offset),
        }
    }

    fn clear_kv_cache(&mut self) {
        match self {
            Inner::Llama(m) => m.clear_kv_cache(),
            Inner::Qwen2(m) => m.clear_kv_cache(),
            Inner::Qwen3(m) => m.clear_kv_cache(),
        }
    }
}

/// A GGUF model kept quantized, for sampling only. Its KV cache lives inside candle-transformers'
/// model, so it runs one batch at a time: a new cache invalidates the previous one, and using a
/// stale one is an error rather than silently mixed attention (threads sampling at once need a
/// model each).
pub struct QuantizedModel {
    /// The model and the number of the batch that owns its KV cache (the latest `new_cache`).
    inner: Mutex<(Inner, u64)>,
    arch: String,
    vocab_size: usize,
    context_len: usize,
    kv_bytes_per_token: usize,
    device: Device,
}

/// A batch's handle on the KV cache, which lives inside the model: only the latest batch may use
/// it (sampling runs one batch at a time), and the next position.
pub struct QuantizedCache {
    batch: u64,
    offset: usize,
    capacity: usize,
}

fn meta_u64(content: &Content, key: &str) -> Result<u64, GgufError> {
    let v = content.metadata.get(key).ok_or_else(|| GgufError::MissingKey(key.to_string()))?;
    v.to_u64()
        .or_else(|_| v.to_u32().map(u64::from))
        .map_err(|_| GgufError::WrongType { key: key.to_string(), expected: "an unsigned integer" })
}

/// A .gguf file's metadata, the open file and its architecture, refused unless supported.
fn read(path: &Path) -> Result<(Content, std::fs::File, String), LmError> {
    if !(path.is_file() && path.extension().and_then(|e| e.to_str()) == Some("gguf")) {
        return Err(LmError::Other(format!(
            "--quantized needs a .gguf file, and {} is not one (a Hugging Face folder runs without --quantized)",
            path.display()
        )));
    }
    let io = |source| GgufError::Io { path: path.to_path_buf(), source };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let content = Content::read(&mut file).map_err(|source| GgufError::Format { path: path.to_path_buf(), source })?;
    let arch = match content.metadata.get("general.architecture").map(|v| v.to_string()) {
        Some(Ok(a)) => a.clone(),
        _ => return Err(GgufError::MissingKey("general.architecture".into()).into()),
    };
    if !ARCHITECTURES.contains(&arch.as_str()) {
        return Err(LmError::Other(format!(
            "GGUF architecture `{arch}` is not supported by --quantized (supported: {})",
            ARCHITECTURES.join(", ")
        )));
    }
    Ok((content, file, arch))
}

impl QuantizedModel {
    /// The GGUF architecture (`general.architecture`).
    pub fn arch(&self) -> &str {
        &self.arch
    }

    /// Open a `.gguf` file with its tokenizer, chat template and EOS ids, the weights kept
    /// quantized. Anything but a .gguf file of a supported architecture is an error naming why.
    pub fn open(path: &Path, device: &Device) -> Result<LanguageModel<QuantizedModel>, LmError> {
        let (content, mut file, arch) = read(path)?;
        let tok = GgufTokenizer::read(&content)?;
        let model = Self::from_content(content, &mut file, arch, path, device)?;
        let tokenizer = Tokenizer::from_inner(tok.tokenizer.clone());
        let chat = ChatTemplate::from_tokenizer_config(&tok.tokenizer_config(model.context_len), None);
        let mut eos_ids = tok.eos_token_ids.clone();
        if let Some(id) = chat.as_ref().and_then(|c| c.eos_token.as_deref()).and_then(|t| tokenizer.token_id(t)) {
            if !eos_ids.contains(&id) {
                eos_ids.push(id);
            }
        }
        Ok(LanguageModel { model, tokenizer, chat, eos_ids })
    }

    /// The weights alone (no tokenizer needed), kept quantized.
    pub fn load(path: &Path, device: &Device) -> Result<QuantizedModel, LmError> {
        let (content, mut file, arch) = read(path)?;
        Self::from_content(content, &mut file, arch, path, device)
    }

    fn from_content(
        content: Content,
        file: &mut std::fs::File,
        arch: String,
        path: &Path,
        device: &Device,
    ) -> Result<QuantizedModel, LmError> {
        let key = |k: &str| format!("{arch}.{k}");
        let heads = meta_u64(&content, &key("attention.head_count"))? as usize;
        let kv_heads = meta_u64(&content, &key("attention.head_count_kv")).map(|v| v as usize).unwrap_or(heads);
        let hidden = meta_u64(&content, &key("embedding_length"))? as usize;
        let layers = meta_u64(&content, &key("block_count"))? as usize;
        let head_dim =
            meta_u64(&content, &key("attention.key_length")).map(|v| v as usize).unwrap_or(hidden / heads.max(1));
        let mut context_len = meta_u64(&content, &key("context_length"))? as usize;
        if arch == "llama" {
            // Its rotary tables stop there, whatever the file allows.
            context_len = context_len.min(quantized_llama::MAX_SEQ_LEN);
        }
        let vocab_size = content
            .tensor_infos
            .get("token_embd.weight")
            .ok_or_else(|| GgufError::MissingTensor("token_embd.weight".into()))?
            .shape
            .dims()[0];
        let load = |e: candle_core::Error| LmError::Other(format!("{}: {e}", path.display()));
        let inner = match arch.as_str() {
            "llama" => Inner::Llama(quantized_llama::ModelWeights::from_gguf(content, file, device).map_err(load)?),
            "qwen2" => Inner::Qwen2(quantized_qwen2::ModelWeights::from_gguf(content, file, device).map_err(load)?),
            _ => Inner::Qwen3(quantized_qwen3::ModelWeights::from_gguf(content, file, device).map_err(load)?),
        };
        Ok(QuantizedModel {
            inner: Mutex::new((inner, 0)),
            arch,
            vocab_size,
            context_len,
            // Keys and values of every layer, held in f32 (an upper bound for f16 caches).
            kv_bytes_per_token: 2 * layers * kv_heads * head_dim * 4,
            device: device.clone(),
        })
    }
}

impl Decoder for QuantizedModel {
    type Cache = QuantizedCache;
    fn vocab_size(&self) -> usize {
        self.vocab_size
    }
    fn context_len(&self) -> usize {
        self.context_len
    }
    fn device(&self) -> &Device {
        &self.device
    }
    fn kv_bytes_per_token(&self) -> usize {
        self.kv_bytes_per_token
    }
    fn mixes_lengths(&self) -> bool {
        false
    }
    fn new_cache(&self, left_pad: Vec<usize>, capacity: usize) -> Result<QuantizedCache, RolloutError> {
        if left_pad.iter().any(|&p| p > 0) {
            return Err(RolloutError::Params(
                "a quantized model keeps one cache offset per batch: no left padding".into(),
            ));
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.0.clear_kv_cache();
        inner.1 += 1;
        Ok(QuantizedCache { batch: inner.1, offset: 0, capacity })
    }
    fn next_logits(&self, ids: &Tensor, cache: &mut QuantizedCache) -> Result<Tensor, RolloutError> {
        let t = ids.dim(1)?;
        if cache.offset + t > cache.capacity {
            return Err(RolloutError::Params(format!(
                "KV cache full: {} + {t} slots > capacity {}",
                cache.offset, cache.capacity
            )));
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.1 != cache.batch {
            return Err(RolloutError::Params("this KV cache was replaced by a newer batch's".into()));
        }
        let logits = if ids.dim(0)? > 1 && t > 1 {
            // Their forward picks the last position out of (B, T, hidden) and hands that strided
            // view to the quantized head, which takes contiguous inputs only: with several rows,
            // a multi-token prefill fails there. One position at a time is the same computation.
            let mut last = None;
            for i in 0..t {
                last = Some(inner.0.forward(&ids.narrow(1, i, 1)?.contiguous()?, cache.offset + i)?);
            }
            last.expect("t > 1")
        } else {
            inner.0.forward(ids, cache.offset)?
        };
        cache.offset += t;
        Ok(logits.unsqueeze(1)?)
    }
}
