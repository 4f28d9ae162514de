use super::StoreResult;

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

/// Unique constraints and what a clash means: PostgreSQL reports the
/// constraint name, SQLite only the columns in its message.
const UNIQUE: [(&str, &str, &str); 5] = [
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
}
