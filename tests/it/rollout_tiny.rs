//! Batched sampling on the tiny fixture models: batch independence with left padding, cache
//! consistency over many decoded tokens, log-probs, EOS handling, seeds, and the sampled
//! distribution itself.

use candle_core::{Device, IndexOp, Tensor};
use sharpen::model::Model;
use sharpen::rollout::{sample, SamplingParams, StopReason};

use crate::common;
use common::{assert_logprobs_are_the_models_own, model, prompts};

fn params(greedy: bool, max_new_tokens: usize, seed: u64) -> SamplingParams {
    SamplingParams { greedy, max_new_tokens, seed, ignore_eos: true, ..SamplingParams::default() }
}

/// Greedy decoding by recomputing the whole sequence with the training path at every step.
fn greedy_reference(m: &Model, prompt: &[u32], steps: usize) -> Vec<u32> {
    let mut seq = prompt.to_vec();
    for _ in 0..steps {
        let ids = Tensor::new(seq.as_slice(), &Device::Cpu).unwrap().unsqueeze(0).unwrap();
        let logits = m.forward_train(&ids, &[0]).unwrap().i((0, seq.len() - 1)).unwrap();
        seq.push(logits.argmax(0).unwrap().to_scalar::<u32>().unwrap());
    }
    seq[prompt.len()..].to_vec()
}

#[test]
fn greedy_batch_matches_full_recomputation_for_every_family() {
    for name in ["llama", "qwen2", "qwen3"] {
        let m = model(name);
        let out = sample(&m, &prompts(), 1, &[], &params(true, 20, 0)).unwrap();
        for (i, p) in prompts().iter().enumerate() {
            assert_eq!(out[i].tokens, greedy_reference(&m, p, 20), "{name} prompt {i}");
            assert_eq!(out[i].stop, StopReason::Length);
        }
    }
}

#[test]
fn logprobs_are_the_models_own() {
    let m = model("qwen3");
    let out = sample(&m, &prompts(), 2, &[], &params(false, 12, 7)).unwrap();
    assert_eq!(out.len(), 6);
    assert_logprobs_are_the_models_own(&m, &prompts(), &out);
}

#[test]
fn seeds_reproduce_and_rows_do_not_depend_on_the_batch() {
    let m = model("llama");
    let all = sample(&m, &prompts(), 3, &[], &params(false, 10, 42)).unwrap();
    let again = sample(&m, &prompts(), 3, &[], &params(false, 10, 42)).unwrap();
    assert!(all.iter().zip(&again).all(|(a, b)| a.tokens == b.tokens));
    let other = sample(&m, &prompts(), 3, &[], &params(false, 10, 43)).unwrap();
    assert!(all.iter().zip(&other).any(|(a, b)| a.tokens != b.tokens));
    // Prompt 2 alone, with the stream offset of its rows in the big batch (2·3), samples the same.
    let mut p = params(false, 10, 42);
    p.stream_offset = 6;
    let alone = sample(&m, &prompts()[2..], 3, &[], &p).unwrap();
    for j in 0..3 {
        assert_eq!(alone[j].tokens, all[6 + j].tokens, "sample {j}");
    }
    // Samples of one prompt differ from each other.
    assert!(all[0].tokens != all[1].tokens || all[1].tokens != all[2].tokens);
}

#[test]
fn eos_stops_a_row_unless_ignored() {
    let m = model("qwen2");
    let greedy = sample(&m, &prompts(), 1, &[], &params(true, 15, 0)).unwrap();
    let eos = greedy[0].tokens[4];
    let first = greedy[0].tokens.iter().position(|&t| t == eos).unwrap();
    let mut p = params(true, 15, 0);
    p.ignore_eos = false;
    let stopped = sample(&m, &prompts(), 1, &[eos], &p).unwrap();
    assert_eq!(stopped[0].stop, StopReason::Eos);
    assert_eq!(stopped[0].tokens, greedy[0].tokens[..=first].to_vec());
    assert_eq!(stopped[0].logprobs.len(), first + 1);
    let ignored = sample(&m, &prompts(), 1, &[eos], &params(true, 15, 0)).unwrap();
    assert_eq!(ignored[0].tokens.len(), 15);
    assert_eq!(ignored[0].stop, StopReason::Length);
}

#[test]
fn sampled_first_tokens_follow_the_tempered_softmax() {
    let m = model("qwen3");
    let prompt = vec![vec![7u32, 8, 9]];
    let temperature = 1.7;
    let n = 16000;
    let p = SamplingParams { temperature, max_new_tokens: 1, seed: 3, ..SamplingParams::default() };
    let out = sample(&m, &prompt, n, &[], &p).unwrap();
    let ids = Tensor::new(prompt[0].as_slice(), &Device::Cpu).unwrap().unsqueeze(0).unwrap();
    let logits = m.forward_train(&ids, &[0]).unwrap().i((0, 2)).unwrap();
    let probs = candle_nn::ops::softmax(&(logits / temperature).unwrap(), 0).unwrap().to_vec1::<f32>().unwrap();
    let mut counts = vec![0usize; probs.len()];
    for r in &out {
        counts[r.tokens[0] as usize] += 1;
    }
    let tv: f64 = probs.iter().zip(&counts).map(|(&q, &c)| (q as f64 - c as f64 / n as f64).abs()).sum::<f64>() / 2.0;
    // With 16000 draws over 64 tokens the expected total variation is below 0.03; a wrong
    // temperature or an off-by-one in the inverse CDF gives far more.
    assert!(tv < 0.05, "total variation {tv}");
    let max_p = probs.iter().copied().fold(0.0f32, f32::max);
    assert!(max_p < 0.5, "the test needs a spread-out distribution, max p = {max_p}");
}

/// The model behind a decoder that cannot compact its cache: finished rows stay in the batch.
struct Uncompacted<'a>(&'a Model);

impl sharpen::rollout::Decoder for Uncompacted<'_> {
    type Cache = sharpen::model::KvCache;
    fn vocab_size(&self) -> usize {
        self.0.config().vocab_size
    }
    fn context_len(&self) -> usize {
        self.0.config().max_position_embeddings
    }
    fn device(&self) -> &Device {
        self.0.device()
    }
    fn kv_bytes_per_token(&self) -> usize {
        sharpen::rollout::Decoder::kv_bytes_per_token(self.0)
    }
    fn new_cache(&self, left_pad: Vec<usize>, capacity: usize) -> Result<Self::Cache, sharpen::rollout::RolloutError> {
        Ok(self.0.new_cache(left_pad, capacity)?)
    }
    fn next_logits(&self, ids: &Tensor, cache: &mut Self::Cache) -> Result<Tensor, sharpen::rollout::RolloutError> {
        Ok(self.0.forward_cached(ids, cache, true)?)
    }
}

#[test]
fn finished_rows_leave_the_batch_without_changing_any_sample() {
    let m = model("llama");
    // Eight EOS ids of 64: rows stop after a few tokens, at different steps, so the batch of
    // 3 × 8 rows shrinks several times (whenever half of it has finished).
    let eos: Vec<u32> = (0..8).map(|i| i * 8 + 3).collect();
    let p = SamplingParams { max_new_tokens: 40, seed: 5, ..SamplingParams::default() };
    let compacted = sample(&m, &prompts(), 8, &eos, &p).unwrap();
    let kept = sample(&Uncompacted(&m), &prompts(), 8, &eos, &p).unwrap();
    let lengths: Vec<usize> = compacted.iter().map(|r| r.tokens.len()).collect();
    let mut sorted = lengths.clone();
    sorted.sort_unstable();
    // The batch did shrink: half of the rows had stopped while a quarter still had 3 steps to go.
    assert!(sorted[11] + 3 <= sorted[18], "lengths {sorted:?}");
    for (a, b) in compacted.iter().zip(&kept) {
        assert_eq!(a.tokens, b.tokens);
        assert_eq!(a.stop, b.stop);
        for (x, y) in a.logprobs.iter().zip(&b.logprobs) {
            assert!((x - y).abs() < 1e-5, "{x} vs {y}");
        }
    }
    assert_logprobs_are_the_models_own(&m, &prompts(), &compacted);
}
