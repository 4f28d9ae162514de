//! Storage behind one trait, one implementation per SQL dialect.
//!
//! Both dialects share their query text (sqlx accepts `$N` placeholders on
//! SQLite too); the few statements that differ are passed to the
//! [`sql_store!`] macro by the dialect module.

mod model;
#[macro_use]
mod sql;
pub mod postgres;
pub mod sqlite;

pub use model::*;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::domain::{InvalidationId, Role, Status};

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

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything the console, the API and the worker persist.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    fn dialect(&self) -> &'static str;
    /// The underlying pool, for the session store that shares the database.
    fn pool(&self) -> AnyPool;
    async fn ping(&self) -> StoreResult<()>;

    // users and projects
    async fn create_user(&self, email: &str, password_hash: &str) -> StoreResult<User>;
    async fn user_by_email(&self, email: &str) -> StoreResult<User>;
    async fn user_by_id(&self, id: i64) -> StoreResult<User>;
    async fn set_password(&self, user_id: i64, password_hash: &str) -> StoreResult<()>;
    async fn count_users(&self) -> StoreResult<i64>;
    async fn create_project(&self, new: &NewProject) -> StoreResult<Project>;
    async fn project_by_token(&self, token: &str) -> StoreResult<Project>;
    async fn project_by_id(&self, id: i64) -> StoreResult<Project>;
    async fn list_projects(&self) -> StoreResult<Vec<Project>>;
    async fn set_membership(&self, user_id: i64, project_id: i64, role: Role) -> StoreResult<()>;
    async fn memberships_of(&self, user_id: i64) -> StoreResult<Vec<Membership>>;
    /// The role of `user_id` in the project with `token`; `NotFound` when the
    /// project does not exist *or* the user is not a member (callers answer 404 alike).
    async fn membership(&self, user_id: i64, token: &str) -> StoreResult<Membership>;

    // purge targets
    async fn add_target(&self, project_id: i64, new: &NewTarget) -> StoreResult<Target>;
    async fn list_targets(&self, project_id: i64) -> StoreResult<Vec<Target>>;
    async fn target(&self, project_id: i64, target_id: i64) -> StoreResult<Target>;
    async fn update_target_url(&self, project_id: i64, target_id: i64, url: &str) -> StoreResult<()>;
    async fn remove_target(&self, project_id: i64, target_id: i64) -> StoreResult<()>;

    // API keys
    async fn add_api_key(&self, project_id: i64, new: &NewApiKey) -> StoreResult<ApiKey>;
    async fn list_api_keys(&self, project_id: i64) -> StoreResult<Vec<ApiKey>>;
    async fn api_key_by_prefix(&self, prefix: &str) -> StoreResult<ApiKey>;
    async fn touch_api_key(&self, key_id: i64, now_ms: i64) -> StoreResult<()>;
    async fn revoke_api_key(&self, project_id: i64, key_id: i64, now_ms: i64) -> StoreResult<()>;

    // invalidations
    async fn insert_invalidation(&self, new: &NewInvalidation) -> StoreResult<Invalidation>;
    async fn invalidation(&self, project_id: i64, id: InvalidationId) -> StoreResult<Invalidation>;
    async fn invalidation_by_idempotency_key(&self, project_id: i64, key: &str) -> StoreResult<Invalidation>;
    async fn list_invalidations(&self, project_id: i64, query: &ListQuery) -> StoreResult<Vec<Invalidation>>;
    async fn events(&self, id: InvalidationId) -> StoreResult<Vec<StatusEvent>>;
    async fn target_results(&self, id: InvalidationId) -> StoreResult<Vec<TargetResult>>;
    /// Moves an errored invalidation back to the queue. `NotFound` if absent,
    /// `Conflict` if it is not in an error status.
    async fn requeue_for_retry(
        &self,
        project_id: i64,
        id: InvalidationId,
        by: &str,
        now_ms: i64,
    ) -> StoreResult<Invalidation>;

    // worker
    /// Claims the oldest runnable job: queued, or in flight with an expired lease.
    async fn claim(&self, owner: &str, now_ms: i64, lease_ms: i64) -> StoreResult<Option<Invalidation>>;
    async fn extend_lease(&self, id: InvalidationId, owner: &str, until_ms: i64) -> StoreResult<()>;
    /// Sets the status (recording the transition) while the lease is held.
    async fn transition(
        &self,
        id: InvalidationId,
        owner: &str,
        status: Status,
        note: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<()>;
    /// Inserts one pending result row per target, unless rows already exist.
    async fn resolve_targets(
        &self,
        id: InvalidationId,
        owner: &str,
        targets: &[Target],
        now_ms: i64,
    ) -> StoreResult<()>;
    async fn record_target_result(
        &self,
        id: InvalidationId,
        owner: &str,
        outcome: &TargetOutcome,
        now_ms: i64,
    ) -> StoreResult<()>;
    /// Final status: records it, clears the lease.
    async fn finish(
        &self,
        id: InvalidationId,
        owner: &str,
        status: Status,
        error: Option<&str>,
        note: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<()>;

    /// Wakes `notify` whenever any instance queues a job (PostgreSQL LISTEN);
    /// a no-op where the in-process notify already covers every producer.
    async fn listen_for_jobs(&self, notify: Arc<Notify>) -> StoreResult<()>;
    async fn announce_job(&self) -> StoreResult<()>;
}

pub type DynStore = Arc<dyn Store>;

#[derive(Clone)]
pub enum AnyPool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Opens the store named by `url` (`sqlite:` or `postgres://`), applying migrations.
pub async fn connect(url: &str) -> StoreResult<DynStore> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url).await?))
    } else {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    }
}
