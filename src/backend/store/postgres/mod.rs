//! PostgreSQL: the connection, and the batchers that store inserts, claims
//! and the worker's progress in few statements. The queries are in the
//! per-aggregate modules.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, PgPoolOptions, Postgres};

use batch::Batcher;
use claim::Claim;
use group::Apply;
use insert::Insert;

use super::batch_sizes::{BatchMetrics, BatchSizes};
use super::error::StoreResult;
use super::health::{Health, PING};
use super::pool::{PoolSize, ACQUIRE_TIMEOUT};
use super::sqlite::turn::Turn;

mod batch;
mod claim;
pub mod counts;
mod group;
pub(super) mod insert;
mod jobs;

pub struct PgStore {
    pub(super) pool: PgPool,
    /// New invalidations, stored in batches (`insert.rs`).
    pub(super) inserts: Batcher<Insert>,
    /// The worker's groups of changes, stored in batches (`group/`).
    applies: Batcher<Apply>,
    /// The lanes' claims, made in batches (`claim.rs`).
    claims: Batcher<Claim>,
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
        super::maintenance::POSTGRES_MIGRATIONS.run(&pool).await?;
        let announcer_id = uuid::Uuid::new_v4().simple().to_string();
        let sizes = BatchSizes::default();
        let inserts = insert::start(pool.clone(), announcer_id.clone(), sizes.clone());
        let applies = group::start(pool.clone(), sizes.clone());
        let claims = claim::start(pool.clone(), sizes.clone());
        Ok(PgStore { pool, inserts, applies, claims, announcer_id, sizes })
    }

    /// A pool connection for a write; PostgreSQL has no single writer to
    /// wait for (SQLite's: `store/sqlite/mod.rs`).
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
        sqlx::query(PING).execute(&self.pool).await?;
        Ok(())
    }

    fn record_batches(&self, metrics: BatchMetrics) {
        self.sizes.set(metrics);
    }
}
