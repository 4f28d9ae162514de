//! The in-memory index: token → path → variant, plus LRU order.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use imgflush::domain::OriginPath;

use super::{Key, Meta};

struct Entry {
    meta: Arc<Meta>,
    size: u64,
    offset: usize,
    tick: u64,
}

type Variants = HashMap<String, Entry>;

#[derive(Default)]
pub struct Index {
    tokens: HashMap<String, BTreeMap<String, Variants>>,
    lru: BTreeMap<u64, Key>,
    tick: u64,
    pub bytes: u64,
    pub objects: u64,
    pub epoch: u64,
    pub evictions: u64,
}

impl Index {
    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    pub fn insert(&mut self, meta: Arc<Meta>, size: u64, offset: usize) {
        let key = Key { token: meta.token.clone(), path: meta.path.clone(), variant: meta.variant.clone() };
        let tick = self.next_tick();
        let variants = self.tokens.entry(key.token.clone()).or_default().entry(key.path.clone()).or_default();
        if let Some(old) = variants.insert(key.variant.clone(), Entry { meta, size, offset, tick }) {
            self.lru.remove(&old.tick);
            self.bytes -= old.size;
            self.objects -= 1;
        }
        self.lru.insert(tick, key);
        self.bytes += size;
        self.objects += 1;
    }

    pub fn touch(&mut self, key: &Key) -> Option<(Arc<Meta>, usize)> {
        let tick = self.next_tick();
        let e = self.tokens.get_mut(&key.token)?.get_mut(&key.path)?.get_mut(&key.variant)?;
        let old = std::mem::replace(&mut e.tick, tick);
        let found = (e.meta.clone(), e.offset);
        if let Some(k) = self.lru.remove(&old) {
            self.lru.insert(tick, k);
        }
        Some(found)
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
        self.bytes -= e.size;
        self.objects -= 1;
    }

    pub fn pop_lru(&mut self) -> Option<Key> {
        let (_, key) = self.lru.pop_first()?;
        let paths = self.tokens.get_mut(&key.token)?;
        let variants = paths.get_mut(&key.path)?;
        let e = variants.remove(&key.variant)?;
        if variants.is_empty() {
            paths.remove(&key.path);
        }
        self.bytes -= e.size;
        self.objects -= 1;
        Some(key)
    }

    /// Removes the path (or every path under the prefix); returns each
    /// removed path with its number of variants.
    pub fn remove_paths(&mut self, token: &str, p: &OriginPath) -> Vec<(String, u64)> {
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
        }
        removed
    }

    pub fn remove_token(&mut self, token: &str) -> u64 {
        let Some(paths) = self.tokens.remove(token) else { return 0 };
        let mut n = 0;
        for e in paths.into_values().flat_map(HashMap::into_values) {
            self.forget(&e);
            n += 1;
        }
        n
    }
}
