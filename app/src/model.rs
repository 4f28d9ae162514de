//! What the server functions send to the pages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use imgflush::domain::{Role, Scope, Status, TargetKind};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectRef {
    pub token: String,
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub email: String,
    pub projects: Vec<ProjectRef>,
}

impl Me {
    pub fn project(&self, token: &str) -> Option<&ProjectRef> {
        self.projects.iter().find(|p| p.token == token)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRow {
    pub id: String,
    pub status: Status,
    pub scope: Scope,
    pub created: DateTime<Utc>,
    pub paths: Vec<String>,
    pub submitted_by: String,
    pub attempt: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogPage {
    pub rows: Vec<LogRow>,
    /// Cursor for the next (older) page, when there is one.
    pub next: Option<String>,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventView {
    pub status: Status,
    pub attempt: i32,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetResultView {
    pub name: String,
    pub kind: TargetKind,
    pub state: String,
    pub attempts: i32,
    pub detail: Option<String>,
    pub duration_ms: Option<i64>,
    pub updated: DateTime<Utc>,
    /// The node's proof (the project's verify setting); `None`: not checked.
    pub verified: Option<bool>,
    pub verify_note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetailView {
    pub row: LogRow,
    pub error: Option<String>,
    pub finished: Option<DateTime<Utc>>,
    pub events: Vec<EventView>,
    pub targets: Vec<TargetResultView>,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetView {
    pub id: i64,
    pub kind: TargetKind,
    pub name: String,
    /// The URL with any credentials removed.
    pub url: String,
    pub has_secret: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsView {
    pub token: String,
    pub name: String,
    pub origin_hosts: Vec<String>,
    pub max_age_secs: i64,
    pub s_maxage_secs: i64,
    /// `https` or `http`.
    pub origin_scheme: String,
    pub custom_host: Option<String>,
    /// Whether URLs must be signed (the salt itself never leaves the server).
    pub signing: bool,
    pub sign_length: u8,
    pub sealed: bool,
    pub soft_purge: bool,
    pub verify: bool,
    pub targets: Vec<TargetView>,
    pub role: Role,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyView {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub role: Role,
    pub created: DateTime<Utc>,
    pub last_used: Option<DateTime<Utc>>,
    pub revoked: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeysView {
    pub keys: Vec<KeyView>,
    pub role: Role,
}

/// A freshly created key: the only time its secret leaves the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub name: String,
    pub secret: String,
}
