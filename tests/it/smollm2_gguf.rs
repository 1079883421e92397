//! SmolLM2-135M-Instruct read from its GGUF, against Hugging Face transformers (fixtures made by
//! scripts/fixtures/make-smollm2-fixtures.py from transformers' own GGUF reader, `gguf_file=`).
//!
//! These tests need models/ (scripts/fetch-test-model.sh; .ci/run calls it). Without it they
//! print why and pass, so that a fresh checkout without network still builds and tests.

use serde_json::Value;
use sharpen::gguf::{self, GgufParts};
use std::path::PathBuf;
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn gguf_path() -> Option<PathBuf> {
    let p = root().join("models/SmolLM2-135M-Instruct.Q4_1.gguf");
    // A missing model fails the test: the README's test command fetches it first.
    assert!(p.exists(), "{} is absent: run scripts/fetch-test-model.sh", p.display());
    Some(p)
}

/// The model is read once per test binary (about a second in release).
fn parts() -> Option<&'static GgufParts> {
    static PARTS: OnceLock<GgufParts> = OnceLock::new();
    let path = gguf_path()?;
    Some(PARTS.get_or_init(|| gguf::gguf_to_parts(&path).expect("reading the SmolLM2 GGUF")))
}

fn fixture(name: &str) -> Value {
    let p = root().join("tests/fixtures/smollm2").join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn u32s(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

#[test]
fn weights_match_transformers_gguf_reader() {
    let Some(parts) = parts() else { return };
    let fx = fixture("weights.json");
    let tensors = fx["tensors"].as_object().unwrap();
    assert_eq!(tensors.len(), parts.tensors.len(), "tensor count");
    let mut worst = 0f64;
    for (name, want) in tensors {
        let t = parts.tensors.get(name).unwrap_or_else(|| panic!("{name} missing"));
        let shape: Vec<usize> =
            want["shape"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
        assert_eq!(t.dims(), shape.as_slice(), "{name}");
        let flat = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        for (i, v) in want["index"].as_array().unwrap().iter().zip(want["value"].as_array().unwrap()) {
            let (i, v) = (i.as_u64().unwrap() as usize, v.as_f64().unwrap());
            worst = worst.max((flat[i] as f64 - v).abs());
        }
    }
    // Both sides compute scale * q + min in f32 from the same bytes: equal up to f32 rounding.
    eprintln!("weights: max |ours - transformers| = {worst:e}");
    assert!(worst <= 1e-6, "max |ours - transformers| = {worst}");
}

#[test]
fn config_matches_the_model() {
    let Some(parts) = parts() else { return };
    let c = &parts.config;
    for (key, want) in [
        ("num_hidden_layers", 30.0),
        ("hidden_size", 576.0),
        ("intermediate_size", 1536.0),
        ("num_attention_heads", 9.0),
        ("num_key_value_heads", 3.0),
        ("head_dim", 64.0),
        ("vocab_size", 49152.0),
        ("rope_theta", 100000.0),
        ("rms_norm_eps", 1e-5),
    ] {
        assert_eq!(c[key].as_f64(), Some(want), "{key}");
    }
    assert_eq!(c["tie_word_embeddings"], true);
    assert!(!parts.tensors.contains_key("lm_head.weight"));
    assert_eq!(parts.eos_token_ids, vec![2]);
    assert_eq!(parts.special.bos.as_deref(), Some("<|im_start|>"));
    assert_eq!(parts.special.eos.as_deref(), Some("<|im_end|>"));
    assert!(parts.chat_template.as_deref().unwrap_or("").contains("add_generation_prompt"));
}

#[test]
fn tokenizer_ids_match_transformers() {
    let Some(parts) = parts() else { return };
    let fx = fixture("tokenizer.json");
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 30);
    let folder = root().join("models/SmolLM2-135M-Instruct/tokenizer.json");
    let from_folder = folder.exists().then(|| tokenizers::Tokenizer::from_file(&folder).unwrap());
    for c in cases {
        let text = c["text"].as_str().unwrap();
        let ours = parts.tokenizer.encode(text, true).unwrap().get_ids().to_vec();
        // transformers loading the folder that `sharpen convert` wrote.
        assert_eq!(ours, u32s(&c["ids_folder"]), "{text:?}");
        assert_eq!(parts.tokenizer.decode(&ours, false).unwrap(), c["decoded"].as_str().unwrap(), "{text:?}");
        // transformers' own GGUF tokenizer uses the plain GPT-2 byte-level pre-tokenizer, without
        // llama.cpp's `smollm` digit split (\p{N} first). The vocabulary has no merges across
        // ASCII digits or a space before them, so only other numerals (①, ½, ²) can tell the two apart.
        if !text.chars().any(|ch| ch.is_numeric() && !ch.is_ascii_digit()) {
            assert_eq!(ours, u32s(&c["ids_gguf"]), "{text:?} (transformers' GGUF tokenizer)");
        }
        if let Some(t) = &from_folder {
            assert_eq!(t.encode(text, true).unwrap().get_ids(), ours.as_slice(), "{text:?} (converted folder)");
        }
    }
}

#[test]
fn chat_prompts_tokenize_like_transformers() {
    let Some(parts) = parts() else { return };
    let fx = fixture("greedy.json");
    for c in fx["cases"].as_array().unwrap() {
        let text = c["chat_text"].as_str().unwrap();
        let ids = parts.tokenizer.encode(text, false).unwrap().get_ids().to_vec();
        assert_eq!(ids, u32s(&c["prompt_ids"]), "{text:?}");
    }
}

#[test]
fn converted_folder_matches_the_gguf() {
    let Some(parts) = parts() else { return };
    let dir = root().join("models/SmolLM2-135M-Instruct");
    assert!(dir.exists(), "{} is absent: run scripts/fetch-test-model.sh", dir.display());
    let json = |f: &str| -> Value { serde_json::from_str(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap() };
    assert_eq!(json("config.json"), parts.config, "stale folder? rerun `sharpen convert --force`");
    assert_eq!(json("generation_config.json")["eos_token_id"], 2);
    let tc = json("tokenizer_config.json");
    assert_eq!(tc["chat_template"].as_str(), parts.chat_template.as_deref());
    assert_eq!(tc["eos_token"], "<|im_end|>");
    // The safetensors header alone: names, shapes and f32.
    use std::io::Read;
    let mut f = std::fs::File::open(dir.join("model.safetensors")).unwrap();
    let mut len = [0u8; 8];
    f.read_exact(&mut len).unwrap();
    let mut header = vec![0u8; u64::from_le_bytes(len) as usize];
    f.read_exact(&mut header).unwrap();
    let header: Value = serde_json::from_slice(&header).unwrap();
    assert_eq!(header["__metadata__"]["format"], "pt");
    let entries = header.as_object().unwrap();
    assert_eq!(entries.len() - 1, parts.tensors.len());
    for (name, t) in &parts.tensors {
        assert_eq!(entries[name]["dtype"], "F32", "{name}");
        let shape: Vec<usize> = u32s(&entries[name]["shape"]).into_iter().map(|x| x as usize).collect();
        assert_eq!(shape.as_slice(), t.dims(), "{name}");
    }
}
