//! SQLite serialises writers, so the shared claim needs no row locks.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::*;
use crate::backend::store::error::leased;
use crate::backend::store::invalidations::insert_event;
use crate::backend::store::rows::ClaimRow;
use crate::backend::store::{
    Claimed, JobQueue, LeaseToken, SqliteStore, StoreError, StoreResult, Target, TargetOutcome,
};
use crate::domain::{InvalidationId, Status};

#[async_trait]
impl JobQueue for SqliteStore {
    async fn claim(&self, owner: &str, lease: &LeaseToken, now_ms: i64, lease_ms: i64) -> StoreResult<Option<Claimed>> {
        let until = now_ms + lease_ms;
        let row: Option<ClaimRow> = sqlx::query_as(CLAIM)
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

    async fn transition(
        &self,
        id: InvalidationId,
        lease: &LeaseToken,
        status: Status,
        note: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let (attempt,): (i32,) = sqlx::query_as(TRANSITION)
            .bind(status.code())
            .bind(now_ms)
            .bind(id.0)
            .bind(lease.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::LeaseLost)?;
        insert_event(id, status, attempt, note, now_ms).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn resolve_targets(
        &self,
        id: InvalidationId,
        lease: &LeaseToken,
        targets: &[Target],
        now_ms: i64,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let held = sqlx::query(TOUCH_LEASED).bind(now_ms).bind(id.0).bind(lease.as_str()).execute(&mut *tx).await?;
        leased(held.rows_affected())?;
        for t in targets {
            sqlx::query(INSERT_TARGET)
                .bind(id.0)
                .bind(t.id)
                .bind(t.kind.as_str())
                .bind(&t.name)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn record_target_result(
        &self,
        id: InvalidationId,
        lease: &LeaseToken,
        o: &TargetOutcome,
        now_ms: i64,
    ) -> StoreResult<()> {
        let done = sqlx::query(RECORD_TARGET)
            .bind(o.state.as_str())
            .bind(o.attempts)
            .bind(&o.detail)
            .bind(o.duration_ms)
            .bind(now_ms)
            .bind(id.0)
            .bind(o.target_id)
            .bind(lease.as_str())
            .bind(o.verified)
            .bind(&o.verify_note)
            .execute(&self.pool)
            .await?;
        leased(done.rows_affected())
    }

    async fn finish(
        &self,
        id: InvalidationId,
        lease: &LeaseToken,
        status: Status,
        error: Option<&str>,
        note: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let (attempt,): (i32,) = sqlx::query_as(FINISH)
            .bind(status.code())
            .bind(error)
            .bind(now_ms)
            .bind(id.0)
            .bind(lease.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::LeaseLost)?;
        insert_event(id, status, attempt, error.or(note), now_ms).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    // One process owns a SQLite file, so the in-process notify reaches every worker.
    async fn listen_for_jobs(&self, _notify: Arc<Notify>) -> StoreResult<()> {
        Ok(())
    }

    async fn announce_job(&self) -> StoreResult<()> {
        Ok(())
    }
}
