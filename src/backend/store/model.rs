use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{InvalidationId, Role, Scope, Status, TargetKind};

pub fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Project {
    pub id: i64,
    pub token: String,
    pub name: String,
    pub origin_hosts: Vec<String>,
    pub max_age_secs: i64,
    pub s_maxage_secs: i64,
}

#[derive(Debug, Clone)]
pub struct NewProject {
    pub token: String,
    pub name: String,
    pub origin_hosts: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Membership {
    pub project: Project,
    pub role: Role,
}

#[derive(Clone)]
pub struct Target {
    pub id: i64,
    pub project_id: i64,
    pub kind: TargetKind,
    pub name: String,
    pub url: String,
    pub secret: Option<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("url", &self.url)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

#[derive(Clone)]
pub struct NewTarget {
    pub kind: TargetKind,
    pub name: String,
    pub url: String,
    pub secret: Option<String>,
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
}

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub prefix: String,
    pub secret_hash: String,
    pub role: Role,
}

/// Who asked for an invalidation: shown in the log.
#[derive(Debug, Clone)]
pub enum Submitter {
    User { id: i64, email: String },
    ApiKey { id: i64, name: String },
}

impl Submitter {
    pub fn label(&self) -> String {
        match self {
            Submitter::User { email, .. } => email.clone(),
            Submitter::ApiKey { name, .. } => format!("API key {name}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewInvalidation {
    pub id: InvalidationId,
    pub project_id: i64,
    pub scope: Scope,
    pub paths: Vec<String>,
    pub submitter: Submitter,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub now_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Invalidation {
    pub id: InvalidationId,
    pub project_id: i64,
    pub scope: Scope,
    pub paths: Vec<String>,
    pub status: Status,
    pub attempt: i32,
    pub submitted_by: String,
    pub error: Option<String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    pub request_hash: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Keyset cursor: only rows with an id strictly below it (ids are UUID v7, so time-ordered).
    pub before: Option<InvalidationId>,
    pub status: Option<Status>,
    /// Matches an Invalidation ID exactly, or a submitted path exactly or by prefix.
    pub search: Option<String>,
    pub limit: i64,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery { before: None, status: None, search: None, limit: 20 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StatusEvent {
    pub status: Status,
    pub attempt: i32,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetState {
    Pending,
    Ok,
    Error,
    Skipped,
}

impl TargetState {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::Pending => "pending",
            TargetState::Ok => "ok",
            TargetState::Error => "error",
            TargetState::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => TargetState::Pending,
            "ok" => TargetState::Ok,
            "error" => TargetState::Error,
            "skipped" => TargetState::Skipped,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetResult {
    pub target_id: i64,
    pub kind: TargetKind,
    pub name: String,
    pub state: TargetState,
    pub attempts: i32,
    pub detail: Option<String>,
    pub duration_ms: Option<i64>,
    pub updated: DateTime<Utc>,
}

/// One finished purge call (or run of calls) against one target.
#[derive(Debug, Clone)]
pub struct TargetOutcome {
    pub target_id: i64,
    pub state: TargetState,
    pub attempts: i32,
    pub detail: Option<String>,
    pub duration_ms: i64,
}
