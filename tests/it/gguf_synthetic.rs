//! GGUF reading on a tiny synthetic llama written with candle's GGUF writer: dequantisation,
//! q/k un-permutation, names, config, tokenizer, and the Hugging Face folder of `convert`.

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sharpen::gguf::{self, GgufError};
use std::collections::HashMap;
use std::path::Path;

const HIDDEN: usize = 32;
const HEADS: usize = 4;
const KV_HEADS: usize = 2;
const HEAD_DIM: usize = 8;
const FFN: usize = 64;
const LAYERS: usize = 2;
const TEMPLATE: &str = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}";

fn random(rng: &mut ChaCha8Rng, dims: &[usize]) -> Tensor {
    let n: usize = dims.iter().product();
    let v: Vec<f32> = (0..n).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
    Tensor::from_vec(v, dims, &Device::Cpu).unwrap()
}

/// Byte-level vocabulary: 3 control tokens, the 256 byte symbols, then merged tokens.
fn vocab() -> (Vec<String>, Vec<String>, Vec<i32>) {
    let mut tokens: Vec<String> = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"].map(String::from).to_vec();
    let mut types = vec![3, 3, 3];
    let mut bytes: Vec<char> = tokenizers::pre_tokenizers::byte_level::ByteLevel::alphabet().into_iter().collect();
    bytes.sort();
    for c in bytes {
        tokens.push(c.to_string());
        types.push(1);
    }
    let merges: Vec<String> = ["h e", "l l", "he ll", "1 2", "Ġ w"].map(String::from).to_vec();
    for m in &merges {
        tokens.push(m.replace(' ', ""));
        types.push(1);
    }
    (tokens, merges, types)
}

struct Model {
    /// Hugging Face layout, f32, before quantisation.
    hf: HashMap<String, Tensor>,
    /// What the file holds after its quantisation, dequantised, in Hugging Face layout.
    expected: HashMap<String, Tensor>,
}

/// Write a tiny llama GGUF with `pre` as its pre-tokenizer; return the tensors it should yield.
fn write_gguf(path: &Path, pre: &str, arch: &str) -> Model {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (tokens, merges, types) = vocab();
    let v = tokens.len();
    let mut hf = HashMap::new();
    let mut gguf_tensors: Vec<(String, QTensor)> = Vec::new();
    let mut expected = HashMap::new();
    let mut add = |rng: &mut ChaCha8Rng, gname: &str, dims: &[usize], dtype: GgmlDType, heads: Option<usize>| {
        let t = random(rng, dims);
        let stored = match heads {
            Some(h) => gguf::permute(&t, h).unwrap(),
            None => t.clone(),
        };
        let q = QTensor::quantize(&stored, dtype).unwrap();
        let back = q.dequantize(&Device::Cpu).unwrap();
        let back = match heads {
            Some(h) => gguf::unpermute(&back, h).unwrap(),
            None => back,
        };
        let name = gguf::hf_name(gname).unwrap();
        hf.insert(name.clone(), t);
        expected.insert(name, back);
        gguf_tensors.push((gname.to_string(), q));
    };
    add(&mut rng, "token_embd.weight", &[v, HIDDEN], GgmlDType::Q8_0, None);
    add(&mut rng, "output_norm.weight", &[HIDDEN], GgmlDType::F32, None);
    for l in 0..LAYERS {
        let n = |s: &str| format!("blk.{l}.{s}.weight");
        add(&mut rng, &n("attn_q"), &[HEADS * HEAD_DIM, HIDDEN], GgmlDType::Q4_1, Some(HEADS));
        add(&mut rng, &n("attn_k"), &[KV_HEADS * HEAD_DIM, HIDDEN], GgmlDType::F32, Some(KV_HEADS));
        add(&mut rng, &n("attn_v"), &[KV_HEADS * HEAD_DIM, HIDDEN], GgmlDType::F16, None);
        add(&mut rng, &n("attn_output"), &[HIDDEN, HEADS * HEAD_DIM], GgmlDType::Q4_0, None);
        add(&mut rng, &n("attn_norm"), &[HIDDEN], GgmlDType::F32, None);
        add(&mut rng, &n("ffn_norm"), &[HIDDEN], GgmlDType::F32, None);
        add(&mut rng, &n("ffn_gate"), &[FFN, HIDDEN], GgmlDType::Q8_0, None);
        add(&mut rng, &n("ffn_up"), &[FFN, HIDDEN], GgmlDType::Q5_1, None);
        add(&mut rng, &n("ffn_down"), &[HIDDEN, FFN], GgmlDType::BF16, None);
    }
    let s = |x: &str| Value::String(x.to_string());
    let strs = |xs: &[String]| Value::Array(xs.iter().map(|x| Value::String(x.clone())).collect());
    let meta: Vec<(&str, Value)> = vec![
        ("general.architecture", s(arch)),
        ("llama.block_count", Value::U32(LAYERS as u32)),
        ("llama.context_length", Value::U32(2048)),
        ("llama.embedding_length", Value::U32(HIDDEN as u32)),
        ("llama.feed_forward_length", Value::U32(FFN as u32)),
        ("llama.attention.head_count", Value::U32(HEADS as u32)),
        ("llama.attention.head_count_kv", Value::U32(KV_HEADS as u32)),
        ("llama.rope.freq_base", Value::F32(100000.0)),
        ("llama.attention.layer_norm_rms_epsilon", Value::F32(1e-5)),
        ("llama.rope.dimension_count", Value::U32(HEAD_DIM as u32)),
        ("tokenizer.ggml.model", s("gpt2")),
        ("tokenizer.ggml.pre", s(pre)),
        ("tokenizer.ggml.tokens", strs(&tokens)),
        ("tokenizer.ggml.token_type", Value::Array(types.iter().map(|&t| Value::I32(t)).collect())),
        ("tokenizer.ggml.merges", strs(&merges)),
        ("tokenizer.ggml.bos_token_id", Value::U32(1)),
        ("tokenizer.ggml.eos_token_id", Value::U32(2)),
        ("tokenizer.ggml.unknown_token_id", Value::U32(0)),
        ("tokenizer.ggml.padding_token_id", Value::U32(2)),
        ("tokenizer.ggml.add_bos_token", Value::Bool(false)),
        ("tokenizer.chat_template", s(TEMPLATE)),
    ];
    let meta_refs: Vec<(&str, &Value)> = meta.iter().map(|(k, v)| (*k, v)).collect();
    let t_refs: Vec<(&str, &QTensor)> = gguf_tensors.iter().map(|(k, q)| (k.as_str(), q)).collect();
    let mut f = std::fs::File::create(path).unwrap();
    gguf_file::write(&mut f, &meta_refs, &t_refs).unwrap();
    Model { hf, expected }
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    a.sub(b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap()
}

#[test]
fn unpermute_matches_the_index_formula() {
    // GGUF row h*hd + 2b + a holds Hugging Face row h*hd + a*hd/2 + b.
    let (heads, hd, cols) = (3, 6, 2);
    let rows = heads * hd;
    let hf: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
    let mut gg = vec![0f32; rows * cols];
    for h in 0..heads {
        for a in 0..2 {
            for b in 0..hd / 2 {
                for c in 0..cols {
                    gg[(h * hd + 2 * b + a) * cols + c] = hf[(h * hd + a * hd / 2 + b) * cols + c];
                }
            }
        }
    }
    let gg = Tensor::from_vec(gg, (rows, cols), &Device::Cpu).unwrap();
    let hf = Tensor::from_vec(hf, (rows, cols), &Device::Cpu).unwrap();
    assert_eq!(max_diff(&gguf::unpermute(&gg, heads).unwrap(), &hf), 0.0);
    assert_eq!(max_diff(&gguf::permute(&hf, heads).unwrap(), &gg), 0.0);
}

#[test]
fn names_map_to_hugging_face() {
    assert_eq!(gguf::hf_name("blk.12.attn_output.weight").unwrap(), "model.layers.12.self_attn.o_proj.weight");
    assert_eq!(gguf::hf_name("blk.0.ffn_norm.weight").unwrap(), "model.layers.0.post_attention_layernorm.weight");
    assert_eq!(gguf::hf_name("output.weight").unwrap(), "lm_head.weight");
    assert!(matches!(gguf::hf_name("blk.0.ssm_conv.weight"), Err(GgufError::UnknownTensor(_))));
    assert!(matches!(gguf::hf_name("blk.x.attn_q.weight"), Err(GgufError::UnknownTensor(_))));
}

#[test]
fn parts_match_the_written_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.gguf");
    let model = write_gguf(&path, "smollm", "llama");
    let parts = gguf::gguf_to_parts(&path).unwrap();
    let mut names: Vec<_> = parts.tensors.keys().cloned().collect();
    names.sort();
    let mut want: Vec<_> = model.expected.keys().cloned().collect();
    want.sort();
    assert_eq!(names, want);
    assert!(!parts.tensors.contains_key("lm_head.weight"));
    for (name, t) in &parts.tensors {
        // Exactly what candle's dequantisation gives, un-permuted.
        assert_eq!(max_diff(t, &model.expected[name]), 0.0, "{name}");
        // And close to the original weights: the permutation really was undone.
        let tol =
            if name.contains("q_proj") || name.contains("o_proj") || name.contains("up_proj") { 0.15 } else { 0.02 };
        assert!(max_diff(t, &model.hf[name]) < tol, "{name}: {}", max_diff(t, &model.hf[name]));
    }
    let c = &parts.config;
    assert_eq!(c["model_type"], "llama");
    assert_eq!(c["hidden_size"], HIDDEN);
    assert_eq!(c["num_attention_heads"], HEADS);
    assert_eq!(c["num_key_value_heads"], KV_HEADS);
    assert_eq!(c["head_dim"], HEAD_DIM);
    assert_eq!(c["intermediate_size"], FFN);
    assert_eq!(c["num_hidden_layers"], LAYERS);
    assert_eq!(c["vocab_size"], vocab().0.len());
    assert_eq!(c["rope_theta"], 100000.0);
    assert!((c["rms_norm_eps"].as_f64().unwrap() - 1e-5).abs() < 1e-12);
    assert_eq!(c["tie_word_embeddings"], true);
    assert_eq!(parts.eos_token_ids, vec![2]);
    assert_eq!(parts.generation_config["eos_token_id"], 2);
    assert_eq!(parts.chat_template.as_deref(), Some(TEMPLATE));
    assert_eq!(parts.special.bos.as_deref(), Some("<|im_start|>"));
    assert_eq!(parts.special.eos.as_deref(), Some("<|im_end|>"));
}

fn ids(tok: &tokenizers::Tokenizer, text: &str) -> Vec<u32> {
    tok.encode(text, true).unwrap().get_ids().to_vec()
}

#[test]
fn tokenizer_splits_digits_only_for_smollm() {
    let dir = tempfile::tempdir().unwrap();
    let (tokens, _, _) = vocab();
    let id = |t: &str| tokens.iter().position(|x| x == t).unwrap() as u32;
    let p = dir.path().join("smollm.gguf");
    write_gguf(&p, "smollm", "llama");
    let smol = gguf::gguf_to_parts(&p).unwrap().tokenizer;
    let p = dir.path().join("gpt2.gguf");
    write_gguf(&p, "gpt-2", "llama");
    let gpt2 = gguf::gguf_to_parts(&p).unwrap().tokenizer;
    // The merge "1 2" exists, but SmolLM splits every digit before BPE runs.
    assert_eq!(ids(&smol, "12"), vec![id("1"), id("2")]);
    assert_eq!(ids(&gpt2, "12"), vec![id("12")]);
    assert_eq!(ids(&smol, "hell w"), vec![id("hell"), id("Ġw")]);
    // Control tokens are matched whole, and decoding round-trips bytes.
    assert_eq!(ids(&smol, "<|im_start|>he<|im_end|>"), vec![1, id("he"), 2]);
    let text = "héllo 12\n\t😀";
    let enc = ids(&smol, text);
    assert_eq!(smol.decode(&enc, false).unwrap(), text);
}

#[test]
fn unknown_pre_tokenizer_and_architecture_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.gguf");
    write_gguf(&p, "deepseek-llm", "llama");
    let e = gguf::gguf_to_parts(&p).err().unwrap();
    assert!(matches!(e, GgufError::UnsupportedPreTokenizer(ref s) if s == "deepseek-llm"), "{e}");
    assert!(e.to_string().contains("deepseek-llm"));
    write_gguf(&p, "smollm", "mamba");
    let e = gguf::gguf_to_parts(&p).err().unwrap();
    assert!(matches!(e, GgufError::UnsupportedArchitecture(ref s) if s == "mamba"), "{e}");
    let e = gguf::gguf_to_parts(&dir.path().join("missing.gguf")).err().unwrap();
    assert!(matches!(e, GgufError::Io { .. }), "{e}");
    std::fs::write(&p, b"not a gguf file at all").unwrap();
    assert!(matches!(gguf::gguf_to_parts(&p).err().unwrap(), GgufError::Format { .. }));
}

#[test]
fn convert_writes_a_complete_folder_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("tiny.gguf");
    write_gguf(&p, "smollm", "llama");
    let out = dir.path().join("hf");
    gguf::convert(&p, &out, false).unwrap();
    let parts = gguf::gguf_to_parts(&p).unwrap();

    let st = candle_core::safetensors::load(out.join("model.safetensors"), &Device::Cpu).unwrap();
    assert_eq!(st.len(), parts.tensors.len());
    for (name, t) in &parts.tensors {
        assert_eq!(max_diff(&st[name], t), 0.0, "{name}");
    }
    let bytes = std::fs::read(out.join("model.safetensors")).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    assert_eq!(header.metadata().as_ref().and_then(|m| m.get("format")).map(String::as_str), Some("pt"));

    let json = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.join(f)).unwrap()).unwrap()
    };
    assert_eq!(json("config.json"), parts.config);
    assert_eq!(json("generation_config.json")["eos_token_id"], 2);
    let tc = json("tokenizer_config.json");
    assert_eq!(tc["chat_template"], TEMPLATE);
    assert_eq!(tc["eos_token"], "<|im_end|>");
    assert_eq!(tc["bos_token"], "<|im_start|>");
    let tok = tokenizers::Tokenizer::from_file(out.join("tokenizer.json")).unwrap();
    for text in ["12 hello", "<|im_start|>x\n<|im_end|>", " w  w\n\n"] {
        assert_eq!(ids(&tok, text), ids(&parts.tokenizer, text), "{text:?}");
    }
    // Nothing else is left beside the folder.
    let siblings: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(siblings.len(), 2, "{siblings:?}");

    // An existing folder is kept unless forced.
    let e = gguf::convert(&p, &out, false).err().unwrap();
    assert!(matches!(e, GgufError::Exists(_)), "{e}");
    std::fs::write(out.join("stale.txt"), "x").unwrap();
    gguf::convert(&p, &out, true).unwrap();
    assert!(!out.join("stale.txt").exists());
    assert!(out.join("model.safetensors").exists());
    // A failed conversion leaves no folder.
    let bad = dir.path().join("bad.gguf");
    std::fs::write(&bad, b"GGUF garbage").unwrap();
    assert!(gguf::convert(&bad, &dir.path().join("hf2"), false).is_err());
    assert!(!dir.path().join("hf2").exists());
}
