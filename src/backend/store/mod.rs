//! Storage behind per-aggregate traits, one plain implementation per SQL dialect.
//!
//! Each aggregate's file holds its SQL once, as constants both dialects run
//! (sqlx accepts `$N` placeholders on SQLite too), then an `impl` for
//! [`SqliteStore`] and one for [`PgStore`]. Where the dialects differ (the job
//! claim, LISTEN/NOTIFY) only the PostgreSQL impl says so. Rows and their
//! conversion to the model live in `rows.rs`.

mod audit;
mod batch_sizes;
mod changes;
mod checkpoint;
mod console;
mod console_model;
mod error;
mod hooks;
mod housekeeping;
mod invalidations;
mod jobs;
mod keys;
mod lite;
mod model;
mod overview;
mod pg_batch;
mod pg_insert;
pub mod postgres;
mod projects;
mod reader;
mod rows;
mod seed;
pub mod sqlite;
mod targets;
mod team;
mod users;
mod writer;

pub use batch_sizes::{BatchKind, BatchMetrics};
pub use console::*;
pub use console_model::*;
pub use error::StoreError;
pub use housekeeping::NOT_CANCELLABLE;
pub use model::*;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use team::LAST_ADMIN;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

use crate::domain::{InvalidationId, Role, Status};

pub type StoreResult<T> = Result<T, StoreError>;

const PING: &str = "SELECT 1";

/// Everything the console, the API and the worker persist.
pub trait Store:
    Health
    + UserStore
    + ProjectStore
    + TeamStore
    + OverviewStore
    + HousekeepingStore
    + AuditStore
    + HookStore
    + ChangeFeed
    + TargetStore
    + KeyStore
    + InvalidationStore
    + JobQueue
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: Health
        + UserStore
        + ProjectStore
        + TeamStore
        + OverviewStore
        + HousekeepingStore
        + AuditStore
        + HookStore
        + ChangeFeed
        + TargetStore
        + KeyStore
        + InvalidationStore
        + JobQueue
        + Send
        + Sync
        + 'static
{
}

pub type DynStore = Arc<dyn Store>;

#[async_trait]
pub trait Health {
    fn dialect(&self) -> &'static str;
    async fn ping(&self) -> StoreResult<()>;
    /// From now on, the sizes of this store's batched writes go to `metrics`
    /// (`imgflush_store_batch_size{kind}`). Once per store: later calls are ignored.
    fn record_batches(&self, metrics: BatchMetrics);
}

#[async_trait]
pub trait UserStore {
    async fn create_user(&self, email: &str, password_hash: &str, now_ms: i64) -> StoreResult<User>;
    async fn user_by_email(&self, email: &str) -> StoreResult<User>;
    async fn user_by_id(&self, id: i64) -> StoreResult<User>;
    /// Sets the password (the account counts as `password_set` from now on),
    /// ends every session and every open password link of the account.
    async fn set_password(&self, user_id: i64, password_hash: &str, now_ms: i64) -> StoreResult<()>;
    async fn count_users(&self) -> StoreResult<i64>;
    /// Removes the user and their memberships; `NotFound` when there is no such user.
    async fn delete_user(&self, user_id: i64) -> StoreResult<()>;
}

/// Projects and who belongs to them.
#[async_trait]
pub trait ProjectStore {
    async fn create_project(&self, new: &NewProject, now_ms: i64) -> StoreResult<Project>;
    async fn project_by_token(&self, token: &str) -> StoreResult<Project>;
    async fn project_by_id(&self, id: i64) -> StoreResult<Project>;
    async fn list_projects(&self) -> StoreResult<Vec<Project>>;
    /// Replaces the settings its admins edit; `NotFound` if the project is gone.
    async fn update_project_settings(&self, id: i64, update: &ProjectSettingsUpdate) -> StoreResult<()>;
    async fn set_membership(&self, user_id: i64, project_id: i64, role: Role) -> StoreResult<()>;
    /// `NotFound` when the user is not a member.
    async fn remove_membership(&self, user_id: i64, project_id: i64) -> StoreResult<()>;
    async fn memberships_of(&self, user_id: i64) -> StoreResult<Vec<Membership>>;
    /// The role of `user_id` in the project with `token`; `NotFound` when the
    /// project does not exist *or* the user is not a member (callers answer 404 alike).
    async fn membership(&self, user_id: i64, token: &str) -> StoreResult<Membership>;
}

/// Purge targets of a project.
#[async_trait]
pub trait TargetStore {
    async fn add_target(&self, project_id: i64, new: &NewTarget, now_ms: i64) -> StoreResult<Target>;
    async fn list_targets(&self, project_id: i64) -> StoreResult<Vec<Target>>;
    async fn target(&self, project_id: i64, target_id: i64) -> StoreResult<Target>;
    async fn update_target_url(&self, project_id: i64, target_id: i64, url: &str) -> StoreResult<()>;
    async fn remove_target(&self, project_id: i64, target_id: i64) -> StoreResult<()>;
}

/// API keys of a project.
#[async_trait]
pub trait KeyStore {
    async fn add_api_key(&self, project_id: i64, new: &NewApiKey, now_ms: i64) -> StoreResult<ApiKey>;
    async fn list_api_keys(&self, project_id: i64) -> StoreResult<Vec<ApiKey>>;
    /// The key with this prefix, with its project (one read).
    async fn api_key_by_prefix(&self, prefix: &str) -> StoreResult<(ApiKey, Project)>;
    async fn touch_api_key(&self, key_id: i64, now_ms: i64) -> StoreResult<()>;
    async fn revoke_api_key(&self, project_id: i64, key_id: i64, now_ms: i64) -> StoreResult<()>;
}

/// Invalidations as submitted and read back; the worker's writes are in [`JobQueue`].
#[async_trait]
pub trait InvalidationStore {
    /// Stores a new invalidation (RECEIVED, with its event and paths) and
    /// tells every instance's workers there is a job (unless it is stored
    /// leased, `NewInvalidation::lease`).
    async fn insert_invalidation(&self, new: &NewInvalidation) -> StoreResult<Inserted>;
    async fn invalidation(&self, project_id: i64, id: InvalidationId) -> StoreResult<Invalidation>;
    /// The invalidation in whichever project holds it (the ID lookup).
    async fn invalidation_anywhere(&self, id: InvalidationId) -> StoreResult<Invalidation>;
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
}

/// The worker's side: leased jobs and their progress.
///
/// A claim takes a fresh [`LeaseToken`]; every other method takes it back and
/// fails with [`StoreError::LeaseLost`] once another claim holds the job.
#[async_trait]
pub trait JobQueue {
    /// Claims the oldest runnable job (queued, or in flight with an expired
    /// lease) for `owner` under `lease`, counting the claim against the attempt.
    async fn claim(&self, owner: &str, lease: &LeaseToken, now_ms: i64, lease_ms: i64) -> StoreResult<Option<Claimed>> {
        Ok(self.claim_many(owner, vec![lease.clone()], now_ms, lease_ms).await?.pop())
    }
    /// Up to one job per lease in `leases`, oldest first, as [`Self::claim`]
    /// each; fewer when fewer are runnable. Both dialects claim them in one
    /// write (SQLite one writer op, PostgreSQL one statement).
    async fn claim_many(
        &self,
        owner: &str,
        leases: Vec<LeaseToken>,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<Vec<Claimed>>;
    /// Makes the lease end `lease_ms` from now: the claimer's `now_ms` on
    /// SQLite (one machine's clock), the database's own clock on PostgreSQL,
    /// which also decides when a claim may take a lease over (see `jobs/`).
    async fn extend_lease(&self, id: InvalidationId, lease: &LeaseToken, now_ms: i64, lease_ms: i64)
        -> StoreResult<()>;
    /// Stores `changes` in order, in one transaction, while the lease is
    /// held: all of them or none ([`StoreError::LeaseLost`] once another claim
    /// holds the job). Each change keeps its own time; the worker groups the
    /// changes that happen between two calls to the outside world.
    async fn apply(&self, id: InvalidationId, lease: &LeaseToken, changes: Vec<JobChange>) -> StoreResult<()>;
    /// Final status: records it, clears the lease.
    async fn finish(
        &self,
        id: InvalidationId,
        lease: &LeaseToken,
        status: Status,
        error: Option<&str>,
        note: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<()> {
        let change = JobChange::Finish {
            status,
            error: error.map(str::to_owned),
            note: note.map(str::to_owned),
            at_ms: now_ms,
            // The notifier looks for the project's hooks.
            notified: false,
        };
        self.apply(id, lease, vec![change]).await
    }
    /// Wakes `notify` whenever any instance queues a job (PostgreSQL LISTEN);
    /// a no-op where the in-process notify already covers every producer.
    async fn listen_for_jobs(&self, notify: Arc<Notify>) -> StoreResult<()>;
    async fn announce_job(&self) -> StoreResult<()>;
}

/// The pool the session store shares with the [`Store`], in its dialect.
#[derive(Clone)]
pub enum SessionDb {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// An open database: the store and, beside it, the pool for sessions.
#[derive(Clone)]
pub struct Connected {
    pub store: DynStore,
    pub sessions: SessionDb,
}

/// How many connections a pool may open. Every worker lane holds at most one
/// connection at a time and so does its lease heartbeat; the console and the
/// API need a few more. Purge calls hold none.
#[derive(Debug, Clone, Copy)]
pub struct PoolSize {
    pub max_connections: u32,
}

impl PoolSize {
    /// Room for `concurrency` lanes, a heartbeat each, and the console.
    pub fn for_worker(concurrency: usize) -> Self {
        PoolSize { max_connections: (2 * concurrency as u32 + 4).max(16) }
    }
}

/// For tools and tests that run no worker of their own: 16 connections.
impl Default for PoolSize {
    fn default() -> Self {
        PoolSize { max_connections: 16 }
    }
}

/// How long a query waits for a pooled connection before the caller answers
/// "the database is unavailable" (503) instead of hanging.
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens the store named by `url` (`sqlite:` or `postgres://`), applying migrations.
pub async fn connect(url: &str) -> StoreResult<Connected> {
    connect_sized(url, PoolSize::default()).await
}

/// [`connect`] with a pool sized for the worker that will use it.
pub async fn connect_sized(url: &str, size: PoolSize) -> StoreResult<Connected> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = PgStore::connect(url, size).await?;
        Ok(Connected { sessions: SessionDb::Postgres(store.pool.clone()), store: Arc::new(store) })
    } else {
        let store = SqliteStore::connect(url, size).await?;
        Ok(Connected { sessions: SessionDb::Sqlite(store.pool.clone()), store: Arc::new(store) })
    }
}
