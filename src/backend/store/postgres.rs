//! PostgreSQL: connection setup. The queries are in the per-aggregate modules.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgPool, PgPoolOptions};

use super::writer::Turn;
use super::{Health, PoolSize, StoreResult, ACQUIRE_TIMEOUT};

pub struct PgStore {
    pub(super) pool: PgPool,
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
        Ok(PgStore { pool })
    }

    /// PostgreSQL has no single writer to wait for (SQLite's: `sqlite.rs`).
    pub(super) async fn write_turn(&self) -> StoreResult<Option<Turn>> {
        Ok(None)
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
}
