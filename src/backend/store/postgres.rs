use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::Notify;

use super::model::*;
use super::sql::*;
use super::{StoreError, StoreResult};
use crate::domain::{InvalidationId, Role, Status};

const CHANNEL: &str = "imgflush_jobs";

pub struct PgStore {
    pub pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStore { pool })
    }
}

sql_store!(PgStore, sqlx::Postgres, skip_locked = "FOR UPDATE SKIP LOCKED", {
    fn pool(&self) -> super::AnyPool {
        super::AnyPool::Postgres(self.pool.clone())
    }

    fn dialect(&self) -> &'static str {
        "postgres"
    }

    async fn listen_for_jobs(&self, notify: Arc<Notify>) -> StoreResult<()> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(_) => notify.notify_waiters(),
                    Err(e) => {
                        // PgListener reconnects by itself on the next recv.
                        tracing::warn!(error = %e, "job listener interrupted");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(())
    }

    async fn announce_job(&self) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, '')").bind(CHANNEL).execute(&self.pool).await?;
        Ok(())
    }
});
