//! Cancelling a queued invalidation before any worker claims it, and
//! pruning invalidations past the project's retention.

use async_trait::async_trait;
use uuid::Uuid;

use super::invalidations::insert_event;
use super::rows::InvalidationRow;
use super::seed::Seed;
use super::{Invalidation, SeedRow, StoreError, StoreResult};
use crate::domain::{InvalidationId, Status};

/// Cancelling queued invalidations and pruning old ones.
#[async_trait]
pub trait HousekeepingStore {
    /// Cancels a `RECEIVED` invalidation no worker has claimed. `NotFound`
    /// if absent, [`NOT_CANCELLABLE`] once claimed or in any other status.
    async fn cancel_received(
        &self,
        project_id: i64,
        id: InvalidationId,
        by: &str,
        now_ms: i64,
    ) -> StoreResult<Invalidation>;
    /// The two-person rule: an `AWAITING_APPROVAL` invalidation approved
    /// (queued at once) or rejected (CANCELLED), with its event's `note`.
    /// `NotFound` if absent, [`NOT_AWAITING`] in any other status.
    async fn decide_approval(
        &self,
        project_id: i64,
        id: InvalidationId,
        approved: bool,
        note: &str,
        now_ms: i64,
    ) -> StoreResult<Invalidation>;
    /// Cancels every request not approved by its deadline; answers how many.
    async fn expire_approvals(&self, now_ms: i64) -> StoreResult<u64>;
    async fn retention_days(&self, project_id: i64) -> StoreResult<i64>;
    async fn set_retention_days(&self, project_id: i64, days: i64) -> StoreResult<()>;
    /// Every project's id and retention in days.
    async fn retentions(&self) -> StoreResult<Vec<(i64, i64)>>;
    /// Stores finished invalidations as they are (with their paths and a
    /// RECEIVED and a final event each), in one transaction: `server seed`,
    /// for measuring the log as it grows. No worker, no audit.
    async fn seed_invalidations(&self, project_id: i64, rows: &[SeedRow]) -> StoreResult<()>;
    /// Deletes the project's final invalidations created before `before_ms`; answers how many.
    async fn prune_invalidations(&self, project_id: i64, before_ms: i64) -> StoreResult<u64>;
}

/// Only while `RECEIVED` and unclaimed: a claim and a cancel are each one
/// atomic UPDATE, so exactly one of them wins.
const CANCEL: &str = "UPDATE invalidations SET status = 'CANCELLED', finished_ms = $1, updated_ms = $1 \
     WHERE project_id = $2 AND id = $3 AND status IN ('RECEIVED', 'AWAITING_APPROVAL') AND lease_owner IS NULL \
     RETURNING id, project_id, scope, paths, status, attempt, submitted_by, error, created_ms, updated_ms, \
     finished_ms, request_hash, not_before_ms";
/// The two-person rule's decision: approved, it is queued at once; rejected,
/// it ends CANCELLED. `$4` the new status, `$5` its finished time (NULL when queued).
const DECIDE: &str = "UPDATE invalidations SET status = $4, updated_ms = $1, finished_ms = $5, \
     next_run_ms = CASE WHEN not_before_ms > $1 THEN not_before_ms ELSE $1 END \
     WHERE project_id = $2 AND id = $3 AND status = 'AWAITING_APPROVAL' \
     RETURNING id, project_id, scope, paths, status, attempt, submitted_by, error, created_ms, updated_ms, \
     finished_ms, request_hash, not_before_ms";
/// Requests nobody approved in time (their `next_run_ms` is the deadline).
const EXPIRE: &str = "UPDATE invalidations SET status = 'CANCELLED', finished_ms = $1, updated_ms = $1 \
     WHERE status = 'AWAITING_APPROVAL' AND next_run_ms < $1 RETURNING id, attempt";
const EXISTS: &str = "SELECT status FROM invalidations WHERE project_id = $1 AND id = $2";
const RETENTION: &str = "SELECT retention_days FROM projects WHERE id = $1";
const SET_RETENTION: &str = "UPDATE projects SET retention_days = $2 WHERE id = $1";
const ALL_RETENTIONS: &str = "SELECT id, retention_days FROM projects ORDER BY id";
/// Only final invalidations: nothing a worker may still be running.
const PRUNE: &str = "DELETE FROM invalidations WHERE project_id = $1 AND created_ms < $2 \
     AND status IN ('DONE', 'ERROR', 'ERROR_CDN_NODE', 'CANCELLED')";

pub const NOT_AWAITING: StoreError = StoreError::Conflict("only an invalidation awaiting approval");
pub const NOT_CANCELLABLE: StoreError = StoreError::Conflict("only a RECEIVED invalidation no worker has claimed");

both_dialects! {
    #[async_trait]
    impl HousekeepingStore for Db {
        async fn cancel_received(
            &self,
            project_id: i64,
            id: InvalidationId,
            by: &str,
            now_ms: i64,
        ) -> StoreResult<Invalidation> {
            let (mut conn, _turn) = self.write_conn().await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let row: Option<InvalidationRow> =
                sqlx::query_as(CANCEL).bind(now_ms).bind(project_id).bind(id.0).fetch_optional(&mut *tx).await?;
            let Some(row) = row else {
                drop(tx);
                let _: (String,) = sqlx::query_as(EXISTS).bind(project_id).bind(id.0).fetch_one(&mut *conn).await?;
                return Err(NOT_CANCELLABLE);
            };
            let inv: Invalidation = row.try_into()?;
            let note = format!("cancelled by {by}");
            insert_event(id, Status::Cancelled, inv.attempt, Some(&note), now_ms).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(inv)
        }

        async fn decide_approval(
            &self,
            project_id: i64,
            id: InvalidationId,
            approved: bool,
            note: &str,
            now_ms: i64,
        ) -> StoreResult<Invalidation> {
            let (mut conn, _turn) = self.write_conn().await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let status = if approved { Status::Received } else { Status::Cancelled };
            let finished = (!approved).then_some(now_ms);
            let row: Option<InvalidationRow> = sqlx::query_as(DECIDE)
                .bind(now_ms)
                .bind(project_id)
                .bind(id.0)
                .bind(status.code())
                .bind(finished)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                drop(tx);
                let _: (String,) = sqlx::query_as(EXISTS).bind(project_id).bind(id.0).fetch_one(&mut *conn).await?;
                return Err(NOT_AWAITING);
            };
            let inv: Invalidation = row.try_into()?;
            insert_event(id, status, inv.attempt, Some(note), now_ms).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(inv)
        }

        async fn expire_approvals(&self, now_ms: i64) -> StoreResult<u64> {
            let (mut conn, _turn) = self.write_conn().await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let rows: Vec<(Uuid, i32)> = sqlx::query_as(EXPIRE).bind(now_ms).fetch_all(&mut *tx).await?;
            for (id, attempt) in &rows {
                let note = "not approved in time: nothing was purged";
                insert_event(InvalidationId(*id), Status::Cancelled, *attempt, Some(note), now_ms).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(rows.len() as u64)
        }

        async fn retention_days(&self, project_id: i64) -> StoreResult<i64> {
            let (days,): (i64,) = sqlx::query_as(RETENTION).bind(project_id).fetch_one(&self.pool).await?;
            Ok(days)
        }

        async fn set_retention_days(&self, project_id: i64, days: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(SET_RETENTION).bind(project_id).bind(days).execute(&mut *conn).await?;
            super::error::one_row(done.rows_affected())
        }

        async fn retentions(&self) -> StoreResult<Vec<(i64, i64)>> {
            Ok(sqlx::query_as(ALL_RETENTIONS).fetch_all(&self.pool).await?)
        }

        async fn seed_invalidations(&self, project_id: i64, rows: &[SeedRow]) -> StoreResult<()> {
            Seed::seed(self, project_id, rows).await
        }

        async fn prune_invalidations(&self, project_id: i64, before_ms: i64) -> StoreResult<u64> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(PRUNE).bind(project_id).bind(before_ms).execute(&mut *conn).await?;
            Ok(done.rows_affected())
        }
    }
}
