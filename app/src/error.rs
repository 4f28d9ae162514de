use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

pub use imgflush::domain::FieldError;

/// What a server function can answer besides its value. Messages are safe to
/// show: internal causes are logged on the server, never sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("Your session has ended. Please sign in again.")]
    Unauthorized,
    #[error("Your role does not allow this.")]
    Forbidden,
    #[error("Not found.")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{}", summary(.0))]
    Invalid(Vec<FieldError>),
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The database is unreachable for now (the answer is a 503 with `Retry-After`).
    #[error("The database is unavailable; retry in {0} s.")]
    Unavailable(u64),
    #[error("The request could not be completed: {0}")]
    Transport(String),
}

fn summary(errors: &[FieldError]) -> String {
    errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ")
}

impl AppError {
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            AppError::Invalid(errors) => errors,
            _ => &[],
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = crate::codec::StrJson;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}
