#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists: {0}")]
    Conflict(&'static str),
    #[error("the lease on this job was lost")]
    LeaseLost,
    /// The database cannot be reached right now (connection lost or refused,
    /// pool exhausted, server shutting down, SQLite busy): worth retrying.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Unique constraints and what a clash means: PostgreSQL reports the
/// constraint name, SQLite only the columns in its message.
const UNIQUE: [(&str, &str, &str); 6] = [
    ("users_email_key", "users.email", "a user with this e-mail"),
    ("projects_token_key", "projects.token", "a project with this token"),
    ("targets_project_name_key", "targets.project_id, targets.name", "a target with this name in the project"),
    (
        "notification_hooks_project_name_key",
        "notification_hooks.project_id, notification_hooks.name",
        "a hook with this name in the project",
    ),
    (
        "invalidations_idempotency_key",
        "invalidations.project_id, invalidations.idempotency_key",
        "an invalidation with this Idempotency-Key",
    ),
    ("passkeys_credential_id_key", "passkeys.credential_id", "this passkey, registered already"),
];

/// PostgreSQL SQLSTATEs that say the server, not the statement, is the
/// problem: connection exceptions (class 08), too many connections, admin /
/// crash shutdown, cannot connect now.
const PG_UNAVAILABLE: [&str; 4] = ["53300", "57P01", "57P02", "57P03"];

/// Whether `e` means "the database is not there right now" rather than
/// "this statement is wrong": callers answer 503 and retry.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some(code) if code.starts_with("08") || PG_UNAVAILABLE.contains(&code) => true,
            // A database closed to new connections (ALTER DATABASE … ALLOW_CONNECTIONS false).
            Some("55000") => db.message().contains("not currently accepting connections"),
            // SQLite: SQLITE_BUSY and SQLITE_LOCKED (another process holds the write lock).
            Some("5" | "6" | "261" | "262" | "517" | "773") => true,
            _ => false,
        },
        _ => false,
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_unavailable(&e) {
            return StoreError::Unavailable(e);
        }
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) => {
                let clash = UNIQUE.iter().find(|(constraint, columns, _)| {
                    db.constraint() == Some(*constraint)
                        || db.message().contains(&format!("UNIQUE constraint failed: {columns}"))
                });
                match clash {
                    Some((_, _, what)) => StoreError::Conflict(what),
                    None => StoreError::Database(e),
                }
            }
            _ => StoreError::Database(e),
        }
    }
}

/// An error of a rusqlite connection (the writer's or a reader's), read as
/// the pool's errors are: the same codes (extended result codes) and messages,
/// so a busy database is "unavailable" and a UNIQUE clash a conflict.
pub(super) fn sqlite_error(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(failure, message) => {
            let message = message.unwrap_or_else(|| failure.to_string());
            StoreError::from(sqlx::Error::Database(Box::new(WriterError { code: failure.extended_code, message })))
        }
        other => StoreError::Database(sqlx::Error::Decode(Box::new(other))),
    }
}

/// A SQLite failure seen by the writer's connection, in sqlx's terms.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct WriterError {
    code: std::ffi::c_int,
    message: String,
}

impl sqlx::error::DatabaseError for WriterError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<std::borrow::Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY, _FOREIGNKEY, _NOTNULL, _CHECK.
        match self.code {
            2067 | 1555 => sqlx::error::ErrorKind::UniqueViolation,
            787 => sqlx::error::ErrorKind::ForeignKeyViolation,
            1299 => sqlx::error::ErrorKind::NotNullViolation,
            275 => sqlx::error::ErrorKind::CheckViolation,
            _ => sqlx::error::ErrorKind::Other,
        }
    }
}

/// An UPDATE or DELETE by key that touched nothing: the row is not there.
pub(super) fn one_row(affected: u64) -> StoreResult<()> {
    if affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// A write guarded by `lease_owner` that touched nothing: another worker holds the job.
pub(super) fn leased(affected: u64) -> StoreResult<()> {
    if affected == 0 {
        Err(StoreError::LeaseLost)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_class_errors_are_unavailable() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        for e in [io, sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed] {
            assert!(matches!(StoreError::from(e), StoreError::Unavailable(_)));
        }
        assert!(matches!(StoreError::from(sqlx::Error::RowNotFound), StoreError::NotFound));
        assert!(matches!(StoreError::from(sqlx::Error::ColumnNotFound("x".into())), StoreError::Database(_)));
    }

    #[test]
    fn the_writers_errors_read_as_the_pools() {
        let failure = |code: std::ffi::c_int, message: &str| {
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(message.to_owned()))
        };
        let busy = failure(5, "database is locked");
        assert!(matches!(sqlite_error(busy), StoreError::Unavailable(_)));
        let clash = failure(2067, "UNIQUE constraint failed: invalidations.project_id, invalidations.idempotency_key");
        assert!(matches!(sqlite_error(clash), StoreError::Conflict("an invalidation with this Idempotency-Key")));
        assert!(matches!(sqlite_error(rusqlite::Error::QueryReturnedNoRows), StoreError::NotFound));
        assert!(matches!(sqlite_error(failure(1, "no such table: x")), StoreError::Database(_)));
    }
}
