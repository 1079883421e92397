//! `sharpen convert`: write GGUF parts as a Hugging Face folder that transformers can load.
//!
//! The folder appears whole or not at all: it is written into a temporary sibling and renamed.

use super::error::{GgufError, Result};
use super::{gguf_to_parts, GgufParts};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Convert one GGUF file into the Hugging Face folder `out`.
pub fn convert(gguf: &Path, out: &Path, force: bool) -> Result<()> {
    if out.exists() && !force {
        return Err(GgufError::Exists(out.to_path_buf()));
    }
    let parts = gguf_to_parts(gguf)?;
    write_hf_folder(&parts, out, force)
}

/// Write model.safetensors, config.json, generation_config.json, tokenizer.json and
/// tokenizer_config.json into `out`, atomically.
pub fn write_hf_folder(parts: &GgufParts, out: &Path, force: bool) -> Result<()> {
    if out.exists() && !force {
        return Err(GgufError::Exists(out.to_path_buf()));
    }
    let name = out.file_name().ok_or_else(|| write_err(out, "the output folder has no name"))?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| io(&parent, e))?;
    let tag = format!(".{}.{}", name.to_string_lossy(), std::process::id());
    let tmp = parent.join(format!("{tag}.tmp"));
    remove_leftovers(&parent, &name.to_string_lossy());
    sharpen_analysis::atomic::replace_dir(out, &tmp, |tmp| write_files(parts, tmp).map_err(std::io::Error::other))
        .map_err(|e| write_err(out, &e.to_string()))
}

/// Remove `.NAME.PID.tmp` folders of conversions that were killed (their process is gone).
fn remove_leftovers(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    let prefix = format!(".{name}.");
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().to_string();
        let Some(pid) = file.strip_prefix(&prefix).and_then(|r| r.strip_suffix(".tmp")) else { continue };
        let alive = pid.parse::<u32>().is_ok_and(|p| Path::new("/proc").join(p.to_string()).exists());
        if !alive && std::fs::remove_dir_all(e.path()).is_ok() {
            eprintln!("note: removed {} left by an interrupted conversion", e.path().display());
        }
    }
}

fn write_files(parts: &GgufParts, dir: &Path) -> Result<()> {
    let st = dir.join("model.safetensors");
    // transformers refuses safetensors files without a `format` entry in the header.
    let info: HashMap<String, String> = [("format".to_string(), "pt".to_string())].into();
    let mut tensors: Vec<(&String, &candle_core::Tensor)> = parts.tensors.iter().collect();
    tensors.sort_by(|a, b| a.0.cmp(b.0));
    safetensors::serialize_to_file(tensors, Some(info), &st).map_err(|e| write_err(&st, &e.to_string()))?;

    write_json(&dir.join("config.json"), &parts.config)?;
    write_json(&dir.join("generation_config.json"), &parts.generation_config)?;
    let tok = dir.join("tokenizer.json");
    parts.tokenizer.save(&tok, false).map_err(|e| write_err(&tok, &e.to_string()))?;
    write_json(&dir.join("tokenizer_config.json"), &parts.tokenizer_config())?;
    Ok(())
}

fn write_json(path: &Path, v: &Value) -> Result<()> {
    let text = serde_json::to_string_pretty(v).map_err(|e| write_err(path, &e.to_string()))?;
    std::fs::write(path, text + "\n").map_err(|e| io(path, e))
}

/// Every file operation of a conversion writes (creates, renames, removes): say so.
fn io(path: &Path, source: std::io::Error) -> GgufError {
    write_err(path, &source.to_string())
}

fn write_err(path: &Path, message: &str) -> GgufError {
    GgufError::Write { path: path.to_path_buf(), message: message.to_string() }
}
