//! The sign-in throttle: attempts per account and per client address,
//! counted in the shared limiter before any password is checked.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::limiter::{Limit, LimitKey, Limiter, RetryAfter};
use crate::backend::auth::{account_key, AuthError};

/// Sign-in limits, reserved *before* the password is checked, so parallel
/// guesses cannot slip past a check-then-record gap:
/// - per client address (all accounts): `per_ip` attempts per window;
/// - per (account, client address): `per_account` attempts per window;
/// - per account from anywhere: never refuses (that would let anyone lock an
///   account, the default admin first, for everyone), only adds a delay
///   once the account has seen more than `per_account` attempts.
///
/// A successful sign-in clears its (account, address) counter and does not
/// use up the address's budget.
#[derive(Clone)]
pub struct LoginThrottle {
    limiter: Arc<dyn Limiter>,
    per_account: u32,
    per_ip: u32,
    window: Duration,
}

/// An attempt reserved by [`LoginThrottle::reserve`].
#[must_use]
pub struct Attempt {
    source: LimitKey,
    pair: LimitKey,
    /// How long to wait before checking the password (account under attack).
    pub delay: Duration,
}

/// Attempts per account (from anywhere) remembered for the delay.
const ACCOUNT_LOG: u32 = 10_000;
/// Extra wait per account-wide attempt beyond `per_account`, and its cap.
const DELAY_STEP: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(3);

impl LoginThrottle {
    pub fn new(limiter: Arc<dyn Limiter>, per_account: u32, per_ip: u32, window: Duration) -> Self {
        LoginThrottle { limiter, per_account, per_ip, window }
    }

    /// Counts one attempt for `email` from `ip`, or refuses with the seconds
    /// to wait. The count and the check are one atomic step.
    pub async fn reserve(&self, email: &str, ip: Option<IpAddr>) -> Result<Attempt, AuthError> {
        let account = account_key(email);
        let throttled = |w: RetryAfter| AuthError::Throttled(w.secs());
        let source = LimitKey::SignInSource(ip);
        self.limiter.check_and_count(&source, Limit::new(self.per_ip, self.window)).await.map_err(throttled)?;
        let pair = LimitKey::SignInAccountSource(account.clone(), ip);
        self.limiter.check_and_count(&pair, Limit::new(self.per_account, self.window)).await.map_err(throttled)?;
        let seen = self
            .limiter
            .check_and_count(&LimitKey::SignInAccount(account), Limit::new(ACCOUNT_LOG, self.window))
            .await
            .unwrap_or(ACCOUNT_LOG);
        let over = seen.saturating_sub(self.per_account.max(1));
        let delay = (DELAY_STEP * over).min(MAX_DELAY);
        Ok(Attempt { source, pair, delay })
    }

    /// Counts one attempt from `ip` against the per-address budget only: a
    /// guess at an invitation link (no account named yet) uses up the same
    /// budget as a guess at a password.
    pub async fn reserve_source(&self, ip: Option<IpAddr>) -> Result<(), AuthError> {
        let source = LimitKey::SignInSource(ip);
        let limit = Limit::new(self.per_ip, self.window);
        self.limiter.check_and_count(&source, limit).await.map(drop).map_err(|w| AuthError::Throttled(w.secs()))
    }

    /// Gives back an attempt [`Self::reserve_source`] counted: the link was
    /// real, so it was no guess.
    pub async fn release_source(&self, ip: Option<IpAddr>) {
        self.limiter.release(&LimitKey::SignInSource(ip)).await;
    }

    /// The attempt signed in: its (account, address) counter starts over and
    /// the address's budget gets the attempt back.
    pub async fn succeeded(&self, attempt: Attempt) {
        self.limiter.reset(&attempt.pair).await;
        self.limiter.release(&attempt.source).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::limits::{MemoryLimiter, SharedLimiter};

    fn throttle(per_account: u32, per_ip: u32) -> LoginThrottle {
        LoginThrottle::new(Arc::new(MemoryLimiter::new()), per_account, per_ip, Duration::from_secs(60))
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[tokio::test]
    async fn limits_per_account_and_source_and_per_source() {
        let t = throttle(3, 5);
        let a = ip("192.0.2.1");
        for _ in 0..3 {
            let _ = t.reserve("A@x.io ", a).await.unwrap();
        }
        assert!(matches!(t.reserve("a@x.io", a).await, Err(AuthError::Throttled(_))));
        // The same account from elsewhere is not locked out, only slowed.
        let other = t.reserve("a@x.io", ip("198.51.100.7")).await.unwrap();
        assert!(other.delay > Duration::ZERO);
        // The address has one try left for any account (3 + 1 refused = 4 counted).
        let _ = t.reserve("b@x.io", a).await.unwrap();
        assert!(matches!(t.reserve("c@x.io", a).await, Err(AuthError::Throttled(_))));
    }

    #[tokio::test]
    async fn success_clears_the_pair_and_gives_the_source_its_attempt_back() {
        let t = throttle(2, 2);
        let a = ip("192.0.2.1");
        let _ = t.reserve("a@x.io", a).await.unwrap();
        let ok = t.reserve("a@x.io", a).await.unwrap();
        t.succeeded(ok).await;
        let _ = t.reserve("a@x.io", a).await.unwrap();
        assert!(t.reserve("a@x.io", a).await.is_err());
    }

    #[tokio::test]
    async fn parallel_guesses_cannot_pass_the_limit() {
        let t = throttle(5, 1000);
        let tries = (0..50).map(|_| {
            let t = t.clone();
            tokio::spawn(async move { t.reserve("admin@x.io", ip("192.0.2.1")).await.is_ok() })
        });
        let allowed = futures::future::join_all(tries).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
        assert_eq!(allowed, 5);
    }

    #[tokio::test]
    async fn the_shared_limiter_throttles_alike() {
        let t = LoginThrottle::new(Arc::new(SharedLimiter::new()), 3, 1000, Duration::from_secs(900));
        let tries = (0..20).map(|_| {
            let t = t.clone();
            tokio::spawn(async move { t.reserve("admin@x.io", ip("192.0.2.1")).await.is_ok() })
        });
        let allowed = futures::future::join_all(tries).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
        assert_eq!(allowed, 3);
        match t.reserve("admin@x.io", ip("192.0.2.1")).await {
            Err(AuthError::Throttled(secs)) => assert!((1..=900).contains(&secs), "{secs}"),
            other => panic!("{:?}", other.map(|a| a.delay)),
        }
    }
}
