//! PostgreSQL: instances share the queue, so a claim locks its rows (skipping
//! the rows another instance is claiming) and LISTEN/NOTIFY wakes the other
//! instances' workers. Every statement is a round trip to the server, so a
//! batch is claimed in one statement and a status change is stored with its
//! event row in one (a data-modifying CTE).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::PgListener;
use sqlx::{FromRow, Row};
use tokio::sync::Notify;

use super::pg_group;
use super::*;
use crate::backend::store::error::leased;
use crate::backend::store::{JobChange, JobQueue, PgStore, StoreError};

/// Up to `$5` of the oldest runnable jobs (queued or in flight, due, with no
/// live lease), each under its own lease token: the `n`-th oldest gets
/// `$2[n]`. `$1` owner, `$3` lease end, `$4` now. Rows another instance is
/// claiming at the same moment are skipped, not waited for. With each job,
/// its project's setup version (none once the project is gone).
const CLAIM_BATCH: &str = "WITH picked AS ( \
        SELECT id, next_run_ms FROM invalidations \
        WHERE status IN ('RECEIVED', 'PREPARING', 'FLUSHINGCLOUDIMAGESERVER', 'FLUSHINGCDNSERVERS') \
        AND next_run_ms <= $4 AND (lease_until_ms IS NULL OR lease_until_ms < $4) \
        ORDER BY next_run_ms, id LIMIT $5 FOR UPDATE SKIP LOCKED), \
     ranked AS (SELECT id, row_number() OVER (ORDER BY next_run_ms, id) AS n FROM picked) \
     UPDATE invalidations i SET lease_owner = $1, lease_token = ($2::text[])[ranked.n], lease_until_ms = $3, \
        claims = i.claims + 1 \
     FROM ranked WHERE i.id = ranked.id AND (i.lease_until_ms IS NULL OR i.lease_until_ms < $4) \
     RETURNING ranked.n, i.id, i.project_id, i.scope, i.paths, i.status, i.attempt, i.submitted_by, i.error, \
        i.created_ms, i.updated_ms, i.finished_ms, i.request_hash, i.claims, \
        (SELECT p.setup_version FROM projects p WHERE p.id = i.project_id) AS setup_version";

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
        let until = now_ms + lease_ms;
        let tokens: Vec<&str> = leases.iter().map(LeaseToken::as_str).collect();
        let rows = sqlx::query(CLAIM_BATCH)
            .bind(owner)
            .bind(&tokens)
            .bind(until)
            .bind(now_ms)
            .bind(leases.len() as i64)
            .fetch_all(&self.pool)
            .await?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let n: i64 = row.try_get("n")?;
            let lease = usize::try_from(n - 1).ok().and_then(|i| leases.get(i)).ok_or(StoreError::LeaseLost)?;
            jobs.push((n, claimed(ClaimRow::from_row(&row)?, lease, until)?));
        }
        // Oldest first, as the leases were handed out.
        jobs.sort_by_key(|(n, _)| *n);
        Ok(jobs.into_iter().map(|(_, job)| job).collect())
    }

    async fn extend_lease(&self, id: InvalidationId, lease: &LeaseToken, until_ms: i64) -> StoreResult<()> {
        let done = sqlx::query(EXTEND_LEASE).bind(until_ms).bind(id.0).bind(lease.as_str()).execute(&self.pool).await?;
        leased(done.rows_affected())
    }

    async fn apply(&self, id: InvalidationId, lease: &LeaseToken, changes: Vec<JobChange>) -> StoreResult<()> {
        // One statement is a transaction of its own.
        let mut conn = self.pool.acquire().await?;
        if pg_group::apply_group(&mut conn, id, lease.as_str(), &changes).await? {
            return Ok(());
        }
        drop(conn);
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
