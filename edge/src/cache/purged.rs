//! What a tag purge removed from the index but not yet from disk. A tag
//! purge removes single variants, far too many to rename before answering
//! (about 50 µs a rename on ext4: 1,000 variants would take 50 ms), so it
//! lists them in `purged/{n}` (one write, then a rename into place, like an
//! object), answers, and a background thread deletes them, then the list.
//! A list still there on start (the process stopped in between) is finished
//! before the index is rebuilt, so a purged object never comes back. Deleting
//! a fill stored since, under the same name, only costs a miss.

use std::io;
use std::path::{Path, PathBuf};

/// Writes the list of `entries` (paths under `objects/`, files or
/// directories) as `purged/{name}`, through `tmp/`.
pub fn record(root: &Path, name: &str, entries: &[String]) -> io::Result<PathBuf> {
    let mut text = entries.join("\n");
    text.push('\n');
    let tmp = root.join("tmp").join(format!("purged-{name}"));
    std::fs::write(&tmp, text)?;
    let list = root.join("purged").join(name);
    std::fs::rename(&tmp, &list)?;
    Ok(list)
}

/// Deletes what `list` names, then the list.
pub fn finish(root: &Path, list: &Path) -> io::Result<()> {
    let text = std::fs::read_to_string(list)?;
    let objects = root.join("objects");
    for entry in text.lines().filter(|l| is_relative_name(l)) {
        remove(&objects.join(entry));
    }
    std::fs::remove_file(list)
}

/// Finishes every list left by a previous run (before the scan on start).
pub fn finish_all(root: &Path) -> io::Result<()> {
    let dir = root.join("purged");
    std::fs::create_dir_all(&dir)?;
    for entry in std::fs::read_dir(&dir)? {
        finish(root, &entry?.path())?;
    }
    Ok(())
}

/// A file or a directory with everything in it; gone already is fine.
pub fn remove(path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(md) if md.is_dir() => {
            let _ = std::fs::remove_dir_all(path);
        }
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
}

/// Only names the cache itself writes (`{token}/{ph:2}/{ph}[/{vh}]`): a
/// damaged list cannot reach outside `objects/`.
fn is_relative_name(line: &str) -> bool {
    !line.is_empty()
        && line.split('/').all(|seg| !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}
