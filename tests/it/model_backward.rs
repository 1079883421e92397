//! The memory-bounded backward (activation checkpointing, chunked head, weighted rows only)
//! against the plain one (whole graph, full logits, log-softmax, one backward) on the tiny
//! llama / qwen2 / qwen3 fixtures: same loss, same gradient for every weight.

use candle_core::{DType, Device, Tensor};
use sharpen::model::{next_token_logprobs, BackwardOptions, Grads, LoadOptions, Model};
use std::path::PathBuf;

fn model(name: &str) -> Model {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(format!("tiny-{name}"));
    Model::load(&d, &LoadOptions { trainable: true, ..LoadOptions::default() }).unwrap()
}

/// Two left-padded rows with weights on some positions only (0 on prompt and padding).
fn batch(vocab: u32) -> (Tensor, Vec<usize>, Vec<f32>) {
    let (b, t) = (3, 9);
    let left_pad = vec![0, 3, 1];
    let ids: Vec<u32> = (0..b * t).map(|i| (i as u32 * 37 + 11) % vocab).collect();
    let mut w = vec![0f32; b * (t - 1)];
    for (row, &p) in left_pad.iter().enumerate() {
        for pos in (p + 2)..(t - 1) {
            w[row * (t - 1) + pos] = 0.3 - 0.17 * (row as f32) + 0.05 * pos as f32;
        }
    }
    (Tensor::from_vec(ids, (b, t), &Device::Cpu).unwrap(), left_pad, w)
}

/// Σ w·log p with the whole graph: the reference.
fn plain(m: &Model, ids: &Tensor, left_pad: &[usize], w: &[f32]) -> (f64, Grads) {
    let (b, t) = ids.dims2().unwrap();
    let lp = next_token_logprobs(&m.forward_train(ids, left_pad).unwrap(), ids).unwrap();
    let wt = Tensor::from_slice(w, (b, t - 1), &Device::Cpu).unwrap();
    let loss = (lp * wt).unwrap().sum_all().unwrap();
    let store = loss.backward().unwrap();
    (loss.to_scalar::<f32>().unwrap() as f64, Grads::from_store(&store, m.named_vars()).unwrap())
}

fn max_rel_diff(a: &Tensor, b: &Tensor) -> f32 {
    let scale = b.abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap().max(1e-6);
    (a - b).unwrap().abs().unwrap().max_all().unwrap().to_scalar::<f32>().unwrap() / scale
}

#[test]
fn checkpointed_chunked_backward_equals_the_whole_graph() {
    for name in ["llama", "qwen2", "qwen3"] {
        let m = model(name);
        let (ids, pads, w) = batch(m.config().vocab_size as u32);
        let (loss0, g0) = plain(&m, &ids, &pads, &w);
        for opts in [
            BackwardOptions { checkpoint_every: 1, head_chunk: 3, ..BackwardOptions::default() },
            BackwardOptions { checkpoint_every: 0, head_chunk: 1024, ..BackwardOptions::default() },
            BackwardOptions { checkpoint_every: 2, head_chunk: 5, ..BackwardOptions::default() },
            // candle's composed ops instead of the fused kernels, timed phase by phase.
            BackwardOptions { checkpoint_every: 1, head_chunk: 3, composed_ops: true, profile: true },
        ] {
            let mut g = Grads::new();
            let loss = m.weighted_logprob_backward(&ids, &pads, &w, opts, &mut g).unwrap();
            assert_eq!(g.phase_seconds.iter().all(|&s| s > 0.0), opts.profile, "{name} {opts:?}: phase times");
            assert!((loss - loss0).abs() < 1e-4 * loss0.abs().max(1.0), "{name} {opts:?}: loss {loss} vs {loss0}");
            for (n, v) in m.named_vars() {
                let a = g.get(v.as_tensor()).unwrap_or_else(|| panic!("{name} {opts:?}: {n} got no gradient"));
                let b = g0.get(v.as_tensor()).unwrap();
                let norm = b.sqr().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap();
                assert!(norm > 0.0, "{name}: reference gradient of {n} is zero");
                let d = max_rel_diff(a, b);
                assert!(d < 1e-4, "{name} {opts:?}: gradient of {n} differs by {d} (relative)");
            }
        }
    }
}

#[test]
fn gradients_add_up_over_calls() {
    // Two calls into one Grads = one call with the summed weights (the micro-batch contract).
    let m = model("llama");
    let (ids, pads, w) = batch(m.config().vocab_size as u32);
    let half: Vec<f32> = w.iter().map(|x| x * 0.5).collect();
    let opts = BackwardOptions { checkpoint_every: 1, head_chunk: 4, ..BackwardOptions::default() };
    let (mut once, mut twice) = (Grads::new(), Grads::new());
    m.weighted_logprob_backward(&ids, &pads, &w, opts, &mut once).unwrap();
    m.weighted_logprob_backward(&ids, &pads, &half, opts, &mut twice).unwrap();
    m.weighted_logprob_backward(&ids, &pads, &half, opts, &mut twice).unwrap();
    for (n, v) in m.named_vars() {
        let d = max_rel_diff(twice.get(v.as_tensor()).unwrap(), once.get(v.as_tensor()).unwrap());
        assert!(d < 1e-5, "{n}: {d}");
    }
}

#[test]
fn logprobs_at_equal_the_full_log_softmax() {
    for name in ["llama", "qwen2", "qwen3"] {
        let m = model(name);
        let (ids, pads, _) = batch(m.config().vocab_size as u32);
        let full = next_token_logprobs(&m.forward_infer(&ids, &pads).unwrap(), &ids).unwrap();
        let full = full.to_dtype(DType::F32).unwrap().to_vec2::<f32>().unwrap();
        let positions: Vec<(usize, usize)> = vec![(0, 0), (0, 7), (1, 4), (2, 2), (2, 6), (1, 7)];
        let got = m.logprobs_at(&ids, &pads, &positions, 4).unwrap();
        for (&(r, p), g) in positions.iter().zip(got) {
            assert!((g - full[r][p]).abs() < 1e-4, "{name} ({r},{p}): {g} vs {}", full[r][p]);
        }
        assert!(m.logprobs_at(&ids, &pads, &[(0, 8)], 4).is_err(), "the last position has no next token");
    }
}

/// The whole model's gradient against central finite differences of the loss along random
/// directions in weight space (an independent reference for the fused ops' backwards).
#[test]
fn gradient_matches_finite_differences() {
    use rand::{Rng, SeedableRng};
    for name in ["llama", "qwen2", "qwen3"] {
        let m = model(name);
        let (ids, pads, w) = batch(m.config().vocab_size as u32);
        let mut g = Grads::new();
        m.weighted_logprob_backward(&ids, &pads, &w, BackwardOptions::default(), &mut g).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        for trial in 0..3 {
            // A random direction over every weight, and the gradient's component along it.
            let dirs: Vec<Tensor> = m
                .named_vars()
                .iter()
                .map(|(_, v)| {
                    let n = v.elem_count();
                    let d: Vec<f32> = (0..n).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
                    Tensor::from_vec(d, v.shape(), &Device::Cpu).unwrap()
                })
                .collect();
            let along: f64 = m
                .named_vars()
                .iter()
                .zip(&dirs)
                .map(|((_, v), d)| {
                    (g.get(v.as_tensor()).unwrap() * d).unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap() as f64
                })
                .sum();
            let eps = 1e-3;
            let loss_at = |t: f64| -> f64 {
                let saved: Vec<Tensor> = m.named_vars().iter().map(|(_, v)| v.as_tensor().copy().unwrap()).collect();
                for ((_, v), d) in m.named_vars().iter().zip(&dirs) {
                    v.set(&(v.as_tensor() + (d * t).unwrap()).unwrap()).unwrap();
                }
                let lp = next_token_logprobs(&m.forward_infer(&ids, &pads).unwrap(), &ids).unwrap();
                let (b, t_) = ids.dims2().unwrap();
                let wt = Tensor::from_slice(&w, (b, t_ - 1), &Device::Cpu).unwrap();
                let l = (lp * wt).unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap() as f64;
                for ((_, v), s) in m.named_vars().iter().zip(saved) {
                    v.set(&s).unwrap();
                }
                l
            };
            let fd = (loss_at(eps) - loss_at(-eps)) / (2.0 * eps);
            let rel = (fd - along).abs() / along.abs().max(1e-3);
            assert!(rel < 1e-2, "{name} direction {trial}: finite difference {fd} vs gradient {along}");
        }
    }
}
