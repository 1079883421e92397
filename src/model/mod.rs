//! Trainable decoders of the Llama, Qwen2 and Qwen3 families, loaded from Hugging Face folders
//! or from tensors in memory.
//!
//! - [`Model::load`] / [`Model::from_parts`] with [`LoadOptions`] (dtype, device, trainable);
//! - [`Model::forward_train`]: logits at every position, differentiable (the policy gradient);
//! - [`Model::forward_cached`] with a [`KvCache`]: fused inference ops for sampling;
//! - [`next_token_logprobs`]: per-token log-probabilities from training logits;
//! - [`Model::weighted_logprob_backward`]: the policy-gradient backward in bounded memory
//!   (activation checkpointing, chunked head), summing into [`Grads`].
//!
//! Batches are left-padded: row b holds `left_pad[b]` padding slots, then its tokens. Positions
//! restart at 0 after the padding and padding slots are never attended to, so a row's logits do
//! not depend on what else is in the batch.

mod attention;
mod backward;
mod cache;
pub mod config;
mod decoder;
pub mod error;
mod fused;
mod gemv;
mod grads;
mod linear;
mod load;
mod logprob;
mod mlp;
mod norm;
pub mod profile;
pub mod random;
pub mod rope;
mod weights;

pub use backward::{BackwardOptions, PositionStats};
pub use cache::{GatherRow, KvCache};
pub use config::{Arch, ModelConfig, RopeScaling};
pub use decoder::{next_token_logprobs, Model};
pub use error::ModelError;
pub use grads::Grads;
pub use load::{read_safetensors, safetensors_files, LoadOptions};

/// Which implementation of each op a forward uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// Differentiable: the fused kernels with a backward attached (`fused`), or candle's
    /// composed ops when `composed`.
    Train { composed: bool },
    /// Fused kernels; no gradient.
    Infer,
}
