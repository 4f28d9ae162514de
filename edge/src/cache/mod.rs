//! The disk cache: one file per variant, an in-memory index rebuilt from disk
//! on start, LRU eviction within a byte budget, crash-safe writes (temp file +
//! rename; files that fail validation on start are dropped).
//!
//! Layout: `objects/{token}/{ph:2}/{ph}/{vh}` with `ph` a digest of the
//! canonical origin path and `vh` one of the normalised variant. The index is
//! `token → BTreeMap<path, variants>`, so a path purge is one map removal
//! plus one directory rename, a prefix purge a `BTreeMap` range, and a token
//! purge one map removal plus one directory rename: none looks at another
//! token's entries. Each token also indexes its cache tags (`tag → path →
//! variants carrying it`, see `tags.rs`), so a tag purge visits only the
//! paths that carry the tag and lists in `purged/` only the files of the
//! variants it removes (deleted after the answer, see `purged.rs`). Every
//! purge has a dry run ([`DiskCache::count`]) walking the same entries.

mod answer;
mod file;
mod head;
mod index;
mod meta;
mod purged;
mod tags;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use imgflush::domain::OriginPath;
use sha2::{Digest, Sha256};

pub use answer::Purged;
pub use head::Head;
use index::{Gone, Hit, Index, Tally, HOT_OBJECT_MAX, MAPPED_COST};
pub(crate) use meta::Object;
pub use meta::{Key, Meta};

/// What a purge takes from one token's objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Every object of the token (scope `all`).
    Token,
    /// Every variant of each path, or of every path under a prefix (scope `original`).
    Paths(Vec<OriginPath>),
    /// Every variant carrying any of the tags, and only those (scope `tag`).
    Tags(Vec<String>),
}

/// A cache entry found by [`DiskCache::lookup`]; read its body with
/// [`DiskCache::read`].
#[derive(Clone, Debug)]
pub struct Found {
    pub meta: Arc<Meta>,
    offset: usize,
    hot: Option<Bytes>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Stored {
    Yes,
    /// A purge ran while the object was being made; it may be stale.
    PurgedMeanwhile,
    /// Larger than the whole cache budget.
    TooLarge,
}

pub struct DiskCache {
    root: PathBuf,
    max_bytes: u64,
    index: Mutex<Index>,
    seq: AtomicU64,
}

impl DiskCache {
    /// Opens (creating) `root` and rebuilds the index from the files there.
    /// Up to `memory_bytes` of small, recently used bodies are also kept in
    /// memory. Blocking.
    pub fn open(root: &Path, max_bytes: u64, memory_bytes: u64) -> io::Result<DiskCache> {
        for dir in ["tmp", "trash"] {
            let d = root.join(dir);
            // Best effort: a previous instance's background deletion may
            // still be emptying `trash/`.
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d)?;
        }
        std::fs::create_dir_all(root.join("objects"))?;
        purged::finish_all(root)?;
        let mut index = Index::new(memory_bytes);
        let mut found = file::scan(&root.join("objects"))?;
        found.sort_by_key(|(_, mtime)| *mtime);
        for (meta, _) in found {
            index_file(&mut index, meta)?;
        }
        let cache = DiskCache { root: root.to_owned(), max_bytes, index: Mutex::new(index), seq: AtomicU64::new(0) };
        cache.evict(&mut cache.lock());
        Ok(cache)
    }

    /// Indexes an object as the start-up scan does, trusting that its file
    /// is in place. For benchmarks: a million entries without a million files.
    #[doc(hidden)]
    pub fn adopt(&self, meta: Meta) -> io::Result<()> {
        let mut index = self.lock();
        index_file(&mut index, meta)?;
        self.evict(&mut index);
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn object_path(&self, key: &Key) -> PathBuf {
        let ph = digest(&key.path);
        self.path_dir(&key.token, &ph).join(digest(&key.variant))
    }

    fn path_dir(&self, token: &str, ph: &str) -> PathBuf {
        self.root.join("objects").join(token).join(shard(ph))
    }

    /// Marks the entry as just used.
    pub fn lookup(&self, key: &Key) -> Option<Found> {
        let Hit { meta, offset, hot } = self.lock().touch(key)?;
        Some(Found { meta, offset, hot })
    }

    /// The entry's meta without marking it used (the console's "is this URL
    /// fresh?" probe must change nothing).
    pub fn peek(&self, key: &Key) -> Option<Arc<Meta>> {
        self.lock().peek(key)
    }

    /// Whether [`read`](Self::read) will be served from memory.
    pub fn is_in_memory(found: &Found) -> bool {
        found.hot.is_some()
    }

    /// Blocking unless the body is in memory. A missing or short file drops
    /// the entry and reads as `None`.
    pub fn read(&self, found: &Found) -> Option<Bytes> {
        if let Some(body) = &found.hot {
            return Some(body.clone());
        }
        let m = &found.meta;
        let (path, len) = (self.object_path(&m.key()), found.offset as u64 + m.body_len);
        // Larger bodies are mapped, not copied: the memory tier keeps the
        // mapping (its pages are the page cache's), hits send from it.
        let (data, cost) = if m.body_len > HOT_OBJECT_MAX {
            (file::map(&path, len).ok(), MAPPED_COST)
        } else {
            (std::fs::read(&path).ok().filter(|d| d.len() as u64 == len).map(Bytes::from), m.body_len)
        };
        match data {
            Some(data) => {
                let body = data.slice(found.offset..);
                self.lock().make_hot_if_same(m, body.clone(), cost);
                Some(body)
            }
            None => {
                self.lock().remove_if_same(m);
                None
            }
        }
    }

    /// The headers every response of the entry `meta` describes shares,
    /// built once while the entry is in the memory tier (and again when
    /// the project's `tag_headers` or ages change); built for each call
    /// otherwise, and for a `meta` the index does not hold (a miss).
    pub fn head(&self, meta: &Arc<Meta>, tag_headers: &[String], max_age: u64, s_maxage: u64) -> Arc<Head> {
        if let Some(head) = self.lock().head(meta).filter(|h| h.fits(tag_headers, max_age, s_maxage)) {
            return head;
        }
        let head = Arc::new(Head::new(meta, tag_headers, max_age, s_maxage));
        self.lock().keep_head(meta, head.clone());
        head
    }

    /// A counter bumped by every purge of `token`; take it before fetching
    /// the origin and hand it to [`store`](Self::store). Per token: one
    /// project's purges never make another's fills uncacheable.
    pub fn epoch(&self, token: &str) -> u64 {
        self.lock().epochs.get(token).copied().unwrap_or(0)
    }

    /// Blocking. Writes a temp file, then renames it into place under the
    /// index lock, unless a purge ran since `epoch`.
    pub fn store(&self, meta: Meta, body: &Bytes, epoch: u64) -> io::Result<Stored> {
        let key = meta.key();
        let header = file::header(&meta)?;
        let size = (header.len() + body.len()) as u64;
        if size > self.max_bytes {
            return Ok(Stored::TooLarge);
        }
        let tmp =
            self.root.join("tmp").join(format!("{}-{}", std::process::id(), self.seq.fetch_add(1, Ordering::Relaxed)));
        if let Err(e) = file::write(&tmp, &header, body) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        let target = self.object_path(&key);
        let mut index = self.lock();
        if index.epochs.get(&meta.token).copied().unwrap_or(0) != epoch {
            drop(index);
            let _ = std::fs::remove_file(&tmp);
            return Ok(Stored::PurgedMeanwhile);
        }
        if let Err(e) = place(&tmp, &target) {
            drop(index);
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        index.insert(Arc::new(meta), size, header.len(), Some(body.clone()));
        self.evict(&mut index);
        Ok(Stored::Yes)
    }

    fn evict(&self, index: &mut Index) {
        while index.bytes > self.max_bytes {
            let Some(meta) = index.pop_lru() else { break };
            let _ = std::fs::remove_file(self.object_path(&meta.key()));
            index.evictions += 1;
        }
    }

    /// Blocking. Removes what `what` selects of `token`.
    pub fn purge(&self, token: &str, what: &Selection) -> Purged {
        match what {
            Selection::Token => self.purge_token(token),
            Selection::Paths(paths) => self.purge_paths(token, paths),
            Selection::Tags(tags) => self.purge_tags(token, tags),
        }
    }

    /// What [`purge`](Self::purge) would remove, exactly, removing nothing:
    /// no epoch moves, no LRU order changes. Costs the index walk the purge
    /// makes (a token's counters for `Token`), no file I/O.
    pub fn count(&self, token: &str, what: &Selection) -> Purged {
        let mut tally = Tally::default();
        {
            let index = self.lock();
            match what {
                Selection::Token => index.count_token(token, &mut tally),
                Selection::Paths(paths) => index.count_paths(token, paths, &mut tally),
                Selection::Tags(tags) => index.count_tags(token, tags, &mut tally),
            }
        }
        Purged::new(tally)
    }

    /// Blocking. Removes every variant of each path (a trailing `*` = every
    /// path with that prefix); says how many objects went and names some.
    /// The files go in the background.
    pub fn purge_paths(&self, token: &str, paths: &[OriginPath]) -> Purged {
        let mut trash = Vec::new();
        let mut tally = Tally::default();
        {
            let mut index = self.lock();
            *index.epochs.entry(token.to_owned()).or_default() += 1;
            for p in paths {
                for path in index.remove_paths(token, p, &mut tally) {
                    trash.push(self.to_trash(&self.path_dir(token, &digest(&path))));
                }
            }
        }
        // The directories are already out of `objects/`: deleting them can
        // happen after the answer.
        let trash: Vec<PathBuf> = trash.into_iter().flatten().collect();
        if !trash.is_empty() {
            std::thread::spawn(move || {
                for dir in trash {
                    let _ = std::fs::remove_dir_all(dir);
                }
            });
        }
        Purged::new(tally)
    }

    /// Blocking. Removes every object of `token`; the files go in the background.
    pub fn purge_token(&self, token: &str) -> Purged {
        let mut tally = Tally::default();
        let trash = {
            let mut index = self.lock();
            *index.epochs.entry(token.to_owned()).or_default() += 1;
            index.remove_token(token, &mut tally);
            self.to_trash(&self.root.join("objects").join(token))
        };
        if let Some(dir) = trash {
            std::thread::spawn(move || {
                let _ = std::fs::remove_dir_all(dir);
            });
        }
        Purged::new(tally)
    }

    /// Blocking. Removes every variant of `token` carrying any of `tags`
    /// (other variants of the same paths stay). Their files are listed in
    /// `purged/` before this returns and deleted in the background (see
    /// `purged.rs`): a restart cannot bring them back.
    pub fn purge_tags(&self, token: &str, tags: &[String]) -> Purged {
        let mut tally = Tally::default();
        let gone = {
            let mut index = self.lock();
            *index.epochs.entry(token.to_owned()).or_default() += 1;
            index.remove_tags(token, tags, &mut tally)
        };
        if gone.is_empty() {
            return Purged::new(tally);
        }
        let entries: Vec<String> = gone
            .iter()
            .map(|g| match g {
                Gone::Path(path) => format!("{token}/{}", shard(&digest(path))),
                Gone::Variant(meta) => format!("{token}/{}/{}", shard(&digest(&meta.path)), digest(&meta.variant)),
            })
            .collect();
        let name = format!("{}-{}", std::process::id(), self.seq.fetch_add(1, Ordering::Relaxed));
        let root = self.root.clone();
        match purged::record(&root, &name, &entries) {
            Ok(list) => {
                std::thread::spawn(move || {
                    let _ = purged::finish(&root, &list);
                });
            }
            // No list, no deferring: gone before the answer, however long it takes.
            Err(e) => {
                tracing::warn!(error = %e, "could not list a tag purge's files; deleting them now");
                for entry in &entries {
                    purged::remove(&root.join("objects").join(entry));
                }
            }
        }
        Purged::new(tally)
    }

    fn to_trash(&self, dir: &Path) -> Option<PathBuf> {
        let to = self.root.join("trash").join(format!("{}", self.seq.fetch_add(1, Ordering::Relaxed)));
        std::fs::rename(dir, &to).ok().map(|()| to)
    }

    /// (objects, bytes, evictions so far)
    pub fn stats(&self) -> (u64, u64, u64) {
        let i = self.lock();
        (i.objects, i.bytes, i.evictions)
    }
}

/// Moves a written object into place. A tag purge's background deletion
/// may remove the path's directory between `create_dir_all` and `rename`
/// (it is not under the index lock): the directory is made again, a few times.
fn place(tmp: &Path, target: &Path) -> io::Result<()> {
    let mut tries = 0;
    loop {
        let placed =
            target.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::rename(tmp, target));
        match placed {
            Err(e) if e.kind() == io::ErrorKind::NotFound && tries < 5 => tries += 1,
            other => return other,
        }
    }
}

fn index_file(index: &mut Index, meta: Meta) -> io::Result<()> {
    let offset = file::body_offset(&meta)?;
    let size = offset as u64 + meta.body_len;
    index.insert(Arc::new(meta), size, offset, None);
    Ok(())
}

/// `{ph:2}/{ph}`: a path's directory under its token's.
fn shard(ph: &str) -> String {
    format!("{}/{ph}", &ph[..2])
}

fn digest(s: &str) -> String {
    let mut h = hex::encode(Sha256::digest(s.as_bytes()));
    h.truncate(32);
    h
}

#[cfg(test)]
mod tests;
