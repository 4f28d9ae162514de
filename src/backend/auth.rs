//! Passwords (argon2id, hashed off the async runtime), login with a constant
//! amount of work for unknown users, and login throttling.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

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

async fn verify(password: String, hash: String) -> Result<bool, AuthError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| AuthError::Hash(e.to_string()))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(|e| AuthError::Hash(e.to_string()))?
}

/// A 20-character random password, for first start and `user add`/`user passwd`.
pub fn random_password() -> String {
    super::random_alphanumeric(20)
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
    let hash = user.as_ref().map_or_else(|| dummy_hash().to_owned(), |u| u.password_hash.clone());
    let ok = verify(password.to_owned(), hash).await?;
    match user {
        Some(u) if ok => Ok(u),
        _ => Err(AuthError::InvalidCredentials),
    }
}

/// Failed-login counters per account and per client address, in a sliding window.
pub struct LoginThrottle {
    per_account: u32,
    per_ip: u32,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginThrottle {
    pub fn new(per_account: u32, per_ip: u32, window: Duration) -> Self {
        LoginThrottle { per_account, per_ip, window, failures: Mutex::new(HashMap::new()) }
    }

    fn keys(email: &str, ip: Option<IpAddr>) -> (String, Option<String>) {
        (format!("acct:{}", normalize_email(email)), ip.map(|ip| format!("ip:{ip}")))
    }

    /// `Err(Throttled(secs))` when either counter is exhausted.
    pub fn check(&self, email: &str, ip: Option<IpAddr>) -> Result<(), AuthError> {
        let (acct, ip) = Self::keys(email, ip);
        let mut map = self.failures.lock().expect("throttle lock");
        let now = Instant::now();
        let mut wait = None;
        for (key, limit) in [(Some(acct), self.per_account), (ip, self.per_ip)] {
            let Some(key) = key else { continue };
            if let Some(times) = map.get_mut(&key) {
                times.retain(|t| now.duration_since(*t) < self.window);
                if times.len() as u32 >= limit {
                    let oldest = times[0];
                    let secs = (self.window - now.duration_since(oldest)).as_secs().max(1);
                    wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
                }
            }
        }
        match wait {
            Some(secs) => Err(AuthError::Throttled(secs)),
            None => Ok(()),
        }
    }

    pub fn record_failure(&self, email: &str, ip: Option<IpAddr>) {
        let (acct, ip) = Self::keys(email, ip);
        let mut map = self.failures.lock().expect("throttle lock");
        let now = Instant::now();
        if map.len() > 100_000 {
            map.retain(|_, times| times.last().is_some_and(|t| now.duration_since(*t) < self.window));
        }
        for key in [Some(acct), ip].into_iter().flatten() {
            map.entry(key).or_default().push(now);
        }
    }

    pub fn record_success(&self, email: &str) {
        let (acct, _) = Self::keys(email, None);
        self.failures.lock().expect("throttle lock").remove(&acct);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_blocks_after_limit_per_account_and_per_ip() {
        let t = LoginThrottle::new(3, 5, Duration::from_secs(60));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(t.check("a@x.io", Some(ip)).is_ok());
            t.record_failure("A@x.io ", Some(ip));
        }
        assert!(matches!(t.check("a@x.io", Some(ip)), Err(AuthError::Throttled(_))));
        // Another account from the same address still has two tries left.
        assert!(t.check("b@x.io", Some(ip)).is_ok());
        t.record_failure("b@x.io", Some(ip));
        t.record_failure("c@x.io", Some(ip));
        assert!(matches!(t.check("d@x.io", Some(ip)), Err(AuthError::Throttled(_))));
        assert!(t.check("d@x.io", Some("127.0.0.2".parse().unwrap())).is_ok());
    }

    #[test]
    fn success_clears_the_account_counter() {
        let t = LoginThrottle::new(2, 100, Duration::from_secs(60));
        t.record_failure("a@x.io", None);
        t.record_success("a@x.io");
        t.record_failure("a@x.io", None);
        assert!(t.check("a@x.io", None).is_ok());
    }
}
