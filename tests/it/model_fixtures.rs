//! Our decoder against Hugging Face transformers on tiny random llama / qwen2 / qwen3 models
//! (tests/fixtures/tiny-*, made by scripts/fixtures/make_fixtures.py): logits at every position within
//! 1e-4, on the training path, the inference path, left-padded batches and the KV cache.

use candle_core::{DType, Device, IndexOp, Tensor};
use sharpen::model::{next_token_logprobs, LoadOptions, Model};
use std::path::PathBuf;

const TOL: f32 = 1e-4;
const FAMILIES: [&str; 3] = ["llama", "qwen2", "qwen3"];

fn dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(format!("tiny-{name}"))
}

struct Case {
    model: Model,
    seqs: Vec<Vec<u32>>,
    expected: Vec<Tensor>,
}

fn case(name: &str, trainable: bool) -> Case {
    let d = dir(name);
    let opts = LoadOptions { trainable, ..LoadOptions::default() };
    let model = Model::load(&d, &opts).unwrap();
    let exp = candle_core::safetensors::load(d.join("expected.safetensors"), &Device::Cpu).unwrap();
    let ids = |k: &str| exp[k].to_dtype(DType::U32).unwrap().to_vec1::<u32>().unwrap();
    Case {
        model,
        seqs: vec![ids("ids_a"), ids("ids_b")],
        expected: vec![exp["logits_a"].clone(), exp["logits_b"].clone()],
    }
}

fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f32>().unwrap()
}

/// Left-pad the sequences to one length; padding slots hold token 0.
fn padded(seqs: &[Vec<u32>]) -> (Tensor, Vec<usize>) {
    let t = seqs.iter().map(Vec::len).max().unwrap();
    let pads: Vec<usize> = seqs.iter().map(|s| t - s.len()).collect();
    let flat: Vec<u32> =
        seqs.iter().flat_map(|s| std::iter::repeat_n(0, t - s.len()).chain(s.iter().copied())).collect();
    (Tensor::from_vec(flat, (seqs.len(), t), &Device::Cpu).unwrap(), pads)
}

fn check_rows(name: &str, what: &str, logits: &Tensor, c: &Case, pads: &[usize]) {
    for (r, (s, e)) in c.seqs.iter().zip(&c.expected).enumerate() {
        let got = logits.i(r).unwrap().narrow(0, pads[r], s.len()).unwrap();
        let diff = max_diff(&got, e);
        assert!(diff < TOL, "{name} {what} row {r}: max |Δlogit| = {diff}");
    }
}

#[test]
fn each_sequence_alone_matches_transformers_on_both_paths() {
    for name in FAMILIES {
        let c = case(name, false);
        for (s, e) in c.seqs.iter().zip(&c.expected) {
            let ids = Tensor::new(s.as_slice(), &Device::Cpu).unwrap().unsqueeze(0).unwrap();
            let train = c.model.forward_train(&ids, &[0]).unwrap().i(0).unwrap();
            let infer = c.model.forward_infer(&ids, &[0]).unwrap().i(0).unwrap();
            assert!(max_diff(&train, e) < TOL, "{name} train: {}", max_diff(&train, e));
            assert!(max_diff(&infer, e) < TOL, "{name} infer: {}", max_diff(&infer, e));
        }
    }
}

#[test]
fn left_padded_batch_matches_transformers_on_both_paths() {
    for name in FAMILIES {
        let c = case(name, false);
        let (ids, pads) = padded(&c.seqs);
        assert!(pads.iter().any(|&p| p > 0));
        check_rows(name, "train", &c.model.forward_train(&ids, &pads).unwrap(), &c, &pads);
        check_rows(name, "infer", &c.model.forward_infer(&ids, &pads).unwrap(), &c, &pads);
    }
}

#[test]
fn kv_cache_prefill_then_step_by_step_matches_transformers() {
    for name in FAMILIES {
        let c = case(name, false);
        let (ids, pads) = padded(&c.seqs);
        let t = ids.dim(1).unwrap();
        let prefill = 9; // covers every slot of the shorter row's padding plus some tokens
        let mut cache = c.model.new_cache(pads.clone(), t + 3).unwrap();
        let mut parts = vec![c.model.forward_cached(&ids.narrow(1, 0, prefill).unwrap(), &mut cache, false).unwrap()];
        for s in prefill..t {
            parts.push(c.model.forward_cached(&ids.narrow(1, s, 1).unwrap(), &mut cache, false).unwrap());
        }
        assert_eq!(cache.len(), t);
        check_rows(name, "cached", &Tensor::cat(&parts, 1).unwrap(), &c, &pads);
        // last_only returns the final position alone.
        let mut cache = c.model.new_cache(pads.clone(), t).unwrap();
        let last = c.model.forward_cached(&ids, &mut cache, true).unwrap();
        assert_eq!(last.dims(), &[2, 1, 64]);
        for r in 0..2 {
            let e = c.expected[r].i(c.seqs[r].len() - 1).unwrap();
            assert!(max_diff(&last.i((r, 0)).unwrap(), &e) < TOL, "{name} last_only row {r}");
        }
        // A full cache is an error, not a panic.
        assert!(c.model.forward_cached(&ids.narrow(1, 0, 1).unwrap(), &mut cache, false).is_err());
    }
}

#[test]
fn every_weight_receives_a_nonzero_gradient() {
    for name in FAMILIES {
        let c = case(name, true);
        let vars = c.model.named_vars();
        assert!(!vars.is_empty());
        let (ids, pads) = padded(&c.seqs);
        let logits = c.model.forward_train(&ids, &pads).unwrap();
        let loss = next_token_logprobs(&logits, &ids).unwrap().sum_all().unwrap();
        let grads = loss.backward().unwrap();
        for (n, v) in vars {
            let g = grads.get(v.as_tensor()).unwrap_or_else(|| panic!("{name}: no gradient for {n}"));
            let norm = g.sqr().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(norm > 0.0 && norm.is_finite(), "{name}: gradient of {n} has squared norm {norm}");
        }
        let expected_count = if name == "qwen3" {
            2 * 11 + 2 + 1
        } else if name == "qwen2" {
            2 * 12 + 3
        } else {
            2 * 9 + 2
        };
        assert_eq!(vars.len(), expected_count, "{name}: number of weights");
    }
}

#[test]
fn next_token_logprobs_match_log_softmax_of_the_reference() {
    let c = case("qwen2", false);
    let s = &c.seqs[0];
    let ids = Tensor::new(s.as_slice(), &Device::Cpu).unwrap().unsqueeze(0).unwrap();
    let lp = next_token_logprobs(&c.model.forward_train(&ids, &[0]).unwrap(), &ids).unwrap();
    let e = candle_nn::ops::log_softmax(&c.expected[0], 1).unwrap();
    for t in 0..s.len() - 1 {
        let want = e.i((t, s[t + 1] as usize)).unwrap().to_scalar::<f32>().unwrap();
        let got = lp.i((0, t)).unwrap().to_scalar::<f32>().unwrap();
        assert!((want - got).abs() < TOL, "position {t}: {got} vs {want}");
    }
}

#[test]
fn missing_or_misshapen_tensors_are_named_errors() {
    let d = dir("qwen2");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("config.json")).unwrap()).unwrap();
    let tensors = sharpen::model::read_safetensors(&d, &Device::Cpu).unwrap();
    assert!(tensors.len() > 20, "both shards are read");
    let opts = LoadOptions::default();
    let mut missing = tensors.clone();
    missing.remove("model.layers.1.self_attn.k_proj.bias");
    let e = Model::from_parts(&config, missing, &opts).err().unwrap().to_string();
    assert!(e.contains("missing tensor model.layers.1.self_attn.k_proj.bias"), "{e}");
    let mut bad = tensors.clone();
    bad.insert("model.norm.weight".into(), Tensor::zeros(7, DType::F32, &Device::Cpu).unwrap());
    let e = Model::from_parts(&config, bad, &opts).err().unwrap().to_string();
    assert!(e.contains("model.norm.weight") && e.contains("[32]") && e.contains("[7]"), "{e}");
    let e = Model::load(&d.join("nonexistent"), &opts).err().unwrap().to_string();
    assert!(e.contains("config.json"), "{e}");
    // Loading in memory gives the same logits as loading the folder.
    let m = Model::from_parts(&config, tensors, &opts).unwrap();
    let c = case("qwen2", false);
    let ids = Tensor::new(c.seqs[1].as_slice(), &Device::Cpu).unwrap().unsqueeze(0).unwrap();
    let got = m.forward_infer(&ids, &[0]).unwrap().i(0).unwrap();
    assert!(max_diff(&got, &c.expected[1]) < TOL);
}
