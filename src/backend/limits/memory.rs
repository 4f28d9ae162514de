//! The in-memory limiter: exact sliding-window logs, one instance only
//! (SQLite, where one process owns the database).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::limiter::{Limit, LimitKey, Limiter, RetryAfter};

/// Sliding-window logs in memory: exact counts, one instance only. Expired
/// keys are pruned at most every [`PRUNE_EVERY`] and whenever more than
/// [`MAX_KEYS`] are held.
pub struct MemoryLimiter {
    inner: Mutex<Inner>,
}

struct Inner {
    logs: HashMap<LimitKey, Log>,
    pruned: Instant,
}

struct Log {
    events: VecDeque<Instant>,
    window: Duration,
}

impl Log {
    fn expire(&mut self, now: Instant, window: Duration) {
        self.window = self.window.max(window);
        while self.events.front().is_some_and(|t| now.duration_since(*t) >= window) {
            self.events.pop_front();
        }
    }

    fn wait(&self, now: Instant, window: Duration) -> RetryAfter {
        let oldest = self.events.front().copied().unwrap_or(now);
        RetryAfter(window.saturating_sub(now.duration_since(oldest)).max(Duration::from_millis(1)))
    }
}

pub const PRUNE_EVERY: Duration = Duration::from_secs(60);
pub const MAX_KEYS: usize = 100_000;

impl Default for MemoryLimiter {
    fn default() -> Self {
        MemoryLimiter { inner: Mutex::new(Inner { logs: HashMap::new(), pruned: Instant::now() }) }
    }
}

impl MemoryLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many keys are held (tests and metrics).
    pub fn len(&self) -> usize {
        self.lock().logs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops keys whose every event has expired.
    pub fn prune(&self) {
        let mut inner = self.lock();
        prune(&mut inner, Instant::now());
    }

    fn count(&self, key: &LimitKey, limit: Limit) -> Result<u32, RetryAfter> {
        if limit.max == 0 {
            return Ok(0);
        }
        let now = Instant::now();
        let mut inner = self.lock();
        if now.duration_since(inner.pruned) >= PRUNE_EVERY || inner.logs.len() >= MAX_KEYS {
            prune(&mut inner, now);
        }
        let log =
            inner.logs.entry(key.clone()).or_insert_with(|| Log { events: VecDeque::new(), window: limit.window });
        log.expire(now, limit.window);
        if log.events.len() >= limit.max as usize {
            return Err(log.wait(now, limit.window));
        }
        log.events.push_back(now);
        Ok(log.events.len() as u32)
    }
}

fn prune(inner: &mut Inner, now: Instant) {
    inner.logs.retain(|_, log| log.events.back().is_some_and(|t| now.duration_since(*t) < log.window));
    inner.pruned = now;
}

#[async_trait]
impl Limiter for MemoryLimiter {
    async fn check_and_count(&self, key: &LimitKey, limit: Limit) -> Result<u32, RetryAfter> {
        self.count(key, limit)
    }

    async fn peek(&self, key: &LimitKey, limit: Limit) -> Result<(), RetryAfter> {
        if limit.max == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut inner = self.lock();
        match inner.logs.get_mut(key) {
            Some(log) => {
                log.expire(now, limit.window);
                if log.events.len() >= limit.max as usize {
                    Err(log.wait(now, limit.window))
                } else {
                    Ok(())
                }
            }
            None => Ok(()),
        }
    }

    async fn release(&self, key: &LimitKey) {
        if let Some(log) = self.lock().logs.get_mut(key) {
            log.events.pop_back();
        }
    }

    async fn reset(&self, key: &LimitKey) {
        self.lock().logs.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::limits::Source;

    fn ip(s: &str) -> Source {
        Some(s.parse().unwrap())
    }

    #[tokio::test]
    async fn counts_up_to_the_limit_then_says_when_to_retry() {
        let l = MemoryLimiter::new();
        let key = LimitKey::ApiKey(1);
        let limit = Limit::per_minute(3);
        for n in 1..=3 {
            assert_eq!(l.check_and_count(&key, limit).await, Ok(n));
        }
        let wait = l.check_and_count(&key, limit).await.unwrap_err();
        assert!(wait.0 > Duration::from_secs(59) && wait.secs() == 60, "{wait:?}");
        assert!(l.peek(&key, limit).await.is_err());
        assert_eq!(l.check_and_count(&LimitKey::ApiKey(2), limit).await, Ok(1), "keys count apart");
        l.release(&key).await;
        assert_eq!(l.check_and_count(&key, limit).await, Ok(3), "a released event is free again");
        l.reset(&key).await;
        assert!(l.peek(&key, limit).await.is_ok());
    }

    #[tokio::test]
    async fn the_window_slides() {
        let l = MemoryLimiter::new();
        let key = LimitKey::ApiSource(ip("192.0.2.1"));
        let limit = Limit::new(2, Duration::from_millis(100));
        assert!(l.check_and_count(&key, limit).await.is_ok());
        assert!(l.check_and_count(&key, limit).await.is_ok());
        assert!(l.check_and_count(&key, limit).await.is_err());
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(l.check_and_count(&key, limit).await, Ok(1));
    }

    #[tokio::test]
    async fn zero_disables() {
        let l = MemoryLimiter::new();
        for _ in 0..1000 {
            assert!(l.check_and_count(&LimitKey::ApiKey(1), Limit::per_minute(0)).await.is_ok());
        }
        assert!(l.is_empty(), "a disabled limit stores nothing");
    }

    #[tokio::test]
    async fn expired_keys_are_pruned() {
        let l = MemoryLimiter::new();
        let limit = Limit::new(5, Duration::from_millis(50));
        for i in 0..100u8 {
            l.check_and_count(&LimitKey::SignInSource(ip(&format!("10.0.0.{i}"))), limit).await.unwrap();
        }
        assert_eq!(l.len(), 100);
        tokio::time::sleep(Duration::from_millis(60)).await;
        l.prune();
        assert!(l.is_empty());
    }

    #[test]
    fn parallel_callers_never_exceed_the_limit() {
        let l = std::sync::Arc::new(MemoryLimiter::new());
        let limit = Limit::per_minute(5);
        let handles: Vec<_> = (0..32)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || l.count(&LimitKey::SignInAccount("a@x.io".into()), limit).is_ok())
            })
            .collect();
        let allowed = handles.into_iter().map(|h| h.join().unwrap()).filter(|ok| *ok).count();
        assert_eq!(allowed, 5);
    }
}
