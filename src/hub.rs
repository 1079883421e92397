//! Models named by Hugging Face id (`Qwen/Qwen2.5-3B-Instruct`), found in the local Hugging Face
//! cache in the layout the hub clients write: `<cache>/models--Qwen--Qwen2.5-3B-Instruct/`
//! with `refs/main` naming the commit whose files are in `snapshots/<commit>/`. Nothing is
//! downloaded: an id that is not in the cache is an error that says how to fetch it.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(
        "{id}: not a folder or a .gguf file, and not in the Hugging Face cache at {cache}; download it with `hf download {id}` (or set HF_HUB_CACHE / HF_HOME)"
    )]
    NotCached { id: String, cache: String },
    #[error("{path}: {msg}")]
    Cache { path: String, msg: String },
}

/// The hub cache folder: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
pub fn cache_root() -> PathBuf {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(p) = var("HF_HUB_CACHE") {
        return p;
    }
    if let Some(p) = var("HF_HOME") {
        return p.join("hub");
    }
    var("HOME").unwrap_or_default().join(".cache").join("huggingface").join("hub")
}

/// `model` itself when it exists; else, when it reads as a hub id (`org/name`), its snapshot
/// folder in [`cache_root`].
pub fn resolve_model(model: &Path) -> Result<PathBuf, HubError> {
    resolve_in(model, &cache_root())
}

/// [`resolve_model`] against an explicit cache folder.
pub fn resolve_in(model: &Path, cache: &Path) -> Result<PathBuf, HubError> {
    if model.exists() {
        return Ok(model.to_path_buf());
    }
    let id = model.to_string_lossy().to_string();
    let not_cached = || HubError::NotCached { id: id.clone(), cache: cache.display().to_string() };
    let parts: Vec<&str> = id.split('/').collect();
    let is_id = parts.len() == 2 && parts.iter().all(|p| !p.is_empty() && !p.starts_with('.'));
    if !is_id {
        return Err(not_cached());
    }
    let repo = cache.join(format!("models--{}--{}", parts[0], parts[1]));
    let snapshots = repo.join("snapshots");
    let main = repo.join("refs").join("main");
    let commit = if main.is_file() {
        std::fs::read_to_string(&main)
            .map_err(|e| HubError::Cache { path: main.display().to_string(), msg: e.to_string() })?
            .trim()
            .to_string()
    } else {
        // No ref (a snapshot copied by hand): accept a single snapshot, refuse to guess among several.
        let mut all: Vec<_> =
            std::fs::read_dir(&snapshots).map_err(|_| not_cached())?.flatten().map(|e| e.path()).collect();
        match all.len() {
            1 => return Ok(all.remove(0)),
            _ => return Err(not_cached()),
        }
    };
    let dir = snapshots.join(&commit);
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(not_cached())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_resolve_in_a_hub_cache_layout() {
        let cache = std::env::temp_dir().join(format!("sharpen-hub-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&cache);
        let repo = cache.join("models--Org--Tiny-Model");
        std::fs::create_dir_all(repo.join("snapshots/0123abc")).unwrap();
        std::fs::create_dir_all(repo.join("snapshots/fedcba9")).unwrap();
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs/main"), "0123abc\n").unwrap();
        let got = resolve_in(Path::new("Org/Tiny-Model"), &cache).unwrap();
        assert_eq!(got, repo.join("snapshots/0123abc"));
        // Not cached, or not an id: the error says how to download.
        let e = resolve_in(Path::new("Org/Other"), &cache).unwrap_err().to_string();
        assert!(e.contains("hf download Org/Other"), "{e}");
        assert!(resolve_in(Path::new("no/such/path"), &cache).is_err());
        // Several snapshots and no ref: refuse to guess.
        std::fs::remove_file(repo.join("refs/main")).unwrap();
        assert!(resolve_in(Path::new("Org/Tiny-Model"), &cache).is_err());
        std::fs::remove_dir_all(&cache).unwrap();
    }
}
