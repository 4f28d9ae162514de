//! The memory tier: recently used entries whose body needs no file I/O to
//! serve (a copy on the heap up to [`HOT_OBJECT_MAX`], a mapping of the file
//! above it) and whose response headers are prebuilt ([`Head`]), within
//! `hot_max` bytes in LRU order.

use super::*;

impl Index {
    /// Keeps `body` in memory if the entry is still the one it was read for.
    pub fn make_hot_if_same(&mut self, meta: &Arc<Meta>, body: Bytes, cost: u64) {
        if self.same(meta).is_some() {
            self.make_hot(meta, body, cost);
        }
    }

    pub(super) fn make_hot(&mut self, meta: &Arc<Meta>, body: Bytes, cost: u64) {
        if cost > HOT_OBJECT_MAX || cost > self.hot_max {
            return;
        }
        let Some(e) = self.entry_mut(&meta.token, &meta.path, &meta.variant) else { return };
        if e.hot.is_some() {
            return;
        }
        e.hot = Some(Hot { body, cost, head: None });
        let tick = e.tick;
        self.hot_lru.insert(tick, meta.clone());
        self.hot_bytes += cost;
        self.shrink_hot();
    }

    /// The prebuilt headers of the entry `meta` describes, if it has some.
    pub fn head(&mut self, meta: &Arc<Meta>) -> Option<Arc<Head>> {
        self.same(meta)?.hot.as_ref()?.head.clone()
    }

    /// Keeps `head` beside the entry `meta` describes while it is in the
    /// memory tier (replacing one built for other settings).
    pub fn keep_head(&mut self, meta: &Arc<Meta>, head: Arc<Head>) {
        let Some(hot) = self.same(meta).and_then(|e| e.hot.as_mut()) else { return };
        let old = hot.head.replace(head.clone()).map_or(0, |h| h.cost());
        hot.cost = hot.cost - old + head.cost();
        self.hot_bytes = self.hot_bytes - old + head.cost();
        self.shrink_hot();
    }

    fn same(&mut self, meta: &Arc<Meta>) -> Option<&mut Entry> {
        self.entry_mut(&meta.token, &meta.path, &meta.variant).filter(|e| Arc::ptr_eq(&e.meta, meta))
    }

    fn shrink_hot(&mut self) {
        while self.hot_bytes > self.hot_max {
            let Some((_, cold)) = self.hot_lru.pop_first() else { break };
            let dropped = self.entry_mut(&cold.token, &cold.path, &cold.variant).and_then(|e| e.hot.take());
            self.hot_bytes -= dropped.map_or(0, |h| h.cost);
        }
    }
}
