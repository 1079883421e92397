//! `config.json` of a Hugging Face decoder, reduced to what our decoder needs.
//!
//! The three families differ only in a few switches, read here:
//! - llama: optional `attention_bias` (q, k, v, o), optional Llama-3 `rope_scaling`;
//! - qwen2: bias on q, k, v (never on o);
//! - qwen3: RMSNorm on every query and key head (`q_norm`, `k_norm`) and an explicit `head_dim`.

use super::error::{ModelError, Result};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Llama,
    Qwen2,
    Qwen3,
}

impl Arch {
    pub fn name(self) -> &'static str {
        match self {
            Arch::Llama => "llama",
            Arch::Qwen2 => "qwen2",
            Arch::Qwen3 => "qwen3",
        }
    }
}

/// RoPE frequency adjustment (`rope_scaling` / `rope_parameters`).
#[derive(Debug, Clone, PartialEq)]
pub enum RopeScaling {
    None,
    /// Llama 3.1+: long wavelengths divided by `factor`, a smooth ramp between the two cut-offs.
    Llama3 {
        factor: f64,
        low_freq_factor: f64,
        high_freq_factor: f64,
        original_max_position_embeddings: f64,
    },
}

#[derive(Debug, Clone)]
pub struct ModelConfig {
    pub arch: Arch,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    pub rope_scaling: RopeScaling,
    pub qkv_bias: bool,
    pub o_bias: bool,
    pub mlp_bias: bool,
    pub qk_norm: bool,
    pub tie_word_embeddings: bool,
    pub max_position_embeddings: usize,
    pub bos_token_id: Option<u32>,
    /// `eos_token_id` of config.json (an int or a list); generation_config.json may add more.
    pub eos_token_ids: Vec<u32>,
}

/// config.json as Hugging Face writes it: the fields our decoder reads, under their own names.
/// Fields transformers may omit are options with the defaults transformers uses.
#[derive(Debug, Clone, Deserialize)]
pub struct HfConfig {
    pub model_type: String,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: Option<usize>,
    pub head_dim: Option<usize>,
    pub hidden_act: Option<String>,
    pub rms_norm_eps: Option<f64>,
    pub rope_theta: Option<f64>,
    /// Older configs: `rope_scaling`; transformers >= 5 writes `rope_parameters` (with rope_theta).
    pub rope_scaling: Option<RopeParams>,
    pub rope_parameters: Option<RopeParams>,
    pub attention_bias: Option<bool>,
    pub mlp_bias: Option<bool>,
    pub tie_word_embeddings: Option<bool>,
    pub use_sliding_window: Option<bool>,
    pub max_position_embeddings: Option<usize>,
    pub bos_token_id: Option<u32>,
    pub eos_token_id: Option<TokenIds>,
}

/// `rope_scaling` / `rope_parameters`.
#[derive(Debug, Clone, Deserialize)]
pub struct RopeParams {
    pub rope_type: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub rope_theta: Option<f64>,
    pub factor: Option<f64>,
    pub low_freq_factor: Option<f64>,
    pub high_freq_factor: Option<f64>,
    pub original_max_position_embeddings: Option<f64>,
}

/// Token ids given as one integer or a list of integers (`eos_token_id`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TokenIds {
    One(u32),
    Many(Vec<u32>),
}

impl TokenIds {
    pub fn to_vec(&self) -> Vec<u32> {
        match self {
            TokenIds::One(x) => vec![*x],
            TokenIds::Many(v) => v.clone(),
        }
    }
}

/// Token ids of a JSON value that may hold one id, a list, or nothing (generation_config.json's
/// and config.json's `eos_token_id`).
pub fn token_ids(v: Option<&Value>) -> Result<Vec<u32>> {
    match v {
        None | Some(Value::Null) => Ok(vec![]),
        Some(x) => serde_json::from_value::<TokenIds>(x.clone())
            .map(|t| t.to_vec())
            .map_err(|_| ModelError::config(format!("token id must be an int or a list of ints, got {x}"))),
    }
}

impl RopeParams {
    fn scaling(&self) -> Result<RopeScaling> {
        let kind = self.rope_type.as_deref().or(self.kind.as_deref()).unwrap_or("default");
        match kind {
            "default" => Ok(RopeScaling::None),
            "llama3" => {
                let need =
                    |x: Option<f64>, k: &str| x.ok_or_else(|| ModelError::config(format!("rope_scaling: missing {k}")));
                Ok(RopeScaling::Llama3 {
                    factor: need(self.factor, "factor")?,
                    low_freq_factor: need(self.low_freq_factor, "low_freq_factor")?,
                    high_freq_factor: need(self.high_freq_factor, "high_freq_factor")?,
                    original_max_position_embeddings: need(
                        self.original_max_position_embeddings,
                        "original_max_position_embeddings",
                    )?,
                })
            }
            other => {
                Err(ModelError::config(format!("unsupported rope scaling type {other:?} (supported: default, llama3)")))
            }
        }
    }
}

impl ModelConfig {
    /// Parse a config.json value. Unknown `model_type` is an error naming it.
    pub fn from_json(v: &Value) -> Result<Self> {
        let model_type =
            v.get("model_type").and_then(Value::as_str).ok_or_else(|| ModelError::config("missing key model_type"))?;
        let arch = match model_type {
            "llama" => Arch::Llama,
            "qwen2" => Arch::Qwen2,
            "qwen3" => Arch::Qwen3,
            other => return Err(ModelError::UnknownArchitecture(other.to_string())),
        };
        let hf: HfConfig = serde_json::from_value(v.clone()).map_err(|e| ModelError::config(e.to_string()))?;
        ModelConfig::from_hf(arch, &hf)
    }

    /// Our decoder's view of an HF config: the family's switches, the defaults, and the checks
    /// that refuse a config that would load but compute garbage, before any weight is read.
    pub fn from_hf(arch: Arch, c: &HfConfig) -> Result<Self> {
        let act = c.hidden_act.as_deref().unwrap_or("silu");
        if act != "silu" {
            return Err(ModelError::config(format!("unsupported hidden_act {act:?} (supported: silu)")));
        }
        if c.use_sliding_window == Some(true) {
            return Err(ModelError::config("use_sliding_window = true is not supported"));
        }
        let num_heads = c.num_attention_heads;
        let num_kv_heads = c.num_key_value_heads.unwrap_or(num_heads);
        if num_heads == 0 || num_kv_heads == 0 || num_heads % num_kv_heads != 0 {
            return Err(ModelError::config(format!(
                "num_attention_heads ({num_heads}) must be a positive multiple of num_key_value_heads ({num_kv_heads})"
            )));
        }
        let head_dim = c.head_dim.unwrap_or(c.hidden_size / num_heads);
        if head_dim == 0 || head_dim % 2 != 0 {
            return Err(ModelError::config(format!("head_dim must be even and positive, got {head_dim}")));
        }
        let rope_theta = c.rope_theta.or(c.rope_parameters.as_ref().and_then(|p| p.rope_theta)).unwrap_or(10000.0);
        if !(rope_theta.is_finite() && rope_theta > 0.0) {
            return Err(ModelError::config(format!("rope_theta must be a positive number, got {rope_theta}")));
        }
        let rms_norm_eps = c.rms_norm_eps.unwrap_or(1e-6);
        if !(rms_norm_eps.is_finite() && rms_norm_eps > 0.0) {
            return Err(ModelError::config(format!("rms_norm_eps must be a positive number, got {rms_norm_eps}")));
        }
        let rope_scaling = match c.rope_scaling.as_ref().or(c.rope_parameters.as_ref()) {
            Some(p) => p.scaling()?,
            None => RopeScaling::None,
        };
        let attention_bias = c.attention_bias.unwrap_or(false);
        let (qkv_bias, o_bias) = match arch {
            Arch::Qwen2 => (true, false),
            Arch::Llama | Arch::Qwen3 => (attention_bias, attention_bias),
        };
        Ok(ModelConfig {
            arch,
            vocab_size: c.vocab_size,
            hidden_size: c.hidden_size,
            intermediate_size: c.intermediate_size,
            num_layers: c.num_hidden_layers,
            num_heads,
            num_kv_heads,
            head_dim,
            rms_norm_eps,
            rope_theta,
            rope_scaling,
            qkv_bias,
            o_bias,
            mlp_bias: c.mlp_bias.unwrap_or(false),
            qk_norm: arch == Arch::Qwen3,
            tie_word_embeddings: c.tie_word_embeddings.unwrap_or(false),
            max_position_embeddings: c.max_position_embeddings.unwrap_or(4096),
            bos_token_id: c.bos_token_id,
            eos_token_ids: c.eos_token_id.as_ref().map(TokenIds::to_vec).unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base(model_type: &str) -> Value {
        json!({"model_type": model_type, "vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
               "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1})
    }

    #[test]
    fn families_set_their_switches() {
        let l = ModelConfig::from_json(&base("llama")).unwrap();
        assert_eq!((l.qkv_bias, l.o_bias, l.qk_norm, l.head_dim), (false, false, false, 4));
        let q2 = ModelConfig::from_json(&base("qwen2")).unwrap();
        assert_eq!((q2.qkv_bias, q2.o_bias, q2.qk_norm), (true, false, false));
        let mut v = base("qwen3");
        v["head_dim"] = json!(6);
        let q3 = ModelConfig::from_json(&v).unwrap();
        assert_eq!((q3.qkv_bias, q3.qk_norm, q3.head_dim), (false, true, 6));
    }

    #[test]
    fn settings_that_would_compute_garbage_are_refused() {
        for (key, bad) in [("rope_theta", json!(-1.0)), ("rope_theta", json!(0.0)), ("rms_norm_eps", json!(0.0))] {
            let mut v = base("llama");
            v[key] = bad;
            let e = ModelConfig::from_json(&v).unwrap_err().to_string();
            assert!(e.contains(key), "{e}");
        }
    }

    #[test]
    fn unknown_architecture_is_named() {
        let e = ModelConfig::from_json(&base("gpt_neox")).unwrap_err().to_string();
        assert!(e.contains("gpt_neox"), "{e}");
    }

    #[test]
    fn llama3_rope_scaling_and_eos_list() {
        let mut v = base("llama");
        v["rope_scaling"] = json!({"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
            "high_freq_factor": 4.0, "original_max_position_embeddings": 8192});
        v["eos_token_id"] = json!([128001, 128009]);
        let c = ModelConfig::from_json(&v).unwrap();
        assert!(matches!(c.rope_scaling, RopeScaling::Llama3 { factor, .. } if factor == 32.0));
        assert_eq!(c.eos_token_ids, vec![128001, 128009]);
        v["rope_scaling"] = json!({"rope_type": "yarn", "factor": 4.0});
        assert!(ModelConfig::from_json(&v).unwrap_err().to_string().contains("yarn"));
    }
}
