//! What a purge or its dry run selects in the index: paths and prefixes,
//! a whole token, or the variants carrying some tags; each both removed and
//! counted, so a dry run counts exactly what the purge removes.

use std::sync::Arc;

use imgflush::domain::OriginPath;

use super::*;

impl Index {
    /// Removes the path (or every path under the prefix) with all its
    /// variants; returns the removed paths.
    pub fn remove_paths(&mut self, token: &str, p: &OriginPath, tally: &mut Tally) -> Vec<Arc<str>> {
        let Some(t) = self.tokens.get_mut(token) else { return Vec::new() };
        let names: Vec<Arc<str>> = t.select(p).map(|(k, _)| k.clone()).collect();
        let mut entries = Vec::new();
        for name in &names {
            if let Some(variants) = t.paths.remove(&**name) {
                entries.extend(variants.into_values());
            }
        }
        self.release(token, &entries, tally);
        names
    }

    /// Entries just taken out of `token`'s paths leave its counters and tag
    /// index (and the token goes once it has no path), then the LRU.
    fn release(&mut self, token: &str, entries: &[Entry], tally: &mut Tally) {
        if let Some(t) = self.tokens.get_mut(token) {
            for e in entries {
                t.detach(e);
            }
            if t.paths.is_empty() {
                self.tokens.remove(token);
            }
        }
        for e in entries {
            self.forget(e);
            tally.add(e);
        }
    }

    /// What [`remove_paths`](Self::remove_paths) would take for each of
    /// `patterns` in turn (a path named twice counts once).
    pub fn count_paths(&self, token: &str, patterns: &[OriginPath], tally: &mut Tally) {
        let Some(t) = self.tokens.get(token) else { return };
        let mut selected: Vec<(&Arc<str>, &Variants)> = patterns.iter().flat_map(|p| t.select(p)).collect();
        if patterns.len() > 1 {
            selected.sort_unstable_by(|a, b| a.0.cmp(b.0));
            selected.dedup_by(|a, b| a.0 == b.0);
        }
        for e in selected.into_iter().flat_map(|(_, v)| v.values()) {
            tally.add(e);
        }
    }

    pub fn remove_token(&mut self, token: &str, tally: &mut Tally) {
        let Some(t) = self.tokens.remove(token) else { return };
        for e in t.paths.into_values().flat_map(HashMap::into_values) {
            self.forget(&e);
            tally.add(&e);
        }
    }

    /// What [`remove_token`](Self::remove_token) would take: the token's
    /// counters, and its first entries as samples.
    pub fn count_token(&self, token: &str, tally: &mut Tally) {
        let Some(t) = self.tokens.get(token) else { return };
        let room = SAMPLES_MAX.saturating_sub(tally.samples.len());
        tally.samples.extend(t.paths.values().flat_map(HashMap::values).take(room).map(|e| e.meta.clone()));
        tally.objects += t.objects;
        tally.bytes += t.bytes;
    }

    /// Removes every variant of `token` carrying any of `tags` (and only
    /// those: other variants of the same paths stay).
    pub fn remove_tags(&mut self, token: &str, tags: &[String], tally: &mut Tally) -> Vec<Gone> {
        let Some(t) = self.tokens.get_mut(token) else { return Vec::new() };
        let mut gone = Vec::new();
        let mut entries = Vec::new();
        for path in t.tags.paths_of(tags) {
            let Some(variants) = t.paths.get_mut(&*path) else { continue };
            let before = entries.len();
            entries.extend(variants.extract_if(|_, e| carries_any(&e.meta.tags, tags)).map(|(_, e)| e));
            if entries.len() == before {
                continue;
            }
            if variants.is_empty() {
                t.paths.remove(&*path);
                gone.push(Gone::Path(path.clone()));
            } else {
                gone.extend(entries[before..].iter().map(|e| Gone::Variant(e.meta.clone())));
            }
            tally.paths.push(path);
        }
        self.release(token, &entries, tally);
        gone
    }

    /// What [`remove_tags`](Self::remove_tags) would take.
    pub fn count_tags(&self, token: &str, tags: &[String], tally: &mut Tally) {
        let Some(t) = self.tokens.get(token) else { return };
        for path in t.tags.paths_of(tags) {
            let Some(variants) = t.paths.get(&*path) else { continue };
            let before = tally.objects;
            for e in variants.values().filter(|e| carries_any(&e.meta.tags, tags)) {
                tally.add(e);
            }
            if tally.objects > before {
                tally.paths.push(path);
            }
        }
    }
}
