use super::StoreResult;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists: {0}")]
    Conflict(&'static str),
    #[error("the lease on this job was lost")]
    LeaseLost,
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// Unique constraints and what a clash means: PostgreSQL reports the
/// constraint name, SQLite only the columns in its message.
const UNIQUE: [(&str, &str, &str); 4] = [
    ("users_email_key", "users.email", "a user with this e-mail"),
    ("projects_token_key", "projects.token", "a project with this token"),
    ("targets_project_name_key", "targets.project_id, targets.name", "a target with this name in the project"),
    (
        "invalidations_idempotency_key",
        "invalidations.project_id, invalidations.idempotency_key",
        "an invalidation with this Idempotency-Key",
    ),
];

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
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
