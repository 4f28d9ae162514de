//! Who is calling: a signed-in user or an API key, already resolved to one
//! project and one role in it. Every service method takes one and checks the
//! role itself, so no entry point can forget to.

use super::error::ServiceError;
use super::model::RequestMeta;
use super::store::{Project, Submitter};
use crate::domain::{InstanceRole, Role};

/// The caller, already resolved to one project and one role in it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub project: Project,
    pub role: Role,
    pub submitter: Submitter,
    /// The user's instance role, if any (`staff` reads every project).
    pub instance: Option<InstanceRole>,
    /// Where the request came from, for the audit trail.
    pub meta: RequestMeta,
}

impl Actor {
    /// The operator at the command line: admin of the project it names.
    /// Only the CLI builds one; it already holds the database credentials.
    pub fn operator(project: Project) -> Actor {
        Actor {
            project,
            role: Role::Admin,
            submitter: Submitter::User { id: 0, email: "operator (CLI)".into() },
            instance: Some(InstanceRole::Owner),
            meta: RequestMeta::default(),
        }
    }

    /// Project admins and the operator's staff (read-only views of admin pages).
    pub(crate) fn require_admin_or_staff(&self) -> Result<(), ServiceError> {
        if self.role.can_manage() || self.instance == Some(InstanceRole::Staff) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(self.role))
        }
    }

    /// The signed-in user's id, if the caller is one (not an API key).
    pub fn user_id(&self) -> Option<i64> {
        match self.submitter {
            Submitter::User { id, .. } => Some(id),
            Submitter::ApiKey { .. } => None,
        }
    }

    /// The same caller, seen coming from `meta` (the front door sets it).
    pub fn from_request(mut self, meta: RequestMeta) -> Actor {
        self.meta = meta;
        self
    }

    /// Changes to the project's setup (settings, targets) are for people and
    /// for admin keys without limits: a key limited to paths, tags or scopes
    /// was made for narrow automation, not to rewire the project.
    pub(crate) fn require_unlimited(&self, what: &str) -> Result<(), ServiceError> {
        match &self.submitter {
            Submitter::ApiKey { limits, .. } if !limits.is_empty() => Err(ServiceError::OutsideKeyLimits(format!(
                "a key limited to paths, tags or scopes cannot change {what}: use an admin key without limits"
            ))),
            _ => Ok(()),
        }
    }

    /// `Forbidden` unless the caller's role passes `allowed`.
    pub(crate) fn require(&self, allowed: fn(&Role) -> bool) -> Result<(), ServiceError> {
        if allowed(&self.role) {
            Ok(())
        } else {
            Err(ServiceError::Forbidden(self.role))
        }
    }
}

/// The client address of a request, as the server's `client_ip` layer
/// resolved it; `None` when the connection has no peer address (in-process tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub Option<std::net::IpAddr>);
