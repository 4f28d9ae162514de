//! Counters shared by every console instance on one PostgreSQL database,
//! without a database write per request. Each instance counts its events in
//! time slots (a 60th of the limit's window, at most a minute) and, every
//! second, [`super::spawn_sync`] adds its new counts to `limiter_counts` and
//! reads back what every instance wrote. A check sums the slots of every
//! instance still inside the window, plus this instance's unsent events.
//!
//! Tolerance: another instance's events are seen up to one sync interval
//! (plus the sync's own round trips) late, and an event stops counting when
//! the start of its slot leaves the window: up to a 60th of the window before
//! an exact log would let it go (so `Retry-After` never exceeds the window).
//! README "Running at scale" has figures.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use super::limiter::{Limit, LimitKey, Limiter, RetryAfter};
use crate::backend::model::{CountDelta as Delta, CountOutbox as Outbox, CountRow as Row};

pub struct SharedLimiter {
    instance: i64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, Entry>,
    /// Keys reset here since the last sync: the sync zeroes them everywhere.
    resets: HashSet<String>,
    pruned_ms: i64,
}

struct Entry {
    window_ms: i64,
    slot_ms: i64,
    /// Counts as last written or read, by (slot start, instance).
    known: BTreeMap<(i64, i64), i64>,
    /// This instance's events not yet written, by slot start.
    pending: BTreeMap<i64, i64>,
    /// Slot of this instance's latest event (what `release` takes back).
    last: Option<i64>,
}

/// Slots per window: the granularity of the shared sliding window.
pub const SLOTS_PER_WINDOW: i64 = 60;
const MAX_SLOT_MS: i64 = 60_000;
const PRUNE_EVERY_MS: i64 = 10_000;

impl Entry {
    fn new(window_ms: i64) -> Self {
        Entry {
            window_ms,
            slot_ms: (window_ms / SLOTS_PER_WINDOW).clamp(1, MAX_SLOT_MS),
            known: BTreeMap::new(),
            pending: BTreeMap::new(),
            last: None,
        }
    }

    fn live(slot: i64, now: i64, window_ms: i64) -> bool {
        slot > now - window_ms
    }

    fn expire(&mut self, now: i64) {
        let w = self.window_ms;
        self.known.retain(|(s, _), _| Self::live(*s, now, w));
        self.pending.retain(|s, n| *n != 0 && Self::live(*s, now, w));
    }

    /// Events per slot inside `window_ms`, every instance together.
    fn by_slot(&self, now: i64, window_ms: i64) -> BTreeMap<i64, i64> {
        let mut slots = BTreeMap::new();
        let known = self.known.iter().map(|((s, _), n)| (*s, *n));
        for (s, n) in known.chain(self.pending.iter().map(|(s, n)| (*s, *n))) {
            if Self::live(s, now, window_ms) {
                *slots.entry(s).or_insert(0) += n;
            }
        }
        slots
    }

    /// How long until enough slots leave the window for one more event.
    fn wait(slots: &BTreeMap<i64, i64>, total: i64, max: i64, now: i64, window_ms: i64) -> RetryAfter {
        let excess = total - max + 1;
        let mut gone = 0;
        let mut until = now + 1;
        for (s, n) in slots {
            gone += n;
            until = s + window_ms;
            if gone >= excess {
                break;
            }
        }
        RetryAfter(std::time::Duration::from_millis((until - now).max(1) as u64))
    }
}

pub fn wall_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl Default for SharedLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl SharedLimiter {
    /// A limiter with a random instance id (its rows in the shared table).
    pub fn new() -> Self {
        SharedLimiter { instance: (rand::random::<u64>() >> 1) as i64, state: Mutex::default() }
    }

    pub fn instance(&self) -> i64 {
        self.instance
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn count(&self, key: &LimitKey, limit: Limit, now: i64, add: bool) -> Result<u32, RetryAfter> {
        if limit.max == 0 {
            return Ok(0);
        }
        let window_ms = limit.window.as_millis() as i64;
        let mut st = self.lock();
        if now - st.pruned_ms >= PRUNE_EVERY_MS {
            st.keys.retain(|_, e| {
                e.expire(now);
                !e.known.is_empty() || !e.pending.is_empty()
            });
            st.pruned_ms = now;
        }
        let k = key.storage_key();
        if !add && !st.keys.contains_key(&k) {
            return Ok(1);
        }
        let e = st.keys.entry(k).or_insert_with(|| Entry::new(window_ms));
        e.window_ms = e.window_ms.max(window_ms);
        let slots = e.by_slot(now, window_ms);
        let total: i64 = slots.values().sum();
        if total >= limit.max as i64 {
            return Err(Entry::wait(&slots, total, limit.max as i64, now, window_ms));
        }
        if add {
            let slot = now - now.rem_euclid(e.slot_ms);
            *e.pending.entry(slot).or_insert(0) += 1;
            e.last = Some(slot);
        }
        Ok((total + 1).max(0) as u32)
    }

    /// Takes the unsent events (now counted as this instance's known rows)
    /// and the resets, for the sync to write.
    pub(super) fn take_outbox(&self) -> Outbox {
        let mut st = self.lock();
        let resets = st.resets.drain().collect();
        let mut deltas = Vec::new();
        for (key, e) in st.keys.iter_mut() {
            for (slot, n) in std::mem::take(&mut e.pending) {
                if n == 0 {
                    continue;
                }
                *e.known.entry((slot, self.instance)).or_insert(0) += n;
                let expires_ms = slot + e.window_ms;
                deltas.push(Delta { key: key.clone(), slot_ms: slot, events: n, window_ms: e.window_ms, expires_ms });
            }
        }
        Outbox { resets, deltas }
    }

    /// The write failed: the events are unsent again, the resets still due.
    pub(super) fn restore(&self, outbox: Outbox) {
        let mut st = self.lock();
        for d in outbox.deltas {
            if let Some(e) = st.keys.get_mut(&d.key) {
                *e.known.entry((d.slot_ms, self.instance)).or_insert(0) -= d.events;
                *e.pending.entry(d.slot_ms).or_insert(0) += d.events;
            }
        }
        for k in outbox.resets {
            if !st.keys.contains_key(&k) {
                st.resets.insert(k);
            }
        }
    }

    /// Rows as stored now replace what this instance knew of them; keys
    /// reset here since the outbox was taken keep their reset.
    pub(super) fn apply(&self, rows: Vec<Row>) {
        let mut st = self.lock();
        for row in rows {
            if st.resets.contains(&row.key) {
                continue;
            }
            let e = st.keys.entry(row.key).or_insert_with(|| Entry::new(row.window_ms));
            if row.events <= 0 {
                e.known.remove(&(row.slot_ms, row.instance));
            } else {
                e.known.insert((row.slot_ms, row.instance), row.events);
            }
        }
    }

    /// Keys held (tests).
    pub fn len(&self) -> usize {
        self.lock().keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl Limiter for SharedLimiter {
    async fn check_and_count(&self, key: &LimitKey, limit: Limit) -> Result<u32, RetryAfter> {
        self.count(key, limit, wall_ms(), true)
    }

    async fn peek(&self, key: &LimitKey, limit: Limit) -> Result<(), RetryAfter> {
        self.count(key, limit, wall_ms(), false).map(drop)
    }

    async fn release(&self, key: &LimitKey) {
        let mut st = self.lock();
        if let Some(e) = st.keys.get_mut(&key.storage_key()) {
            if let Some(slot) = e.last {
                *e.pending.entry(slot).or_insert(0) -= 1;
            }
        }
    }

    async fn reset(&self, key: &LimitKey) {
        let k = key.storage_key();
        let mut st = self.lock();
        st.keys.remove(&k);
        st.resets.insert(k);
    }
}

#[cfg(test)]
mod tests;
