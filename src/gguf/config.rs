//! config.json and generation_config.json of the Hugging Face llama layout, from GGUF metadata.

use super::hparams::Hparams;
use super::tokenizer::SpecialTokens;
use serde_json::{json, Value};

/// A transformers `LlamaForCausalLM` config.json.
pub fn llama_config(hp: &Hparams, vocab: usize, tied: bool, attention_bias: bool, special: &SpecialTokens) -> Value {
    let rope_scaling = match hp.rope_linear_factor {
        Some(factor) => json!({"rope_type": "linear", "type": "linear", "factor": factor}),
        None => Value::Null,
    };
    json!({
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": vocab,
        "hidden_size": hp.hidden,
        "intermediate_size": hp.intermediate,
        "num_hidden_layers": hp.n_layers,
        "num_attention_heads": hp.heads,
        "num_key_value_heads": hp.kv_heads,
        "head_dim": hp.head_dim,
        "hidden_act": "silu",
        "max_position_embeddings": hp.context_length,
        "rms_norm_eps": hp.rms_eps,
        "rope_theta": hp.rope_theta,
        "rope_scaling": rope_scaling,
        "tie_word_embeddings": tied,
        "attention_bias": attention_bias,
        "attention_dropout": 0.0,
        "mlp_bias": false,
        "initializer_range": 0.02,
        "pretraining_tp": 1,
        "use_cache": true,
        "bos_token_id": special.bos_id,
        "eos_token_id": special.eos_id,
        "pad_token_id": special.pad_id,
        "torch_dtype": "float32",
    })
}

/// generation_config.json: the ids that end a generation.
pub fn generation_config(special: &SpecialTokens, eos_ids: &[u32]) -> Value {
    let eos = match eos_ids {
        [one] => json!(one),
        many => json!(many),
    };
    json!({
        "bos_token_id": special.bos_id,
        "eos_token_id": eos,
        "pad_token_id": special.pad_id,
    })
}
