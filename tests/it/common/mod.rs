//! Helpers shared by the tests: the tiny fixture models, three prompts of different lengths, the
//! check that a rollout's log-probabilities are the model's own, and running the binary.

use candle_core::{Device, IndexOp, Tensor};
use sharpen::model::{next_token_logprobs, LoadOptions, Model};
use sharpen::rollout::Rollout;
use std::path::PathBuf;
use std::process::{Command, Output};

pub fn model(name: &str) -> Model {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(format!("tiny-{name}"));
    Model::load(&d, &LoadOptions::default()).unwrap()
}

pub fn prompts() -> Vec<Vec<u32>> {
    vec![vec![5, 9, 33, 2, 17, 40, 41], vec![12], vec![60, 3, 3]]
}

/// Each rollout's log-probabilities equal the training path's log-softmax at its tokens.
pub fn assert_logprobs_are_the_models_own(m: &Model, prompts: &[Vec<u32>], rollouts: &[Rollout]) {
    for r in rollouts {
        let p = &prompts[r.prompt_index];
        let seq: Vec<u32> = p.iter().chain(&r.tokens).copied().collect();
        let ids = Tensor::new(seq.as_slice(), &Device::Cpu).unwrap().unsqueeze(0).unwrap();
        let lp = next_token_logprobs(&m.forward_train(&ids, &[0]).unwrap(), &ids).unwrap();
        let want = lp.i(0).unwrap().narrow(0, p.len() - 1, r.tokens.len()).unwrap().to_vec1::<f32>().unwrap();
        for (a, b) in r.logprobs.iter().zip(&want) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }
}

/// Run the `sharpen` binary with `args`.
pub fn sharpen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sharpen")).args(args).output().expect("binary runs")
}

/// A refusal: exit code 2 and one line on stderr that contains `want`.
pub fn refused(o: &Output, want: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(want), "expected '{want}' in: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
}
