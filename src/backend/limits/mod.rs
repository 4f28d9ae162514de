//! Rate limits behind one small trait, so the sign-in throttle, the API's
//! per-key and per-source limits, the scope-All quota and the console's
//! per-user limit count the same way: in memory on SQLite ([`MemoryLimiter`]),
//! shared by every instance on PostgreSQL ([`SharedLimiter`], reconciled
//! through the database every second by [`spawn_sync`]).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::auth::LoginThrottle;
use super::store::Submitter;
use super::{Actor, ServiceError};

mod memory;
mod pg;
mod shared;

pub use memory::{MemoryLimiter, MAX_KEYS, PRUNE_EVERY};
pub use pg::spawn_sync;
pub use shared::SharedLimiter;

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

    /// Counters shared with the other instances through `limiter`'s sync.
    pub fn shared(limiter: Arc<SharedLimiter>, settings: LimitSettings) -> Self {
        Self::new(limiter, settings)
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
        self.console_write_by(*id).await
    }

    /// Counts one state-changing console call of the signed-in user `user_id`
    /// outside any project (the instance's pages: projects, users).
    pub async fn console_write_by(&self, user_id: i64) -> Result<(), ServiceError> {
        let limit = self.settings.console_writes_per_user;
        self.limiter.check_and_count(&LimitKey::ConsoleUser(user_id), limit).await.map(drop).map_err(|w| {
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
