//! The audit trail's rows, and where a request came from.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a request came from, as the front door saw it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestMeta {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl RequestMeta {
    /// At most 256 characters of the user agent (it is the client's text).
    pub fn new(ip: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        let user_agent = user_agent.map(|ua| ua.chars().filter(|c| !c.is_control()).take(256).collect());
        RequestMeta { ip, user_agent }
    }
}

/// One audit row as written.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    pub at_ms: i64,
    /// `None` for instance-wide events (sign-ins).
    pub project_id: Option<i64>,
    pub actor: String,
    pub user_id: Option<i64>,
    pub api_key_id: Option<i64>,
    pub meta: RequestMeta,
    pub action: &'static str,
    pub detail: String,
}

/// One audit row as read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub project_id: Option<i64>,
    /// The project's token, while the project exists.
    pub project: Option<String>,
    pub actor: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub action: String,
    pub detail: String,
}

/// A page of the audit trail: newest first, filtered, by keyset.
#[derive(Debug, Clone)]
pub struct AuditQuery {
    pub project_id: Option<i64>,
    pub action: Option<String>,
    pub actor: Option<String>,
    /// Only rows with an id below this one.
    pub before: Option<i64>,
    pub limit: i64,
}

impl Default for AuditQuery {
    fn default() -> Self {
        AuditQuery { project_id: None, action: None, actor: None, before: None, limit: 50 }
    }
}
