//! Why a data command stopped.

/// Why a data command stopped; the sentence names what to do.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Carrying on would lose or damage data, or the input is not what it
    /// should be: nothing was changed.
    #[error("{0}")]
    Refused(String),
    #[error("{what}: {cause}")]
    Io { what: String, cause: std::io::Error },
    #[error("{what}: {cause}")]
    Database { what: String, cause: String },
}

impl DataError {
    pub(super) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> DataError {
        let what = what.into();
        move |cause| DataError::Io { what, cause }
    }

    pub(super) fn db<E: std::fmt::Display>(what: impl Into<String>) -> impl FnOnce(E) -> DataError {
        let what = what.into();
        move |cause| DataError::Database { what, cause: cause.to_string() }
    }
}
