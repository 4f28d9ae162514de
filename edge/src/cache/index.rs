//! The in-memory index: token → path → variant, plus LRU order. Small
//! recently used bodies are also kept in memory ("hot"), within their own
//! byte budget and LRU order, so a popular thumbnail costs no file I/O.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use imgflush::domain::OriginPath;

use super::meta::{Key, Meta};

/// Larger bodies are always read from disk.
pub const HOT_OBJECT_MAX: u64 = 256 * 1024;

struct Entry {
    meta: Arc<Meta>,
    size: u64,
    offset: usize,
    tick: u64,
    hot: Option<Bytes>,
}

type Variants = HashMap<String, Entry>;

#[derive(Default)]
pub struct Index {
    tokens: HashMap<String, BTreeMap<String, Variants>>,
    lru: BTreeMap<u64, Key>,
    hot_lru: BTreeMap<u64, Key>,
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

    fn variants(&mut self, key: &Key) -> Option<&mut Variants> {
        self.tokens.get_mut(&key.token)?.get_mut(&key.path)
    }

    pub fn insert(&mut self, meta: Arc<Meta>, size: u64, offset: usize, body: Option<Bytes>) {
        let key = Key { token: meta.token.clone(), path: meta.path.clone(), variant: meta.variant.clone() };
        let tick = self.next_tick();
        let variants = self.tokens.entry(key.token.clone()).or_default().entry(key.path.clone()).or_default();
        let old = variants.insert(key.variant.clone(), Entry { meta, size, offset, tick, hot: None });
        if let Some(old) = old {
            self.forget(&old);
        }
        self.lru.insert(tick, key.clone());
        self.bytes += size;
        self.objects += 1;
        if let Some(body) = body {
            self.make_hot(&key, body);
        }
    }

    pub fn touch(&mut self, key: &Key) -> Option<Hit> {
        let tick = self.next_tick();
        let e = self.variants(key)?.get_mut(&key.variant)?;
        let old = std::mem::replace(&mut e.tick, tick);
        let hit = Hit { meta: e.meta.clone(), offset: e.offset, hot: e.hot.clone() };
        if let Some(k) = self.lru.remove(&old) {
            self.lru.insert(tick, k);
        }
        if let Some(k) = self.hot_lru.remove(&old) {
            self.hot_lru.insert(tick, k);
        }
        Some(hit)
    }

    /// Keeps `body` in memory if the entry is still the one it was read for.
    pub fn make_hot_if_same(&mut self, key: &Key, meta: &Arc<Meta>, body: Bytes) {
        let same = self.variants(key).and_then(|v| v.get(&key.variant)).is_some_and(|e| Arc::ptr_eq(&e.meta, meta));
        if same {
            self.make_hot(key, body);
        }
    }

    fn make_hot(&mut self, key: &Key, body: Bytes) {
        let len = body.len() as u64;
        if len > HOT_OBJECT_MAX || len > self.hot_max {
            return;
        }
        let Some(e) = self.variants(key).and_then(|v| v.get_mut(&key.variant)) else { return };
        if e.hot.is_some() {
            return;
        }
        e.hot = Some(body);
        let tick = e.tick;
        self.hot_lru.insert(tick, key.clone());
        self.hot_bytes += len;
        while self.hot_bytes > self.hot_max {
            let Some((_, cold)) = self.hot_lru.pop_first() else { break };
            let dropped = self.variants(&cold).and_then(|v| v.get_mut(&cold.variant)).and_then(|e| e.hot.take());
            self.hot_bytes -= dropped.map_or(0, |b| b.len() as u64);
        }
    }

    pub fn remove_if_same(&mut self, key: &Key, meta: &Arc<Meta>) {
        let Some(paths) = self.tokens.get_mut(&key.token) else { return };
        let Some(variants) = paths.get_mut(&key.path) else { return };
        if variants.get(&key.variant).is_some_and(|e| Arc::ptr_eq(&e.meta, meta)) {
            let e = variants.remove(&key.variant).expect("checked above");
            if variants.is_empty() {
                paths.remove(&key.path);
            }
            self.forget(&e);
        }
    }

    fn forget(&mut self, e: &Entry) {
        self.lru.remove(&e.tick);
        if let Some(b) = &e.hot {
            self.hot_lru.remove(&e.tick);
            self.hot_bytes -= b.len() as u64;
        }
        self.bytes -= e.size;
        self.objects -= 1;
    }

    pub fn pop_lru(&mut self) -> Option<Key> {
        let (_, key) = self.lru.first_key_value().map(|(t, k)| (*t, k.clone()))?;
        let paths = self.tokens.get_mut(&key.token)?;
        let variants = paths.get_mut(&key.path)?;
        let e = variants.remove(&key.variant)?;
        if variants.is_empty() {
            paths.remove(&key.path);
        }
        self.forget(&e);
        Some(key)
    }

    /// Removes the path (or every path under the prefix); returns each
    /// removed path with its number of variants, and adds up to
    /// [`SAMPLES_MAX`] of the removed entries to `samples`.
    pub fn remove_paths(&mut self, token: &str, p: &OriginPath, samples: &mut Vec<Arc<Meta>>) -> Vec<(String, u64)> {
        let Some(paths) = self.tokens.get_mut(token) else { return Vec::new() };
        let names: Vec<String> = if p.is_prefix() {
            paths
                .range(p.base().to_owned()..)
                .take_while(|(k, _)| k.starts_with(p.base()))
                .map(|(k, _)| k.clone())
                .collect()
        } else if paths.contains_key(p.as_str()) {
            vec![p.as_str().to_owned()]
        } else {
            Vec::new()
        };
        let mut removed = Vec::with_capacity(names.len());
        let mut entries = Vec::new();
        for name in names {
            if let Some(variants) = paths.remove(&name) {
                removed.push((name, variants.len() as u64));
                entries.extend(variants.into_values());
            }
        }
        if paths.is_empty() {
            self.tokens.remove(token);
        }
        for e in &entries {
            self.forget(e);
            sample(samples, e);
        }
        removed
    }

    pub fn remove_token(&mut self, token: &str, samples: &mut Vec<Arc<Meta>>) -> u64 {
        let Some(paths) = self.tokens.remove(token) else { return 0 };
        let mut n = 0;
        for e in paths.into_values().flat_map(HashMap::into_values) {
            self.forget(&e);
            sample(samples, &e);
            n += 1;
        }
        n
    }
}

/// At most this many removed entries are named in a purge's answer.
pub const SAMPLES_MAX: usize = 20;

fn sample(samples: &mut Vec<Arc<Meta>>, e: &Entry) {
    if samples.len() < SAMPLES_MAX {
        samples.push(e.meta.clone());
    }
}
