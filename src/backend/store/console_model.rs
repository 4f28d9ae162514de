//! The operator's console's rows: members, the projects overview, the audit
//! trail, notification hooks, and status changes for the live log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Project;
use crate::domain::{InvalidationId, Role, Status};

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
            .field("url", &crate::backend::targets::host_only(&self.url))
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

/// One status change, as the live log hears of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub project_id: i64,
    pub id: InvalidationId,
    pub status: Status,
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
    pub meta: crate::backend::audit::RequestMeta,
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

/// A project with its latest invalidation and how many ended in an error.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectSummary {
    pub project: Project,
    pub last_invalidation: Option<DateTime<Utc>>,
    pub invalidations: i64,
    pub errors: i64,
}

/// A user as the owners' Users page shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct UserSummary {
    pub id: i64,
    pub email: String,
    pub instance_role: Option<crate::domain::InstanceRole>,
    pub last_sign_in: Option<DateTime<Utc>>,
    /// How many projects they are a member of.
    pub projects: i64,
}

/// A member of a project as its admins see them.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
    pub last_sign_in: Option<DateTime<Utc>>,
    /// Whether the member has not accepted yet: a new account that has
    /// never set a password, or an existing one asked to join.
    pub invited: bool,
    /// Asked to join (an existing account): not a member, no access, until
    /// they accept with their own password.
    pub pending: bool,
}

/// What an invitation link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationKind {
    /// Sets the password of a new account (which the issuing project already lists).
    Password,
    /// Asks an existing account to join a project; works only with that
    /// account's own password.
    Join,
}

impl InvitationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationKind::Password => "password",
            InvitationKind::Join => "join",
        }
    }

    pub fn parse(raw: &str) -> Option<InvitationKind> {
        match raw {
            "password" => Some(InvitationKind::Password),
            "join" => Some(InvitationKind::Join),
            _ => None,
        }
    }
}

/// A link to issue: for whom, what it does, and which project issued it
/// (with the role it offers).
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub user_id: i64,
    pub kind: InvitationKind,
    pub project_id: Option<i64>,
    pub role: Option<Role>,
}

/// An open (unused, unexpired) link, resolved from its token.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub user_id: i64,
    pub email: String,
    pub kind: InvitationKind,
    pub project_id: Option<i64>,
    pub project_name: Option<String>,
    pub role: Option<Role>,
    pub expires: DateTime<Utc>,
}

/// A join link used: the membership it made.
#[derive(Debug, Clone)]
pub struct Joined {
    pub user_id: i64,
    pub project_id: i64,
    pub role: Role,
}

/// One finished invalidation as `server seed` stores it.
#[derive(Debug, Clone)]
pub struct SeedRow {
    pub id: InvalidationId,
    pub paths: Vec<String>,
    pub status: Status,
    pub error: Option<String>,
    pub created_ms: i64,
    pub finished_ms: i64,
}
