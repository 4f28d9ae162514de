//! One cached object on disk: `IFE1`, the JSON meta length (u32 LE), the
//! meta, the body.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bytes::Bytes;

use super::meta::Meta;

const MAGIC: &[u8; 4] = b"IFE1";

pub fn header(meta: &Meta) -> io::Result<Vec<u8>> {
    let json = serde_json::to_vec(meta)?;
    let mut h = Vec::with_capacity(8 + json.len());
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&(json.len() as u32).to_le_bytes());
    h.extend_from_slice(&json);
    Ok(h)
}

pub fn body_offset(meta: &Meta) -> io::Result<usize> {
    Ok(header(meta)?.len())
}

pub fn write(path: &Path, header: &[u8], body: &[u8]) -> io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(header)?;
    f.write_all(body)?;
    Ok(())
}

/// The whole file, `len` bytes, mapped rather than read: serving it then
/// costs no copy into the heap and no system call once mapped.
pub fn map(path: &Path, len: u64) -> io::Result<Bytes> {
    let f = std::fs::File::open(path)?;
    if f.metadata()?.len() != len {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "object file of the wrong length"));
    }
    // SAFETY: an object file is written whole under `tmp/` and renamed into
    // place; nothing writes to or truncates it afterwards (a new version is
    // another file renamed over it; purges and evictions rename or unlink
    // it), so the mapped bytes stay as they are for as long as the mapping
    // lives, even once the file is gone from the directory.
    let map = unsafe { memmap2::MmapOptions::new().populate().map(&f)? };
    Ok(Bytes::from_owner(map))
}

/// Every valid object under `objects/`, with its modification time; invalid
/// ones (a crash mid-write on a filesystem that reordered it) are deleted.
pub fn scan(objects: &Path) -> io::Result<Vec<(Meta, SystemTime)>> {
    let mut out = Vec::new();
    for token in read_dirs(objects)? {
        for shard in read_dirs(&token)? {
            for path_dir in read_dirs(&shard)? {
                for entry in std::fs::read_dir(&path_dir)? {
                    let file = entry?.path();
                    match read_meta(&file) {
                        Some(found) => out.push(found),
                        None => {
                            let _ = std::fs::remove_file(&file);
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

fn read_dirs(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            dirs.push(entry.path());
        }
    }
    Ok(dirs)
}

fn read_meta(file: &Path) -> Option<(Meta, SystemTime)> {
    let mut f = std::fs::File::open(file).ok()?;
    let md = f.metadata().ok()?;
    let mut head = [0u8; 8];
    f.read_exact(&mut head).ok()?;
    if &head[..4] != MAGIC {
        return None;
    }
    let len = u32::from_le_bytes(head[4..].try_into().ok()?) as usize;
    let mut json = vec![0u8; len];
    f.read_exact(&mut json).ok()?;
    let meta: Meta = serde_json::from_slice(&json).ok()?;
    (md.len() == (8 + len) as u64 + meta.body_len).then_some(())?;
    Some((meta, md.modified().ok()?))
}
