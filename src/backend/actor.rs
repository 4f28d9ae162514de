//! Who is calling: a signed-in user or an API key, already resolved to one
//! project and one role in it. Every service method takes one and checks the
//! role itself, so no entry point can forget to.

use super::error::ServiceError;
use super::store::{Project, Submitter};
use crate::domain::Role;

/// The caller, already resolved to one project and one role in it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub project: Project,
    pub role: Role,
    pub submitter: Submitter,
}

impl Actor {
    /// The operator at the command line: admin of the project it names.
    /// Only the CLI builds one; it already holds the database credentials.
    pub fn operator(project: Project) -> Actor {
        Actor { project, role: Role::Admin, submitter: Submitter::User { id: 0, email: "operator (CLI)".into() } }
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
