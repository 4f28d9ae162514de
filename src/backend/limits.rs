//! Rate limits behind one small trait, so the sign-in throttle, the API's
//! per-key and per-source limits, the scope-All quota and the console's
//! per-user limit count the same way, and a later shared implementation
//! (e.g. in PostgreSQL, across instances) can replace the in-memory one.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::auth::LoginThrottle;
use super::store::Submitter;
use super::{Actor, ServiceError};

/// What is being counted. Keys are bounded: callers build them from ids,
/// addresses and length-capped text only.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LimitKey {
    /// Sign-in attempts from one client address (all accounts).
    SignInSource(Source),
    /// Sign-in attempts for one account from one client address.
    SignInAccountSource(String, Source),
    /// Sign-in attempts for one account from anywhere: only ever slows down.
    SignInAccount(String),
    /// API requests made with one key.
    ApiKey(i64),
    /// API requests from one client address, whatever the key.
    ApiSource(Source),
    /// API requests from one client address whose key was refused.
    ApiKeyFailures(Source),
    /// Scope-All invalidations of one project.
    ScopeAll(i64),
    /// State-changing console calls of one user.
    ConsoleUser(i64),
}

/// A client address as the server saw it (after the trusted-proxy rules);
/// `None` when unknown (in-process calls and tests).
pub type Source = Option<IpAddr>;

/// At most `max` events per sliding `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

impl Limit {
    pub const fn new(max: u32, window: Duration) -> Self {
        Limit { max, window }
    }
    pub const fn per_minute(max: u32) -> Self {
        Limit::new(max, Duration::from_secs(60))
    }
}

/// The limit is spent; the next event is allowed after this long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, at least 1 (for `Retry-After` and messages).
    pub fn secs(&self) -> u64 {
        self.0.as_secs_f64().ceil().max(1.0) as u64
    }
}

#[async_trait]
pub trait Limiter: Send + Sync + 'static {
    /// Atomically counts one event for `key` if fewer than `limit.max` were
    /// counted in the window, and answers how many there are now (this one
    /// included); otherwise counts nothing and says when to retry.
    /// `limit.max == 0` disables the limit (nothing is counted).
    async fn check_and_count(&self, key: &LimitKey, limit: Limit) -> Result<u32, RetryAfter>;
    /// Whether one more event would be allowed, without counting it.
    async fn peek(&self, key: &LimitKey, limit: Limit) -> Result<(), RetryAfter>;
    /// Takes back the most recent event of `key` (a reservation that turned
    /// out not to count, e.g. a successful sign-in).
    async fn release(&self, key: &LimitKey);
    /// Forgets every event of `key`.
    async fn reset(&self, key: &LimitKey);
}

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

/// The limits the services and front doors apply, and the limiter they count in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitSettings {
    /// Sign-in attempts per (account, client address) per window.
    pub sign_in_per_account: u32,
    /// Sign-in attempts per client address per window.
    pub sign_in_per_source: u32,
    pub sign_in_window: Duration,
    /// API requests per key.
    pub api_per_key: Limit,
    /// API requests per client address, whatever the key.
    pub api_per_source: Limit,
    /// Refused API keys per client address; beyond it the address gets 429
    /// before any key is looked up.
    pub api_key_failures_per_source: Limit,
    /// Scope-All invalidations per project (console and API alike).
    pub scope_all_per_project: Limit,
    /// State-changing console calls per user.
    pub console_writes_per_user: Limit,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            sign_in_per_account: 5,
            sign_in_per_source: 20,
            sign_in_window: Duration::from_secs(900),
            api_per_key: Limit::per_minute(120),
            api_per_source: Limit::per_minute(600),
            api_key_failures_per_source: Limit::new(20, Duration::from_secs(600)),
            scope_all_per_project: Limit::new(10, Duration::from_secs(3600)),
            console_writes_per_user: Limit::per_minute(60),
        }
    }
}

#[derive(Clone)]
pub struct Limits {
    limiter: Arc<dyn Limiter>,
    pub settings: LimitSettings,
}

impl Limits {
    pub fn new(limiter: Arc<dyn Limiter>, settings: LimitSettings) -> Self {
        Limits { limiter, settings }
    }

    /// This instance's own counters ([`MemoryLimiter`]).
    pub fn in_memory(settings: LimitSettings) -> Self {
        Self::new(Arc::new(MemoryLimiter::new()), settings)
    }

    pub fn limiter(&self) -> &Arc<dyn Limiter> {
        &self.limiter
    }

    pub fn login_throttle(&self) -> LoginThrottle {
        let s = &self.settings;
        LoginThrottle::new(self.limiter.clone(), s.sign_in_per_account, s.sign_in_per_source, s.sign_in_window)
    }

    /// Counts one state-changing console call of the actor (a user).
    pub async fn console_write(&self, actor: &Actor) -> Result<(), ServiceError> {
        let Submitter::User { id, .. } = &actor.submitter else { return Ok(()) };
        let limit = self.settings.console_writes_per_user;
        self.limiter.check_and_count(&LimitKey::ConsoleUser(*id), limit).await.map(drop).map_err(|w| {
            ServiceError::Conflict(format!(
                "too many changes in a short time ({} per {}); try again in {}",
                limit.max,
                human(limit.window),
                human(w.0)
            ))
        })
    }

    /// Counts one scope-All invalidation of the project.
    pub async fn scope_all(&self, project_id: i64) -> Result<(), ServiceError> {
        let limit = self.settings.scope_all_per_project;
        self.limiter.check_and_count(&LimitKey::ScopeAll(project_id), limit).await.map(drop).map_err(|w| {
            ServiceError::Conflict(format!(
                "scope All may flush this project's cache at most {} times per {}; try again in {}, \
                 or invalidate the changed paths with scope Original",
                limit.max,
                human(limit.window),
                human(w.0)
            ))
        })
    }
}

/// "45 s", "12 min", "2 h".
pub fn human(d: Duration) -> String {
    let secs = d.as_secs_f64().ceil().max(1.0) as u64;
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7199 => format!("{} min", secs.div_ceil(60)),
        _ => format!("{} h", secs.div_ceil(3600)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
