//! The limits the services and the front doors apply, and the limiter they count in.

use std::sync::Arc;
use std::time::Duration;

use super::limiter::{Limit, LimitKey, Limiter};
use super::memory::MemoryLimiter;
use super::shared::SharedLimiter;
use super::throttle::LoginThrottle;
use crate::backend::model::Submitter;
use crate::backend::{Actor, ServiceError};

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
