//! Atomic file writes: a temporary file in the same folder, then a rename, so a reader never
//! sees a half-written figure or table.

use std::io::Write;
use std::path::Path;

pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with(path, |tmp| {
        let mut f = std::fs::File::create(tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })
}

/// Write the file `path` through `fill`, which writes a temporary sibling (with the same
/// extension, for writers that choose a format by it): renamed into place when `fill`
/// succeeds, removed when it or the rename fails.
pub fn write_with<E: From<std::io::Error>>(path: &Path, fill: impl FnOnce(&Path) -> Result<(), E>) -> Result<(), E> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().ok_or_else(|| std::io::Error::other("path has no file name"))?;
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    let tmp = dir.join(format!(".{}.tmp-{}{ext}", name.to_string_lossy(), std::process::id()));
    let result = fill(&tmp).and_then(|()| std::fs::rename(&tmp, path).map_err(E::from));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Replace the folder `dir` by the one `fill` writes into `tmp` (a sibling): a failed `fill`
/// leaves nothing behind; otherwise the old folder moves aside to `.NAME.old` (where a reader
/// that finds no `dir` after a crash between the two renames can still look), the new one
/// takes its name, and the old one is removed.
pub fn replace_dir<E: From<std::io::Error>>(
    dir: &Path,
    tmp: &Path,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let _ = std::fs::remove_dir_all(tmp);
    std::fs::create_dir_all(tmp)?;
    if let Err(e) = fill(tmp) {
        let _ = std::fs::remove_dir_all(tmp);
        return Err(e);
    }
    let name = dir.file_name().ok_or_else(|| std::io::Error::other("folder has no name"))?;
    let old = dir.with_file_name(format!(".{}.old", name.to_string_lossy()));
    let _ = std::fs::remove_dir_all(&old);
    if dir.exists() {
        std::fs::rename(dir, &old)?;
    }
    std::fs::rename(tmp, dir)?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Check, before any work, that a file can later be written at `path`: its folder exists or can
/// be made, and a file can be created there. Nothing is left behind.
pub fn check_writable(path: &Path) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    check_writable_dir(dir)
}

/// Check that files can be created in `dir` (made if absent).
pub fn check_writable_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".sharpen-probe-{}", std::process::id()));
    std::fs::File::create(&probe)?;
    std::fs::remove_file(&probe)
}
