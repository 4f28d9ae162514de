//! Passwords (argon2id, hashed off the async runtime), login with a constant
//! amount of work for unknown users, at most one hash per core at a time,
//! and login throttling.

use std::sync::OnceLock;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use super::error::ServiceError;
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

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// `Invalid` naming `field` unless `password` is acceptable as a new password.
pub fn check_new_password(field: &str, password: &str) -> Result<(), ServiceError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(ServiceError::field(
            field,
            format!(
                "choose a password of at least {MIN_PASSWORD_CHARS} characters (at most {MAX_PASSWORD_BYTES} bytes)"
            ),
        ));
    }
    Ok(())
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

    #[test]
    fn account_keys_are_bounded_and_normalised() {
        assert_eq!(account_key(" Admin@Example.com "), "admin@example.com");
        let huge = format!("{}@x.io", "é".repeat(1_000_000));
        assert!(account_key(&huge).len() <= MAX_EMAIL_KEY_BYTES * 2);
        assert_eq!(account_key(&huge), account_key(&format!("{}@y.io", "é".repeat(200))));
    }
}
