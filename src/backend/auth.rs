//! Passwords (argon2id, hashed off the async runtime), login with a constant
//! amount of work for unknown users, at most one hash per core at a time,
//! and login throttling.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use super::limits::{Limit, LimitKey, Limiter, RetryAfter};
use super::store::{DynStore, StoreError, User};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("wrong e-mail or password")]
    InvalidCredentials,
    #[error("too many login attempts; try again in {0} seconds")]
    Throttled(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

pub async fn hash_password(password: String) -> Result<String, AuthError> {
    let _slot = hashing_slot().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| AuthError::Hash(e.to_string()))?
}

/// A valid hash of a random password, verified against when the e-mail is
/// unknown so both answers take the same time.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"not-a-real-password-8d5e", &salt)
            .expect("argon2 hashes a constant")
            .to_string()
    })
}

/// Verifies against `hash`, or against [`dummy_hash`] when there is none.
async fn verify(password: String, hash: Option<String>) -> Result<bool, AuthError> {
    let _slot = hashing_slot().await?;
    tokio::task::spawn_blocking(move || {
        let hash = hash.as_deref().unwrap_or_else(|| dummy_hash());
        let parsed = PasswordHash::new(hash).map_err(|e| AuthError::Hash(e.to_string()))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|e| AuthError::Hash(e.to_string()))?
}

/// `n` random ASCII letters and digits: generated passwords and API keys.
pub fn random_alphanumeric(n: usize) -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), n)
}

/// A 20-character random password, for first start and `user add`/`user passwd`.
pub fn random_password() -> String {
    random_alphanumeric(20)
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Checks the credentials. Unknown e-mail and wrong password give the same error.
pub async fn authenticate(store: &DynStore, email: &str, password: &str) -> Result<User, AuthError> {
    let user = match store.user_by_email(&normalize_email(email)).await {
        Ok(u) => Some(u),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = verify(password.to_owned(), hash).await?;
    match user {
        Some(u) if ok => Ok(u),
        _ => Err(AuthError::InvalidCredentials),
    }
}

/// Longest e-mail address (RFC 5321's path limit): longer input is cut to
/// this before it becomes a throttle key, so keys stay small.
pub const MAX_EMAIL_KEY_BYTES: usize = 254;

/// The throttle key of an e-mail: normalised, at most [`MAX_EMAIL_KEY_BYTES`].
pub fn account_key(email: &str) -> String {
    let email = email.trim();
    let mut cut = email.len().min(MAX_EMAIL_KEY_BYTES);
    while !email.is_char_boundary(cut) {
        cut -= 1;
    }
    email[..cut].to_lowercase()
}

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

/// At most this many password hashes run at once (one per core): a flood of
/// sign-ins queues here instead of taking every core and 19 MiB per hash.
fn hashing_permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

/// Waiting longer than this for a hashing slot answers "throttled".
const HASH_QUEUE_TIMEOUT: Duration = Duration::from_secs(10);

async fn hashing_slot() -> Result<SemaphorePermit<'static>, AuthError> {
    match tokio::time::timeout(HASH_QUEUE_TIMEOUT, hashing_permits().acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(e)) => Err(AuthError::Hash(e.to_string())),
        Err(_) => Err(AuthError::Throttled(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::limits::MemoryLimiter;

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
        use crate::backend::limits::SharedLimiter;
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

    #[test]
    fn account_keys_are_bounded_and_normalised() {
        assert_eq!(account_key(" Admin@Example.com "), "admin@example.com");
        let huge = format!("{}@x.io", "é".repeat(1_000_000));
        assert!(account_key(&huge).len() <= MAX_EMAIL_KEY_BYTES * 2);
        assert_eq!(account_key(&huge), account_key(&format!("{}@y.io", "é".repeat(200))));
    }
}
