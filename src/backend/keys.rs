//! API keys: `imf_<prefix>_<secret>`. The prefix finds the row; only a SHA-256
//! of the whole key is stored (keys are random, so a slow hash adds nothing),
//! compared in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::invalidations::ServiceError;
use super::random_alphanumeric;
use super::store::{ApiKey, DynStore, NewApiKey, StoreError};
use crate::domain::{FieldError, Role};

pub struct GeneratedKey {
    pub prefix: String,
    pub secret: String,
    pub hash: String,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

pub fn generate() -> GeneratedKey {
    let prefix = random_alphanumeric(10).to_lowercase();
    let secret = format!("imf_{prefix}_{}", random_alphanumeric(32));
    GeneratedKey { hash: hash_key(&secret), prefix, secret }
}

fn prefix_of(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("imf_")?;
    let (prefix, secret) = rest.split_once('_')?;
    (!prefix.is_empty() && !secret.is_empty()).then_some(prefix)
}

/// The live key matching `presented`, or `NotFound` for malformed, unknown,
/// wrong or revoked keys alike.
pub async fn verify(store: &DynStore, presented: &str) -> Result<ApiKey, StoreError> {
    let prefix = prefix_of(presented.trim()).ok_or(StoreError::NotFound)?;
    let key = store.api_key_by_prefix(prefix).await?;
    let expected = key.secret_hash.as_bytes();
    let actual = hash_key(presented.trim());
    if key.revoked.is_some() || !bool::from(expected.ct_eq(actual.as_bytes())) {
        return Err(StoreError::NotFound);
    }
    Ok(key)
}

/// Creates a key for the project; returns it with its secret (shown once).
pub async fn create(
    store: &DynStore,
    project_id: i64,
    name: &str,
    role: &str,
) -> Result<(ApiKey, String), ServiceError> {
    let mut errors = Vec::new();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        errors.push(FieldError::new("name", "name the key after what uses it, 1 to 64 characters, e.g. \"ci-deploy\""));
    }
    let role = match Role::parse(role.trim()) {
        Ok(r @ (Role::Editor | Role::Support)) => Some(r),
        _ => {
            errors.push(FieldError::new(
                "role",
                "an API key's role is \"editor\" (may invalidate) or \"support\" (read-only)",
            ));
            None
        }
    };
    let (Some(role), true) = (role, errors.is_empty()) else {
        return Err(ServiceError::Invalid(errors));
    };
    let generated = generate();
    let new = NewApiKey {
        name: name.to_owned(),
        prefix: generated.prefix.clone(),
        secret_hash: generated.hash.clone(),
        role,
    };
    let key = store.add_api_key(project_id, &new, super::now_ms()).await?;
    Ok((key, generated.secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_carry_their_prefix_and_hash() {
        let k = generate();
        assert_eq!(prefix_of(&k.secret), Some(k.prefix.as_str()));
        assert_eq!(hash_key(&k.secret), k.hash);
        assert!(!format!("{k:?}").contains(&k.secret));
        assert_eq!(prefix_of("imf__x"), None);
        assert_eq!(prefix_of("Bearer x"), None);
    }
}
