//! PostgreSQL: connection setup. The queries are in the per-aggregate modules.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgPoolOptions, Postgres};

use super::batch_sizes::{BatchMetrics, BatchSizes};
use super::jobs::{Apply, Claim};
use super::pg_batch::Batcher;
use super::pg_insert::Insert;
use super::writer::Turn;
use super::{Health, PoolSize, StoreResult, ACQUIRE_TIMEOUT};

pub struct PgStore {
    pub(super) pool: PgPool,
    /// New invalidations, stored in batches (`pg_insert.rs`).
    pub(super) inserts: Batcher<Insert>,
    /// The worker's groups of changes, stored in batches (`jobs/pg_group/`).
    pub(super) applies: Batcher<Apply>,
    /// The lanes' claims, made in batches (`jobs/pg_claim.rs`).
    pub(super) claims: Batcher<Claim>,
    /// This store's NOTIFY payload, so that its listener skips its own announcements.
    pub(super) announcer_id: String,
    /// Where the three batchers record their sizes.
    sizes: BatchSizes,
}

impl PgStore {
    /// A short acquire timeout turns an outage into a quick "unavailable"
    /// answer; connections are checked before use and replaced when the
    /// server comes back, so the process survives a restart of PostgreSQL.
    pub async fn connect(url: &str, size: PoolSize) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(size.max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(true)
            .idle_timeout(Duration::from_secs(300))
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let announcer_id = uuid::Uuid::new_v4().simple().to_string();
        let sizes = BatchSizes::default();
        let inserts = super::pg_insert::start(pool.clone(), announcer_id.clone(), sizes.clone());
        let applies = super::jobs::start_applies(pool.clone(), sizes.clone());
        let claims = super::jobs::start_claims(pool.clone(), sizes.clone());
        Ok(PgStore { pool, inserts, applies, claims, announcer_id, sizes })
    }

    /// A pool connection for a write; PostgreSQL has no single writer to
    /// wait for (SQLite's: `sqlite.rs`).
    pub(super) async fn write_conn(&self) -> StoreResult<(PoolConnection<Postgres>, Option<Turn>)> {
        Ok((self.pool.acquire().await?, None))
    }
}

#[async_trait]
impl Health for PgStore {
    fn dialect(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query(super::PING).execute(&self.pool).await?;
        Ok(())
    }

    fn record_batches(&self, metrics: BatchMetrics) {
        self.sizes.set(metrics);
    }
}
