//! What a service call can fail with; each entry point maps it to its own
//! answer (a console error, a JSON API error, a CLI message).

use super::store::StoreError;
use crate::domain::{FieldError, Role};

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("your role ({0}) does not allow this")]
    Forbidden(Role),
    /// An API key limited to path prefixes, tags or scopes asked for more:
    /// the first path or tag outside its limits, named.
    #[error("{0}")]
    OutsideKeyLimits(String),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// The database cannot be reached right now; the caller may retry after
    /// [`ServiceError::RETRY_AFTER_SECS`].
    #[error("the database is unavailable; retry in {} s", ServiceError::RETRY_AFTER_SECS)]
    Unavailable,
    #[error(transparent)]
    Store(StoreError),
    /// A failure on our side that is not the database's (e.g. hashing).
    #[error("{0}")]
    Internal(String),
}

impl ServiceError {
    /// What a `503` tells the client to wait before trying again.
    pub const RETRY_AFTER_SECS: u64 = 5;

    /// One invalid field with the message that says how to fix it.
    pub fn field(field: &str, message: impl Into<String>) -> ServiceError {
        ServiceError::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::NotFound,
            StoreError::Conflict(what) => ServiceError::Conflict(what.to_owned()),
            StoreError::Unavailable(e) => {
                tracing::warn!(error = %e, "database unavailable");
                ServiceError::Unavailable
            }
            other => ServiceError::Store(other),
        }
    }
}
