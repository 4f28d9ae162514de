//! The in-memory index: token → path → variant, each token's tags
//! (`tags.rs`) and counters, plus LRU order. Small recently used bodies are
//! also kept in memory ("hot", see `hot.rs`), within their own byte budget
//! and LRU order, so a popular thumbnail costs no file I/O; so are the
//! mappings of larger ones and the prebuilt headers of both.
//!
//! Every selection a purge makes is also answered without removing
//! anything (a dry run), by the same walk: the counts agree by construction.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use imgflush::domain::OriginPath;

use super::head::Head;
use super::meta::{Key, Meta};
use super::tags::{carries_any, Tags};

mod hot;
mod select;

/// Larger bodies are never copied to the heap: they are mapped from their
/// file (see `DiskCache::read`).
pub const HOT_OBJECT_MAX: u64 = 256 * 1024;

/// What a kept mapping counts against the budget. Its pages belong to the
/// page cache, which the kernel may reclaim, not to the heap; the figure
/// bounds how many mappings are kept (64 MiB: 16,384, well under Linux's
/// default `vm.max_map_count` of 65,530).
pub const MAPPED_COST: u64 = 4096;

struct Hot {
    body: Bytes,
    /// The body's (or the mapping's) cost and the head's.
    cost: u64,
    head: Option<Arc<Head>>,
}

struct Entry {
    meta: Arc<Meta>,
    size: u64,
    offset: usize,
    tick: u64,
    hot: Option<Hot>,
}

type Variants = HashMap<String, Entry>;

/// One token's objects. The path keys are shared with its tag index.
#[derive(Default)]
struct TokenIndex {
    paths: BTreeMap<Arc<str>, Variants>,
    tags: Tags,
    objects: u64,
    bytes: u64,
}

impl TokenIndex {
    /// The path's variants, created empty if needed, with its shared key.
    fn slot(&mut self, path: &str) -> (Arc<str>, &mut Variants) {
        if !self.paths.contains_key(path) {
            self.paths.insert(Arc::from(path), Variants::new());
        }
        let key = self.paths.get_key_value(path).expect("inserted above").0.clone();
        (key, self.paths.get_mut(path).expect("inserted above"))
    }

    /// Accounts for an entry that left `paths`.
    fn detach(&mut self, e: &Entry) {
        self.tags.remove(&e.meta.path, &e.meta.tags);
        self.objects -= 1;
        self.bytes -= e.size;
    }

    /// The paths `p` names: itself, or every path under the prefix.
    fn select<'a>(&'a self, p: &'a OriginPath) -> impl Iterator<Item = (&'a Arc<str>, &'a Variants)> + 'a {
        let (from, prefix) = (p.base(), p.is_prefix());
        self.paths.range::<str, _>((Bound::Included(from), Bound::Unbounded)).take_while(move |(k, _)| {
            if prefix {
                k.starts_with(from)
            } else {
                &***k == from
            }
        })
    }
}

/// What a purge removed, or what a dry run found it would remove.
#[derive(Default)]
pub struct Tally {
    pub objects: u64,
    /// Stored bytes (header and body), as `DiskCache::stats` counts them.
    pub bytes: u64,
    /// Up to [`SAMPLES_MAX`] of the entries.
    pub samples: Vec<Arc<Meta>>,
    /// Tag purges: every path that had a variant selected, sorted.
    pub paths: Vec<Arc<str>>,
}

impl Tally {
    fn add(&mut self, e: &Entry) {
        self.objects += 1;
        self.bytes += e.size;
        if self.samples.len() < SAMPLES_MAX {
            self.samples.push(e.meta.clone());
        }
    }
}

/// What a tag purge took from disk's point of view: a whole path (its
/// directory can go at once) or single variants of a path that keeps others.
pub enum Gone {
    Path(Arc<str>),
    Variant(Arc<Meta>),
}

#[derive(Default)]
pub struct Index {
    tokens: HashMap<String, TokenIndex>,
    lru: BTreeMap<u64, Arc<Meta>>,
    hot_lru: BTreeMap<u64, Arc<Meta>>,
    tick: u64,
    pub hot_max: u64,
    pub hot_bytes: u64,
    pub bytes: u64,
    pub objects: u64,
    /// Purges so far, per token (see `DiskCache::epoch`).
    pub epochs: HashMap<String, u64>,
    pub evictions: u64,
}

/// What a lookup hands back.
pub struct Hit {
    pub meta: Arc<Meta>,
    pub offset: usize,
    pub hot: Option<Bytes>,
}

impl Index {
    pub fn new(hot_max: u64) -> Self {
        Index { hot_max, ..Index::default() }
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    fn entry_mut(&mut self, token: &str, path: &str, variant: &str) -> Option<&mut Entry> {
        self.tokens.get_mut(token)?.paths.get_mut(path)?.get_mut(variant)
    }

    pub fn insert(&mut self, meta: Arc<Meta>, size: u64, offset: usize, body: Option<Bytes>) {
        let tick = self.next_tick();
        let old = {
            if !self.tokens.contains_key(&meta.token) {
                self.tokens.insert(meta.token.clone(), TokenIndex::default());
            }
            let t = self.tokens.get_mut(&meta.token).expect("inserted above");
            let (path, variants) = t.slot(&meta.path);
            let old =
                variants.insert(meta.variant.clone(), Entry { meta: meta.clone(), size, offset, tick, hot: None });
            t.tags.add(&path, &meta.tags);
            t.objects += 1;
            t.bytes += size;
            if let Some(old) = &old {
                t.detach(old);
            }
            old
        };
        if let Some(old) = old {
            self.forget(&old);
        }
        self.lru.insert(tick, meta.clone());
        self.bytes += size;
        self.objects += 1;
        if let Some(body) = body {
            let cost = body.len() as u64;
            self.make_hot(&meta, body, cost);
        }
    }

    /// The entry's meta, leaving the LRU order as it is (a support probe).
    pub fn peek(&self, key: &Key) -> Option<Arc<Meta>> {
        Some(self.tokens.get(&key.token)?.paths.get(key.path.as_str())?.get(&key.variant)?.meta.clone())
    }

    pub fn touch(&mut self, key: &Key) -> Option<Hit> {
        let tick = self.next_tick();
        let e = self.entry_mut(&key.token, &key.path, &key.variant)?;
        let old = std::mem::replace(&mut e.tick, tick);
        let hit = Hit { meta: e.meta.clone(), offset: e.offset, hot: e.hot.as_ref().map(|h| h.body.clone()) };
        if let Some(m) = self.lru.remove(&old) {
            self.lru.insert(tick, m);
        }
        if let Some(m) = self.hot_lru.remove(&old) {
            self.hot_lru.insert(tick, m);
        }
        Some(hit)
    }

    /// Drops the entry if it is still the one `meta` describes.
    pub fn remove_if_same(&mut self, meta: &Arc<Meta>) {
        let same = self.entry_mut(&meta.token, &meta.path, &meta.variant).is_some_and(|e| Arc::ptr_eq(&e.meta, meta));
        if let Some(e) = same.then(|| self.take(&meta.token, &meta.path, &meta.variant)).flatten() {
            self.forget(&e);
        }
    }

    /// Takes one entry out of its token's maps (tags and counters included);
    /// the caller then [`forget`](Self::forget)s it.
    fn take(&mut self, token: &str, path: &str, variant: &str) -> Option<Entry> {
        let t = self.tokens.get_mut(token)?;
        let variants = t.paths.get_mut(path)?;
        let e = variants.remove(variant)?;
        if variants.is_empty() {
            t.paths.remove(path);
        }
        t.detach(&e);
        if t.paths.is_empty() {
            self.tokens.remove(token);
        }
        Some(e)
    }

    /// The global side of an entry leaving: LRU, hot tier, totals.
    fn forget(&mut self, e: &Entry) {
        self.lru.remove(&e.tick);
        if let Some(h) = &e.hot {
            self.hot_lru.remove(&e.tick);
            self.hot_bytes -= h.cost;
        }
        self.bytes -= e.size;
        self.objects -= 1;
    }

    /// Removes the least recently used entry; says which it was.
    pub fn pop_lru(&mut self) -> Option<Arc<Meta>> {
        loop {
            let (_, meta) = self.lru.pop_first()?;
            if let Some(e) = self.take(&meta.token, &meta.path, &meta.variant) {
                self.forget(&e);
                return Some(meta);
            }
        }
    }

    /// Recomputes every counter and tag membership from the entries and
    /// compares them with those kept up to date.
    #[cfg(test)]
    pub fn check(&self) {
        use std::collections::BTreeMap as Map;
        let (mut objects, mut bytes) = (0, 0);
        for (token, t) in &self.tokens {
            assert!(!t.paths.is_empty(), "token {token} left without paths");
            let mut tags: Map<String, Map<String, u32>> = Map::new();
            let (mut o, mut b) = (0, 0);
            for (path, variants) in &t.paths {
                assert!(!variants.is_empty(), "{path} left without variants");
                for e in variants.values() {
                    (o, b) = (o + 1, b + e.size);
                    for tag in &e.meta.tags {
                        *tags.entry(tag.clone()).or_default().entry(path.to_string()).or_default() += 1;
                    }
                    assert!(self.lru.get(&e.tick).is_some_and(|m| Arc::ptr_eq(m, &e.meta)));
                }
            }
            assert_eq!((t.objects, t.bytes), (o, b), "counters of {token}");
            assert_eq!(t.tags.snapshot(), tags, "tags of {token}");
            (objects, bytes) = (objects + o, bytes + b);
        }
        assert_eq!((self.objects, self.bytes, self.lru.len() as u64), (objects, bytes, objects));
    }
}

/// At most this many removed entries are named in a purge's answer.
pub const SAMPLES_MAX: usize = 20;
