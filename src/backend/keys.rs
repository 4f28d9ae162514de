//! API keys: `imf_<prefix>_<secret>`. The prefix finds the row; only a SHA-256
//! of the whole key is stored (keys are random, so a slow hash adds nothing),
//! compared in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::store::{ApiKey, DynStore, NewApiKey, Project, StoreError, Submitter};
use super::{now_ms, random_alphanumeric, Actor, ServiceError};
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

/// How stale a key's `last_used` may get before a request records it again.
pub const TOUCH_EVERY_MS: i64 = 60_000;

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

/// API keys of a project: created (secret shown once), listed, revoked by
/// its admins; presented keys resolved to the caller they stand for.
#[derive(Clone)]
pub struct KeyService {
    store: DynStore,
}

/// A verified key and the project it belongs to.
pub struct KeyCaller {
    pub actor: Actor,
    pub key: ApiKey,
}

impl KeyService {
    pub fn new(store: DynStore) -> Self {
        KeyService { store }
    }

    /// The caller a presented key stands for; `NotFound` for malformed,
    /// unknown, wrong or revoked keys alike, and for a deleted project.
    pub async fn authenticate(&self, presented: &str) -> Result<KeyCaller, ServiceError> {
        let (key, project) = self.verify(presented).await?;
        let submitter = Submitter::ApiKey { id: key.id, name: key.name.clone() };
        Ok(KeyCaller {
            actor: Actor { project, role: key.role, submitter, instance: None, meta: Default::default() },
            key,
        })
    }

    /// Records the key's last use, at most once a minute per key (not a
    /// write on every request).
    pub async fn touch(&self, key: &ApiKey) -> Result<(), ServiceError> {
        let now = now_ms();
        let recent = key.last_used.is_some_and(|t| now - t.timestamp_millis() < TOUCH_EVERY_MS);
        if recent {
            return Ok(());
        }
        Ok(self.store.touch_api_key(key.id, now).await?)
    }

    async fn verify(&self, presented: &str) -> Result<(ApiKey, Project), StoreError> {
        let prefix = prefix_of(presented.trim()).ok_or(StoreError::NotFound)?;
        let (key, project) = self.store.api_key_by_prefix(prefix).await?;
        let expected = key.secret_hash.as_bytes();
        let actual = hash_key(presented.trim());
        if key.revoked.is_some() || !bool::from(expected.ct_eq(actual.as_bytes())) {
            return Err(StoreError::NotFound);
        }
        Ok((key, project))
    }

    pub async fn list(&self, actor: &Actor) -> Result<Vec<ApiKey>, ServiceError> {
        actor.require(Role::can_manage)?;
        Ok(self.store.list_api_keys(actor.project.id).await?)
    }

    /// Creates a key for the caller's project; returns it with its secret (shown once).
    pub async fn create(&self, actor: &Actor, name: &str, role: &str) -> Result<(ApiKey, String), ServiceError> {
        actor.require(Role::can_manage)?;
        let (name, role) = validate(name, role)?;
        let generated = generate();
        let new = NewApiKey { name, role, secret_hash: generated.hash.clone(), prefix: generated.prefix.clone() };
        let key = self.store.add_api_key(actor.project.id, &new, now_ms()).await?;
        let detail = format!("key {} ({}, imf_{}_…)", key.name, key.role, key.prefix);
        super::audit::record(&self.store, actor, "key.created", detail).await;
        Ok((key, generated.secret))
    }

    pub async fn revoke(&self, actor: &Actor, key_id: i64) -> Result<(), ServiceError> {
        actor.require(Role::can_manage)?;
        self.store.revoke_api_key(actor.project.id, key_id, now_ms()).await?;
        let name = self.store.list_api_keys(actor.project.id).await?.into_iter().find(|k| k.id == key_id);
        let detail = name.map_or(format!("key #{key_id}"), |k| format!("key {} (imf_{}_…)", k.name, k.prefix));
        super::audit::record(&self.store, actor, "key.revoked", detail).await;
        Ok(())
    }
}

/// Name and role of a new key, every problem reported at once.
fn validate(name: &str, role: &str) -> Result<(String, Role), ServiceError> {
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
    match (role, errors.is_empty()) {
        (Some(role), true) => Ok((name.to_owned(), role)),
        _ => Err(ServiceError::Invalid(errors)),
    }
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
