//! Loading a [`Model`] from a Hugging Face folder (config.json + model.safetensors, or shards
//! listed in model.safetensors.index.json) or from parts already in memory (a GGUF file
//! dequantised by `crate::gguf`, say, without writing a folder first).

use super::config::ModelConfig;
use super::decoder::Model;
use super::error::{ModelError, Result};
use super::weights::Weights;
use candle_core::{DType, Device, Tensor};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// How to materialise the weights.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Compute dtype: f32 (the CPU default; candle's CPU matmul has no bf16) or bf16 on a GPU.
    pub dtype: DType,
    pub device: Device,
    /// Make every weight a `Var` (the policy); false for a frozen reference or sampling only.
    pub trainable: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { dtype: DType::F32, device: Device::Cpu, trainable: false }
    }
}

pub(crate) fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io { path: path.into(), source })?;
    serde_json::from_str(&text).map_err(|e| ModelError::File { path: path.into(), msg: format!("invalid JSON: {e}") })
}

/// The safetensors files of a folder: the shards of model.safetensors.index.json, else model.safetensors.
pub fn safetensors_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let index = dir.join("model.safetensors.index.json");
    if index.exists() {
        let v = read_json(&index)?;
        let map = v
            .get("weight_map")
            .and_then(Value::as_object)
            .ok_or_else(|| ModelError::File { path: index.clone(), msg: "missing weight_map".into() })?;
        let files: BTreeSet<&str> = map.values().filter_map(Value::as_str).collect();
        return Ok(files.into_iter().map(|f| dir.join(f)).collect());
    }
    let single = dir.join("model.safetensors");
    if single.exists() {
        Ok(vec![single])
    } else {
        Err(ModelError::File { path: dir.into(), msg: "no model.safetensors or model.safetensors.index.json".into() })
    }
}

/// Read every tensor of the folder's safetensors files onto `device`.
pub fn read_safetensors(dir: &Path, device: &Device) -> Result<HashMap<String, Tensor>> {
    let mut all = HashMap::new();
    for f in safetensors_files(dir)? {
        let ts = candle_core::safetensors::load(&f, device)
            .map_err(|e| ModelError::File { path: f.clone(), msg: e.to_string() })?;
        all.extend(ts);
    }
    Ok(all)
}

impl Model {
    /// Load from a Hugging Face folder.
    pub fn load(dir: &Path, opts: &LoadOptions) -> Result<Model> {
        let config = read_json(&dir.join("config.json"))?;
        let tensors = read_safetensors(dir, &opts.device)?;
        Model::from_parts(&config, tensors, opts)
    }

    /// Load from parts in memory: `config` is the config.json value, `tensors` are named as in a
    /// Hugging Face checkpoint (`model.layers.0.self_attn.q_proj.weight`, ..., rotate-half q/k
    /// layout). Tensors may be of any float dtype and device; they are cast to `opts`.
    pub fn from_parts(config: &Value, tensors: HashMap<String, Tensor>, opts: &LoadOptions) -> Result<Model> {
        let cfg = ModelConfig::from_json(config)?;
        let w = Weights::new(tensors, opts.dtype, &opts.device, opts.trainable);
        Model::from_weights(cfg, w, opts.dtype, &opts.device)
    }
}
