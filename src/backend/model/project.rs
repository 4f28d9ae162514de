//! Projects, their API keys and notification hooks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::key_limits::KeyLimits;
use crate::domain::{Role, TagRule};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Project {
    pub id: i64,
    pub token: String,
    pub name: String,
    pub origin_hosts: Vec<String>,
    pub max_age_secs: i64,
    pub s_maxage_secs: i64,
    pub edge: EdgeSettings,
}

/// How the project's edges fetch, sign and cache, and how its CDN nodes
/// purge. Stored as one JSON document; defaults for every absent field.
#[derive(Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct EdgeSettings {
    /// `https` (default) or `http`: how edges reach the origin hosts.
    pub origin_scheme: OriginScheme,
    /// Origins on any loopback/private/link-local address (instance owners set it).
    pub allow_private_origins: bool,
    /// `host:port` origins allowed on a private address, exactly these (the
    /// embedded demo origin); instance owners set them.
    pub private_origins_allowed: Vec<String>,
    /// A CNAME host name that addresses this project on the edges.
    pub custom_host: Option<String>,
    /// `custom_host` waits for an instance owner's approval; the edges do
    /// not get it meanwhile. Absent (older documents): approved.
    pub custom_host_pending: bool,
    /// When set, edges accept only URLs signed with it (`ci_sign`/`ci_seal`).
    pub sign_salt: Option<String>,
    /// Hex characters of `ci_sign` (6–40; 18 when absent).
    pub sign_length: Option<u8>,
    /// Require `ci_seal` instead of `ci_sign`.
    pub sealed: bool,
    /// Sealed URLs: edges refuse transformation parameters outside `ci_eqs`.
    pub strict_seal: bool,
    /// Edges refuse outputs larger than the source (absent: enlarging allowed).
    pub no_upscale: bool,
    /// Edges choose AVIF, WebP or the source format from each browser's
    /// `Accept` (`Vary: Accept`). New projects start with it on; absent
    /// (projects made before it existed): off.
    pub auto_format: bool,
    /// Edges downscale in linear light and sharpen after large reductions.
    pub linear_light: bool,
    /// CDN nodes mark objects stale and refetch in the background.
    pub soft_purge: bool,
    /// After the purges, request each purged path through each node and record the proof.
    pub verify: bool,
    /// Origin response headers the edges read cache tags from; absent (older
    /// documents, new projects): [`DEFAULT_TAG_SOURCES`](crate::domain::tag::DEFAULT_TAG_SOURCES).
    pub tag_sources: Option<Vec<String>>,
    /// Tags the project gives paths by pattern (`/host/products/*` → `products`).
    pub tag_rules: Vec<TagRule>,
    /// A submission whose preview counts more cached objects than this (or
    /// more bytes than `confirm_above_bytes`) needs an explicit confirmation.
    pub confirm_above_objects: Option<u64>,
    pub confirm_above_bytes: Option<u64>,
    /// Two-person rule: a scope All submission waits for another admin's
    /// approval, at most `approval_hours` (24 when absent), then ends CANCELLED.
    pub approval_for_all: bool,
    pub approval_hours: Option<u32>,
}

/// How long a scope All submission waits for approval by default.
pub const DEFAULT_APPROVAL_HOURS: u32 = 24;

impl EdgeSettings {
    /// How long an All submission waits for a second admin, in ms.
    pub fn approval_window_ms(&self) -> i64 {
        i64::from(self.approval_hours.unwrap_or(DEFAULT_APPROVAL_HOURS)) * 3_600_000
    }

    /// The origin headers the edges read tags from.
    pub fn tag_sources(&self) -> Vec<String> {
        match &self.tag_sources {
            Some(v) => v.clone(),
            None => crate::domain::tag::DEFAULT_TAG_SOURCES.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

impl std::fmt::Debug for EdgeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EdgeSettings")
            .field("origin_scheme", &self.origin_scheme)
            .field("allow_private_origins", &self.allow_private_origins)
            .field("private_origins_allowed", &self.private_origins_allowed)
            .field("custom_host", &self.custom_host)
            .field("custom_host_pending", &self.custom_host_pending)
            .field("sign_salt", &self.sign_salt.as_ref().map(|_| "<redacted>"))
            .field("sign_length", &self.sign_length)
            .field("sealed", &self.sealed)
            .field("strict_seal", &self.strict_seal)
            .field("no_upscale", &self.no_upscale)
            .field("auto_format", &self.auto_format)
            .field("linear_light", &self.linear_light)
            .field("soft_purge", &self.soft_purge)
            .field("verify", &self.verify)
            .field("tag_sources", &self.tag_sources)
            .field("tag_rules", &self.tag_rules)
            .field("confirm_above_objects", &self.confirm_above_objects)
            .field("confirm_above_bytes", &self.confirm_above_bytes)
            .field("approval_for_all", &self.approval_for_all)
            .field("approval_hours", &self.approval_hours)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum OriginScheme {
    #[default]
    Https,
    Http,
}

impl OriginScheme {
    pub fn as_str(&self) -> &'static str {
        match self {
            OriginScheme::Https => "https",
            OriginScheme::Http => "http",
        }
    }
}

/// A project's settings as its admins change them on the Settings page.
#[derive(Debug, Clone)]
pub struct ProjectSettingsUpdate {
    pub name: String,
    pub origin_hosts: Vec<String>,
    pub max_age_secs: i64,
    pub s_maxage_secs: i64,
    pub edge: EdgeSettings,
}

#[derive(Debug, Clone)]
pub struct NewProject {
    pub token: String,
    pub name: String,
    pub origin_hosts: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub prefix: String,
    pub secret_hash: String,
    pub role: Role,
    pub created: DateTime<Utc>,
    pub last_used: Option<DateTime<Utc>>,
    pub revoked: Option<DateTime<Utc>>,
    /// What the key may purge (none: everything its role allows).
    pub limits: KeyLimits,
    /// Refused (401 `key_expired`) from this time on; `None`: never.
    pub expires: Option<DateTime<Utc>>,
    /// Source networks (CIDRs) it is accepted from; empty: any.
    pub allowed_ips: Vec<String>,
    /// The source address of the last recorded use.
    pub last_used_addr: Option<String>,
    /// The key that replaced it ("roll"); it stays valid until `expires`.
    pub rolled_to: Option<i64>,
}

impl ApiKey {
    /// Active: not revoked and not expired at `now`.
    pub fn active_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked.is_none() && self.expires.is_none_or(|e| e > now)
    }

    /// Where the key stands at `now`: expiring within `soon` of it is
    /// marked (the keys page's warning).
    pub fn state_at(&self, now: DateTime<Utc>, soon: chrono::Duration) -> crate::domain::key_state::KeyState {
        use crate::domain::key_state::KeyState;
        match (self.revoked, self.expires) {
            (Some(_), _) => KeyState::Revoked,
            (None, Some(at)) if at <= now => KeyState::Expired,
            (None, _) if self.rolled_to.is_some() => KeyState::Rolled,
            (None, Some(at)) if at <= now + soon => KeyState::ExpiresSoon { hours: (at - now).num_hours().max(1) },
            (None, _) => KeyState::Active,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub prefix: String,
    pub secret_hash: String,
    pub role: Role,
    pub limits: KeyLimits,
    pub expires_ms: Option<i64>,
    pub allowed_ips: Vec<String>,
}

/// A project's notification hook.
#[derive(Clone)]
pub struct Hook {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub url: String,
    pub secret: Option<String>,
    /// Called on every final status, not only on errors.
    pub every_final: bool,
    pub last_result: Option<String>,
    pub last_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("url", &host_only(&self.url))
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("every_final", &self.every_final)
            .finish()
    }
}

#[derive(Clone)]
pub struct NewHook {
    pub name: String,
    pub url: String,
    pub secret: Option<String>,
    pub every_final: bool,
}

/// A project with its latest invalidation and how many ended in an error.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectSummary {
    pub project: Project,
    pub last_invalidation: Option<DateTime<Utc>>,
    pub invalidations: i64,
    pub errors: i64,
}

/// Only the scheme, host and port: what members who do not manage targets
/// see (the path and query may carry tokens).
pub fn host_only(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(host), Some(port)) => format!("{}://{host}:{port}/", u.scheme()),
            (Some(host), None) => format!("{}://{host}/", u.scheme()),
            _ => "(invalid URL)".to_owned(),
        },
        Err(_) => "(invalid URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::model::User;

    #[test]
    fn debug_output_never_shows_secrets() {
        let user = User {
            id: 1,
            email: "a@x.io".into(),
            password_hash: "$argon2id$v=19$HASH".into(),
            session_epoch: 0,
            instance_role: None,
            last_sign_in: None,
            password_set: true,
        };
        let shown = format!("{user:?}");
        assert!(shown.contains("a@x.io") && !shown.contains("HASH") && !shown.contains("argon2"), "{shown}");
    }
}
