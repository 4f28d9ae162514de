//! API keys: `imf_<prefix>_<secret>`. The prefix finds the row; only a SHA-256
//! of the whole key is stored (keys are random, so a slow hash adds nothing),
//! compared in constant time.
//!
//! A verified key is kept for [`VERIFIED_FOR`], so a client calling the API
//! many times a second costs the database one key read a second, not one per
//! request. A key revoked on this instance is refused at once; revoked on
//! another instance (or by `server key revoke`), within [`VERIFIED_FOR`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::key_rules::{self, KeyRefusal, KeyRules, MAX_GRACE_HOURS};
use crate::backend::store::{ApiKey, DynStore, NewApiKey, Project, StoreError, Submitter};
use crate::backend::{now_ms, random_alphanumeric, Actor, ServiceError};
use crate::domain::key_limits::KeyLimits;
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

/// How long a verified key (and its project) is used without reading it
/// again: the longest a revocation on another instance takes to apply here.
pub const VERIFIED_FOR: Duration = Duration::from_secs(1);

/// At most this many verified keys are kept; past it, the stale ones go.
const VERIFIED_MAX: usize = 10_000;

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
    verified: Arc<Mutex<Kept>>,
}

/// The verified keys, by prefix. `forgotten` counts [`KeyService::forget_project`]
/// calls, so a read that started before one does not keep what it read.
#[derive(Default)]
struct Kept {
    keys: HashMap<String, Verified>,
    forgotten: u64,
}

/// A key that matched its stored hash, as read at `at`.
struct Verified {
    at: Instant,
    key: ApiKey,
    project: Project,
}

/// A verified key and the project it belongs to.
pub struct KeyCaller {
    pub actor: Actor,
    pub key: ApiKey,
}

impl KeyService {
    pub fn new(store: DynStore) -> Self {
        KeyService { store, verified: Arc::default() }
    }

    /// The caller a presented key stands for; `NotFound` for malformed,
    /// unknown, wrong or revoked keys alike, and for a deleted project.
    pub async fn authenticate(&self, presented: &str) -> Result<KeyCaller, ServiceError> {
        let presented = presented.trim();
        let (key, project) = match self.recently_verified(presented) {
            Some(found) => found,
            None => self.verify(presented).await?,
        };
        let submitter = Submitter::ApiKey { id: key.id, name: key.name.clone(), limits: key.limits.clone() };
        Ok(KeyCaller {
            actor: Actor { project, role: key.role, submitter, instance: None, meta: Default::default() },
            key,
        })
    }

    /// Whether an authenticated key may be used now from `source` (its
    /// expiry and networks); only ever asked once the whole secret matched.
    pub fn admit(&self, key: &ApiKey, source: Option<std::net::IpAddr>) -> Result<(), KeyRefusal> {
        key_rules::admits(key, chrono::Utc::now(), source)
    }

    /// Records the key's last use and its source address, at most once a
    /// minute per key and address (not a write on every request).
    pub async fn touch(&self, key: &ApiKey, source: Option<std::net::IpAddr>) -> Result<(), ServiceError> {
        let now = now_ms();
        let addr = source.map(crate::domain::address::canonical_text);
        let recent = key.last_used.is_some_and(|t| now - t.timestamp_millis() < TOUCH_EVERY_MS);
        if recent && (addr.is_none() || addr == key.last_used_addr) {
            return Ok(());
        }
        self.store.touch_api_key(key.id, now, addr.as_deref()).await?;
        // The kept copy too, or every request until its next read would write.
        if let Some(v) = self.verified.lock().expect("key cache").keys.get_mut(&key.prefix) {
            v.key.last_used = chrono::DateTime::from_timestamp_millis(now);
            if addr.is_some() {
                v.key.last_used_addr = addr;
            }
        }
        Ok(())
    }

    /// The key and project kept for `presented`, if read less than
    /// [`VERIFIED_FOR`] ago and `presented` still hashes to the key's hash.
    fn recently_verified(&self, presented: &str) -> Option<(ApiKey, Project)> {
        let prefix = prefix_of(presented)?;
        let verified = self.verified.lock().expect("key cache");
        let v = verified.keys.get(prefix).filter(|v| v.at.elapsed() < VERIFIED_FOR)?;
        matches(&v.key, presented).then(|| (v.key.clone(), v.project.clone()))
    }

    async fn verify(&self, presented: &str) -> Result<(ApiKey, Project), StoreError> {
        let prefix = prefix_of(presented).ok_or(StoreError::NotFound)?;
        let forgotten = self.verified.lock().expect("key cache").forgotten;
        let (key, project) = self.store.api_key_by_prefix(prefix).await?;
        if key.revoked.is_some() || !matches(&key, presented) {
            return Err(StoreError::NotFound);
        }
        let mut verified = self.verified.lock().expect("key cache");
        if verified.forgotten != forgotten {
            // Revoked here while it was read: answer as read, keep nothing.
            return Ok((key, project));
        }
        if verified.keys.len() >= VERIFIED_MAX {
            verified.keys.retain(|_, v| v.at.elapsed() < VERIFIED_FOR);
            if verified.keys.len() >= VERIFIED_MAX {
                verified.keys.clear();
            }
        }
        let kept = Verified { at: Instant::now(), key: key.clone(), project: project.clone() };
        verified.keys.insert(key.prefix.clone(), kept);
        Ok((key, project))
    }

    /// Forgets the kept copies of a project's keys (one was revoked): the
    /// next request reads them again.
    fn forget_project(&self, project_id: i64) {
        let mut verified = self.verified.lock().expect("key cache");
        verified.keys.retain(|_, v| v.project.id != project_id);
        verified.forgotten += 1;
    }

    pub async fn list(&self, actor: &Actor) -> Result<Vec<ApiKey>, ServiceError> {
        actor.require(Role::can_manage)?;
        Ok(self.store.list_api_keys(actor.project.id).await?)
    }

    /// Creates a key for the caller's project; returns it with its secret (shown once).
    pub async fn create(&self, actor: &Actor, name: &str, role: &str) -> Result<(ApiKey, String), ServiceError> {
        self.create_limited(actor, name, role, KeyLimits::default()).await
    }

    /// A key that may purge only within `limits` (path prefixes, tags, scopes).
    pub async fn create_limited(
        &self,
        actor: &Actor,
        name: &str,
        role: &str,
        limits: KeyLimits,
    ) -> Result<(ApiKey, String), ServiceError> {
        self.create_with(actor, name, role, limits, KeyRules::default()).await
    }

    /// A key with `limits`, an expiry and source networks (`rules`).
    pub async fn create_with(
        &self,
        actor: &Actor,
        name: &str,
        role: &str,
        limits: KeyLimits,
        rules: KeyRules,
    ) -> Result<(ApiKey, String), ServiceError> {
        actor.require(Role::can_manage)?;
        let (name, role) = validate(name, role)?;
        let generated = generate();
        let new = NewApiKey {
            name,
            role,
            secret_hash: generated.hash.clone(),
            prefix: generated.prefix.clone(),
            limits,
            expires_ms: rules.expires.map(|t| t.timestamp_millis()),
            allowed_ips: rules.allowed_ips,
        };
        let key = self.store.add_api_key(actor.project.id, &new, now_ms()).await?;
        let detail = format!(
            "key {} ({}, imf_{}_…, {}{})",
            key.name,
            key.role,
            key.prefix,
            key.limits.describe(),
            lifetime(&key)
        );
        crate::backend::audit::record(&self.store, actor, "key.created", detail).await;
        Ok((key, generated.secret))
    }

    /// Rolls a key: a successor with the same name, role, limits, networks
    /// and lifetime, while the old key stays valid for `grace_hours` (0 to
    /// 720), so a deployment switches without failures. Answers the
    /// successor with its secret (shown once).
    pub async fn roll(&self, actor: &Actor, key_id: i64, grace_hours: i64) -> Result<(ApiKey, String), ServiceError> {
        actor.require(Role::can_manage)?;
        if !(0..=MAX_GRACE_HOURS).contains(&grace_hours) {
            return Err(ServiceError::Invalid(vec![FieldError::new(
                "grace_hours",
                format!(
                    "the old key stays valid for 0 to {MAX_GRACE_HOURS} hours after the roll (e.g. 24); 0 refuses it at once"
                ),
            )]));
        }
        let now = now_ms();
        let old = self.store.list_api_keys(actor.project.id).await?.into_iter().find(|k| k.id == key_id);
        let old = old.filter(|k| k.active_at(chrono::Utc::now())).ok_or(ServiceError::NotFound)?;
        if old.rolled_to.is_some() {
            return Err(ServiceError::Conflict(format!(
                "the key “{}” was already rolled: roll its successor instead",
                old.name
            )));
        }
        let lifetime_ms = old.expires.map(|e| e.timestamp_millis() - old.created.timestamp_millis());
        let generated = generate();
        let new = NewApiKey {
            name: old.name.clone(),
            role: old.role,
            secret_hash: generated.hash.clone(),
            prefix: generated.prefix.clone(),
            limits: old.limits.clone(),
            expires_ms: lifetime_ms.map(|l| now + l.max(3_600_000)),
            allowed_ips: old.allowed_ips.clone(),
        };
        let old_until = now + grace_hours * 3_600_000;
        let key = self.store.roll_api_key(actor.project.id, old.id, &new, old_until, now).await?;
        self.forget_project(actor.project.id);
        let until = chrono::DateTime::from_timestamp_millis(
            old_until.min(old.expires.map_or(i64::MAX, |e| e.timestamp_millis())),
        )
        .unwrap_or_default();
        let detail = format!(
            "key {} rolled: imf_{}_… replaces imf_{}_…, which stays valid until {}{}",
            key.name,
            key.prefix,
            old.prefix,
            until.format("%Y-%m-%d %H:%M UTC"),
            lifetime(&key)
        );
        crate::backend::audit::record(&self.store, actor, "key.rolled", detail).await;
        Ok((key, generated.secret))
    }

    /// Revokes the key at once; answers its name.
    pub async fn revoke(&self, actor: &Actor, key_id: i64) -> Result<String, ServiceError> {
        actor.require(Role::can_manage)?;
        self.store.revoke_api_key(actor.project.id, key_id, now_ms()).await?;
        self.forget_project(actor.project.id);
        let key = self.store.list_api_keys(actor.project.id).await?.into_iter().find(|k| k.id == key_id);
        let detail = key.as_ref().map_or(format!("key #{key_id}"), |k| format!("key {} (imf_{}_…)", k.name, k.prefix));
        crate::backend::audit::record(&self.store, actor, "key.revoked", detail).await;
        Ok(key.map_or_else(|| format!("#{key_id}"), |k| k.name))
    }
}

/// The audit's words for a key's expiry and networks (empty when it has neither).
fn lifetime(key: &ApiKey) -> String {
    let mut out = String::new();
    if let Some(at) = key.expires {
        out.push_str(&format!(", expires {}", at.format("%Y-%m-%d %H:%M UTC")));
    }
    if !key.allowed_ips.is_empty() {
        out.push_str(&format!(", from {}", key.allowed_ips.join(" ")));
    }
    out
}

/// Whether `presented` is the key whose hash is stored, compared in constant time.
fn matches(key: &ApiKey, presented: &str) -> bool {
    bool::from(key.secret_hash.as_bytes().ct_eq(hash_key(presented).as_bytes()))
}

/// Name and role of a new key, every problem reported at once.
fn validate(name: &str, role: &str) -> Result<(String, Role), ServiceError> {
    let mut errors = Vec::new();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        errors.push(FieldError::new("name", "name the key after what uses it, 1 to 64 characters, e.g. \"ci-deploy\""));
    }
    let role = match Role::parse(role.trim()) {
        Ok(r @ (Role::Admin | Role::Editor | Role::Support)) => Some(r),
        _ => {
            errors.push(FieldError::new(
                "role",
                "an API key's role is \"admin\" (may also change settings and purge targets), \"editor\" (may \
                 invalidate) or \"support\" (read-only)",
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
