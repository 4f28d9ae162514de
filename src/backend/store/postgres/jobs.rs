//! PostgreSQL: instances share the queue, so a claim locks its rows (skipping
//! the rows another instance is claiming) and LISTEN/NOTIFY wakes the other
//! instances' workers. Every statement is a round trip to the server, so a
//! batch is claimed in one statement and a status change is stored with its
//! event row in one (a data-modifying CTE).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;

use super::{claim, group};
use crate::backend::model::{Claimed, LeaseToken};
use crate::backend::store::error::leased;
use crate::backend::store::error::StoreResult;
use crate::backend::store::jobs::*;
use crate::backend::store::{JobChange, JobQueue, PgStore, QueueStats, StoreError};
use crate::domain::InvalidationId;

/// A status change and its event row; the attempt, or no row once the lease
/// is lost. `$1` status, `$2` time, `$3` id, `$4` lease, `$5` note.
const TRANSITION_PG: &str = "WITH changed AS ( \
        UPDATE invalidations SET status = $1, updated_ms = $2 WHERE id = $3 AND lease_token = $4 RETURNING attempt) \
     INSERT INTO invalidation_events (invalidation_id, status, attempt, note, at_ms) \
     SELECT $3, $1, attempt, $5, $2 FROM changed RETURNING attempt";

/// The final status and its event row; the lease is released. `$1` status,
/// `$2` error, `$3` time, `$4` id, `$5` lease, `$6` the event's note, `$7`
/// notified as it ends.
const FINISH_PG: &str = "WITH changed AS ( \
        UPDATE invalidations SET status = $1, error = $2, finished_ms = $3, updated_ms = $3, \
        lease_owner = NULL, lease_token = NULL, lease_until_ms = NULL, \
        notified_ms = CASE WHEN $7 THEN $3 ELSE notified_ms END \
        WHERE id = $4 AND lease_token = $5 RETURNING attempt) \
     INSERT INTO invalidation_events (invalidation_id, status, attempt, note, at_ms) \
     SELECT $4, $1, attempt, $6, $3 FROM changed RETURNING attempt";

/// A result row per target not resolved yet (existing rows keep their state),
/// all in one statement; 1 while the lease holds, else 0. `$1` time, `$2` id,
/// `$3` lease, `$4`/`$5`/`$6` the targets' ids, kinds and names.
const TARGETS_PG: &str = "WITH held AS ( \
        UPDATE invalidations SET updated_ms = $1 WHERE id = $2 AND lease_token = $3 RETURNING id), \
     added AS ( \
        INSERT INTO invalidation_targets (invalidation_id, target_id, kind, name, updated_ms) \
        SELECT held.id, t.target_id, t.kind, t.name, $1 \
        FROM held, UNNEST($4::bigint[], $5::text[], $6::text[]) AS t(target_id, kind, name) \
        ON CONFLICT (invalidation_id, target_id) DO NOTHING) \
     SELECT count(*) FROM held";

const CHANNEL: &str = "imgflush_jobs";

#[async_trait]
impl JobQueue for PgStore {
    async fn claim_many(
        &self,
        owner: &str,
        leases: Vec<LeaseToken>,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<Vec<Claimed>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        // With the claims of other lanes, in one statement (`claim.rs`).
        claim::claim(&self.claims, owner, leases, now_ms, lease_ms).await
    }

    async fn extend_lease(
        &self,
        id: InvalidationId,
        lease: &LeaseToken,
        _now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<()> {
        let done =
            sqlx::query(PG_EXTEND_LEASE).bind(lease_ms).bind(id.0).bind(lease.as_str()).execute(&self.pool).await?;
        leased(done.rows_affected())
    }

    async fn give_way(&self, id: InvalidationId, lease: &LeaseToken, until_ms: i64) -> StoreResult<()> {
        let done = sqlx::query(PG_GIVE_WAY).bind(until_ms).bind(id.0).bind(lease.as_str()).execute(&self.pool).await?;
        leased(done.rows_affected())
    }

    async fn apply(&self, id: InvalidationId, lease: &LeaseToken, changes: Vec<JobChange>) -> StoreResult<()> {
        // With the groups of other jobs, in one statement (`group/`).
        if group::groupable(&changes) {
            let lease = lease.as_str().to_owned();
            return self.applies.call(|reply| group::Apply { id, lease, changes, reply }).await;
        }
        let mut tx = self.pool.begin().await?;
        for change in &changes {
            apply_one(&mut tx, id, lease.as_str(), change).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn listen_for_jobs(&self, notify: Arc<Notify>) -> StoreResult<()> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        let me = self.announcer_id.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    // This instance's own submissions woke a lane already.
                    Ok(n) if n.payload() == me => {}
                    // One lane: it wakes the next when it claims a full batch
                    // (`Worker::try_execute_batch`), so a backlog is shared
                    // without every idle lane claiming at once for one job.
                    Ok(_) => notify.notify_one(),
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
        sqlx::query(ANNOUNCE).bind(&self.announcer_id).execute(&self.pool).await?;
        Ok(())
    }

    async fn queue_stats(&self) -> StoreResult<QueueStats> {
        self.read_queue_stats().await
    }
}

/// One change in one statement (SQLite's `apply_sqlite` runs the same steps
/// as plain statements); the caller's transaction holds a group together.
async fn apply_one(c: &mut sqlx::PgConnection, id: InvalidationId, lease: &str, change: &JobChange) -> StoreResult<()> {
    match change {
        JobChange::Status { status, note, at_ms } => {
            sqlx::query(TRANSITION_PG)
                .bind(status.code())
                .bind(at_ms)
                .bind(id.0)
                .bind(lease)
                .bind(note)
                .fetch_optional(&mut *c)
                .await?
                .ok_or(StoreError::LeaseLost)?;
        }
        JobChange::Targets { targets, at_ms } => {
            let ids: Vec<i64> = targets.iter().map(|t| t.id).collect();
            let kinds: Vec<&str> = targets.iter().map(|t| t.kind.as_str()).collect();
            let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
            let (held,): (i64,) = sqlx::query_as(TARGETS_PG)
                .bind(at_ms)
                .bind(id.0)
                .bind(lease)
                .bind(&ids)
                .bind(&kinds)
                .bind(&names)
                .fetch_one(&mut *c)
                .await?;
            leased(held as u64)?;
        }
        JobChange::Target { outcome: o, at_ms } => {
            let done = sqlx::query(RECORD_TARGET)
                .bind(o.state.as_str())
                .bind(o.attempts)
                .bind(&o.detail)
                .bind(o.duration_ms)
                .bind(at_ms)
                .bind(id.0)
                .bind(o.target_id)
                .bind(lease)
                .bind(o.verified)
                .bind(&o.verify_note)
                .execute(&mut *c)
                .await?;
            leased(done.rows_affected())?;
        }
        JobChange::Finish { status, error, note, at_ms, notified } => {
            sqlx::query(FINISH_PG)
                .bind(status.code())
                .bind(error)
                .bind(at_ms)
                .bind(id.0)
                .bind(lease)
                .bind(error.as_deref().or(note.as_deref()))
                .bind(notified)
                .fetch_optional(&mut *c)
                .await?
                .ok_or(StoreError::LeaseLost)?;
        }
    }
    Ok(())
}
