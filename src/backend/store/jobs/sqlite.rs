//! SQLite serialises writers, so the shared claim needs no row locks; every
//! write goes through the store's writer, which commits them in groups.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::*;
use crate::backend::store::error::leased;
use crate::backend::store::rows::ClaimRow;
use crate::backend::store::{JobChange, JobQueue, LeaseToken, SqliteStore, StoreResult};
use crate::domain::InvalidationId;

#[async_trait]
impl JobQueue for SqliteStore {
    async fn claim(&self, owner: &str, lease: &LeaseToken, now_ms: i64, lease_ms: i64) -> StoreResult<Option<Claimed>> {
        let until = now_ms + lease_ms;
        let (owner, token) = (owner.to_owned(), lease.clone());
        self.writer
            .write(move |c| {
                Box::pin(async move {
                    let row: Option<ClaimRow> = sqlx::query_as(CLAIM)
                        .bind(&owner)
                        .bind(token.as_str())
                        .bind(until)
                        .bind(now_ms)
                        .fetch_optional(&mut *c)
                        .await?;
                    row.map(|r| claimed(r, &token, until)).transpose()
                })
            })
            .await
    }

    async fn extend_lease(&self, id: InvalidationId, lease: &LeaseToken, until_ms: i64) -> StoreResult<()> {
        let token = lease.clone();
        self.writer
            .write(move |c| {
                Box::pin(async move {
                    let done = sqlx::query(EXTEND_LEASE)
                        .bind(until_ms)
                        .bind(id.0)
                        .bind(token.as_str())
                        .execute(&mut *c)
                        .await?;
                    leased(done.rows_affected())
                })
            })
            .await
    }

    async fn apply(&self, id: InvalidationId, lease: &LeaseToken, changes: Vec<JobChange>) -> StoreResult<()> {
        let token = lease.clone();
        self.writer.write(move |c| Box::pin(async move { apply_sqlite(c, id, token.as_str(), &changes).await })).await
    }

    // One process owns a SQLite file, so the in-process notify reaches every worker.
    async fn listen_for_jobs(&self, _notify: Arc<Notify>) -> StoreResult<()> {
        Ok(())
    }

    async fn announce_job(&self) -> StoreResult<()> {
        Ok(())
    }
}
