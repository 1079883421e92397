//! The device sampler (Gumbel-max, nucleus by bisection) run on the CPU: its draws follow
//! softmax(l/T), its nucleus is the sorted scan's, its log-probabilities are the model's own,
//! and whole rollouts with it are reproducible and independent of the batch around a row.

use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sharpen::rollout::{nucleus_mask, pick_on_device, sample, Sampler, SamplingParams};

fn uniforms(b: usize, v: usize, seed: u64) -> Tensor {
    let mut g = ChaCha8Rng::seed_from_u64(seed);
    Tensor::from_vec((0..b * v).map(|_| g.gen::<f32>()).collect::<Vec<_>>(), (b, v), &Device::Cpu).unwrap()
}

fn softmax(l: &[f32], t: f64) -> Vec<f64> {
    let m = l.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let w: Vec<f64> = l.iter().map(|&x| ((x as f64 - m) / t).exp()).collect();
    let z: f64 = w.iter().sum();
    w.iter().map(|x| x / z).collect()
}

/// Draw `n` tokens from one row of logits repeated n times and compare the frequencies with
/// `want` within 5 standard errors (and exact zeros where want is 0).
fn check_frequencies(logits: &[f32], params: &SamplingParams, want: &[f64], n: usize) {
    let v = logits.len();
    let rows: Vec<f32> = (0..n).flat_map(|_| logits.iter().copied()).collect();
    let l = Tensor::from_vec(rows, (n, v), &Device::Cpu).unwrap();
    let (tokens, lps) = pick_on_device(&l, params, &uniforms(n, v, 11)).unwrap();
    let mut counts = vec![0usize; v];
    for t in tokens.to_vec1::<u32>().unwrap() {
        counts[t as usize] += 1;
    }
    for (i, (&c, &p)) in counts.iter().zip(want).enumerate() {
        let f = c as f64 / n as f64;
        let se = (p * (1.0 - p) / n as f64).sqrt();
        if p == 0.0 {
            assert_eq!(c, 0, "token {i} is outside the support but was drawn {c} times");
        } else {
            assert!((f - p).abs() < 5.0 * se + 1e-9, "token {i}: frequency {f:.4}, probability {p:.4}");
        }
    }
    // Log-probabilities are at temperature 1 over the whole vocabulary.
    let lp1 = softmax(logits, 1.0);
    for (t, lp) in tokens.to_vec1::<u32>().unwrap().iter().zip(lps.to_vec1::<f32>().unwrap()).take(50) {
        assert!((lp as f64 - lp1[*t as usize].ln()).abs() < 1e-5);
    }
}

#[test]
fn gumbel_max_draws_follow_the_tempered_softmax() {
    let logits = [0.5f32, -1.0, 2.0, 0.1, 1.2, -0.3];
    for t in [1.0, 0.7, 1.6] {
        let p = SamplingParams { temperature: t, ..SamplingParams::default() };
        check_frequencies(&logits, &p, &softmax(&logits, t), 40_000);
    }
}

/// The nucleus of transformers' TopPLogitsWarper by a sorted scan: keep the most likely tokens
/// while the mass before each is below top_p.
fn sorted_nucleus(p: &[f64], top_p: f64) -> Vec<bool> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let mut keep = vec![false; p.len()];
    let mut before = 0.0;
    for &i in &order {
        if before >= top_p {
            break;
        }
        keep[i] = true;
        before += p[i];
    }
    keep
}

#[test]
fn bisection_nucleus_equals_the_sorted_scan() {
    let mut g = ChaCha8Rng::seed_from_u64(3);
    let (b, v) = (64, 97);
    let logits: Vec<f32> = (0..b * v).map(|_| g.gen_range(-4.0f32..4.0)).collect();
    let l = Tensor::from_vec(logits.clone(), (b, v), &Device::Cpu).unwrap();
    let probs = candle_nn::ops::softmax_last_dim(&l).unwrap();
    for top_p in [0.05, 0.3, 0.5, 0.9, 0.99] {
        let mask = nucleus_mask(&probs, top_p).unwrap().to_vec2::<u8>().unwrap();
        for r in 0..b {
            let want = sorted_nucleus(&softmax(&logits[r * v..(r + 1) * v], 1.0), top_p);
            let got: Vec<bool> = mask[r].iter().map(|&x| x != 0).collect();
            assert_eq!(got, want, "row {r}, top_p {top_p}");
        }
    }
}

#[test]
fn top_p_draws_follow_the_renormalised_nucleus() {
    let logits = [0.5f32, -1.0, 2.0, 0.1, 1.2, -0.3];
    let p = softmax(&logits, 1.0);
    let keep = sorted_nucleus(&p, 0.8);
    let kept: f64 = p.iter().zip(&keep).filter(|(_, &k)| k).map(|(x, _)| x).sum();
    let want: Vec<f64> = p.iter().zip(&keep).map(|(&x, &k)| if k { x / kept } else { 0.0 }).collect();
    assert!(keep.iter().filter(|&&k| !k).count() >= 2, "the nucleus must cut something");
    check_frequencies(&logits, &SamplingParams { top_p: 0.8, ..SamplingParams::default() }, &want, 40_000);
}

use crate::common;
use common::{assert_logprobs_are_the_models_own, model, prompts};

#[test]
fn device_sampler_rollouts_are_the_models_and_reproducible() {
    let m = model("qwen2");
    let p = SamplingParams {
        max_new_tokens: 10,
        seed: 21,
        ignore_eos: true,
        sampler: Sampler::Device,
        ..SamplingParams::default()
    };
    let a = sample(&m, &prompts(), 2, &[], &p).unwrap();
    let b = sample(&m, &prompts(), 2, &[], &p).unwrap();
    assert_eq!(a.iter().map(|r| &r.tokens).collect::<Vec<_>>(), b.iter().map(|r| &r.tokens).collect::<Vec<_>>());
    let c = sample(&m, &prompts(), 2, &[], &SamplingParams { seed: 22, ..p.clone() }).unwrap();
    assert_ne!(a.iter().map(|r| &r.tokens).collect::<Vec<_>>(), c.iter().map(|r| &r.tokens).collect::<Vec<_>>());
    // A row alone draws what it drew inside the batch (row 0 of stream 0).
    let alone = sample(&m, &prompts()[..1], 1, &[], &p).unwrap();
    assert_eq!(alone[0].tokens, a[0].tokens);
    assert_logprobs_are_the_models_own(&m, &prompts(), &a);
}

#[test]
fn device_and_host_greedy_agree() {
    for name in ["llama", "qwen3"] {
        let m = model(name);
        let base = SamplingParams { greedy: true, max_new_tokens: 12, ignore_eos: true, ..SamplingParams::default() };
        let host = sample(&m, &prompts(), 1, &[], &SamplingParams { sampler: Sampler::Host, ..base.clone() }).unwrap();
        let dev = sample(&m, &prompts(), 1, &[], &SamplingParams { sampler: Sampler::Device, ..base }).unwrap();
        for (h, d) in host.iter().zip(&dev) {
            assert_eq!(h.tokens, d.tokens, "{name}");
        }
    }
}
