//! Provider calls kept within each provider account's rate limit, and the
//! provider's own `429 Too Many Requests` honoured rather than failed.

use std::time::{Duration, Instant};

use super::report::PurgeError;
use crate::backend::store::DynStore;

/// One provider account's limit: at most one call every `every` (so never
/// more than the provider allows in any window), shared by every target of
/// the account and every worker that shares the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    /// `{kind}:{account}`, e.g. `cloudflare:023e…`.
    pub account: String,
    pub every: Duration,
}

impl Rate {
    /// `calls` per `window`, evenly spaced, with 5% to spare: calls sent
    /// exactly `window / calls` apart can arrive closer (network jitter) and
    /// land one too many in the provider's window, which it refuses.
    pub fn new(kind: &str, account: &str, calls: u32, window: Duration) -> Self {
        Rate { account: format!("{kind}:{account}"), every: window.mul_f64(1.05) / calls.max(1) }
    }
}

/// Where the slots are reserved: the shared database, or nowhere (unpaced).
#[derive(Clone, Default)]
pub struct Pacing {
    store: Option<DynStore>,
}

impl Pacing {
    pub fn new(store: DynStore) -> Self {
        Pacing { store: Some(store) }
    }

    /// Calls go out at once (tests of a single call).
    pub fn unpaced() -> Self {
        Pacing { store: None }
    }

    /// Waits for `rate`'s next slot. A slot that would start past `deadline`
    /// is not reserved (a reserved slot is always used, so none is wasted):
    /// the caller is told how long the account is busy.
    pub(super) async fn wait_for_slot(&self, rate: &Rate, deadline: Instant) -> Result<(), PurgeError> {
        let Some(store) = &self.store else { return Ok(()) };
        let failed = |e: crate::backend::store::StoreError| PurgeError::Other(e.to_string());
        let now = crate::backend::now_ms();
        let left = deadline.saturating_duration_since(Instant::now()).as_millis() as i64;
        if let Some(next) = store.next_slot(&rate.account).await.map_err(failed)? {
            if next - now > left {
                return Err(PurgeError::RateLimited(Some(Duration::from_millis((next - now) as u64))));
            }
        }
        let every = rate.every.as_millis() as i64;
        let start = store.reserve_slot(&rate.account, every, now).await.map_err(failed)?;
        tokio::time::sleep(Duration::from_millis((start - now).max(0) as u64)).await;
        Ok(())
    }

    /// Counts `paths` sent to `account` this month (UTC); a failure to count
    /// is logged, never a failed purge.
    pub(super) async fn count_paths(&self, account: &str, paths: usize) {
        if let Some(store) = &self.store {
            if let Err(e) = store.add_usage(account, &this_month(), paths as i64).await {
                tracing::warn!(account, error = %e, "could not count the paths sent");
            }
        }
    }

    pub(super) async fn hold(&self, rate: &Rate, wait: Duration) {
        if let Some(store) = &self.store {
            let until = crate::backend::now_ms() + wait.as_millis() as i64;
            if let Err(e) = store.hold_slots(&rate.account, until).await {
                tracing::warn!(account = %rate.account, error = %e, "could not record a provider's Retry-After");
            }
        }
    }
}

/// The current month as usage is kept: `2026-12` (UTC).
pub fn this_month() -> String {
    chrono::Utc::now().format("%Y-%m").to_string()
}

/// The usage account of a CloudFront distribution.
pub fn cloudfront_account(distribution: &str) -> String {
    format!("cloudfront:{distribution}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_space_calls_evenly() {
        let free = Rate::new("cloudflare", "abc", 5, Duration::from_secs(60));
        assert_eq!(free.account, "cloudflare:abc");
        assert_eq!(free.every, Duration::from_millis(12_600));
        assert_eq!(Rate::new("bunny", "1", 5, Duration::from_secs(1)).every, Duration::from_millis(210));
    }
}
