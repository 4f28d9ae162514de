//! PostgreSQL: instances share the queue, so the claim locks its row and
//! LISTEN/NOTIFY wakes the other instances' workers.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;

use super::*;
use crate::backend::store::error::leased;
use crate::backend::store::rows::ClaimRow;
use crate::backend::store::{JobChange, JobQueue, LeaseToken, PgStore, StoreResult};
use crate::domain::InvalidationId;

/// [`CLAIM`] with the inner SELECT locking its row, skipping rows other
/// instances are claiming at the same moment.
const CLAIM_SKIP_LOCKED: &str = "UPDATE invalidations SET lease_owner = $1, lease_token = $2, lease_until_ms = $3, \
     claims = claims + 1 \
     WHERE id = (SELECT id FROM invalidations \
        WHERE status IN ('RECEIVED', 'PREPARING', 'FLUSHINGCLOUDIMAGESERVER', 'FLUSHINGCDNSERVERS') \
        AND next_run_ms <= $4 AND (lease_until_ms IS NULL OR lease_until_ms < $4) \
        ORDER BY next_run_ms, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
     AND (lease_until_ms IS NULL OR lease_until_ms < $4) \
     RETURNING id, project_id, scope, paths, status, attempt, submitted_by, error, created_ms, updated_ms, \
     finished_ms, request_hash, claims";
const CHANNEL: &str = "imgflush_jobs";

#[async_trait]
impl JobQueue for PgStore {
    async fn claim(&self, owner: &str, lease: &LeaseToken, now_ms: i64, lease_ms: i64) -> StoreResult<Option<Claimed>> {
        let until = now_ms + lease_ms;
        let row: Option<ClaimRow> = sqlx::query_as(CLAIM_SKIP_LOCKED)
            .bind(owner)
            .bind(lease.as_str())
            .bind(until)
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| claimed(r, lease, until)).transpose()
    }

    async fn extend_lease(&self, id: InvalidationId, lease: &LeaseToken, until_ms: i64) -> StoreResult<()> {
        let done = sqlx::query(EXTEND_LEASE).bind(until_ms).bind(id.0).bind(lease.as_str()).execute(&self.pool).await?;
        leased(done.rows_affected())
    }

    async fn apply(&self, id: InvalidationId, lease: &LeaseToken, changes: Vec<JobChange>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        apply_pg(&mut tx, id, lease.as_str(), &changes).await?;
        tx.commit().await?;
        Ok(())
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
        sqlx::query(ANNOUNCE).execute(&self.pool).await?;
        Ok(())
    }
}
