//! What a limit counts, and the trait every limiter implements.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;

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

impl LimitKey {
    /// The key as stored in the shared table: kind, then the bounded parts.
    pub fn storage_key(&self) -> String {
        let ip = |s: &Source| s.map_or_else(|| "-".to_owned(), |ip| ip.to_string());
        match self {
            LimitKey::SignInSource(s) => format!("signin-src:{}", ip(s)),
            LimitKey::SignInAccountSource(a, s) => format!("signin-pair:{}|{a}", ip(s)),
            LimitKey::SignInAccount(a) => format!("signin-acct:{a}"),
            LimitKey::ApiKey(id) => format!("api-key:{id}"),
            LimitKey::ApiSource(s) => format!("api-src:{}", ip(s)),
            LimitKey::ApiKeyFailures(s) => format!("api-refused:{}", ip(s)),
            LimitKey::ScopeAll(p) => format!("scope-all:{p}"),
            LimitKey::ConsoleUser(u) => format!("console-user:{u}"),
        }
    }
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
