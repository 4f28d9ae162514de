//! SQLite serialises writers, so the shared claim needs no row locks; every
//! write goes through the store's writer, which commits them in groups.

use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{Connection, ToSql};
use tokio::sync::Notify;

use super::lite::{execute, query_opt};
use crate::backend::model::Claimed;
use crate::backend::store::error::leased;
use crate::backend::store::invalidations::INSERT_EVENT;
use crate::backend::store::jobs::*;
use crate::backend::store::rows::ClaimRow;
use crate::backend::store::{JobChange, JobQueue, LeaseToken, QueueStats, SqliteStore, StoreError, StoreResult};
use crate::domain::{InvalidationId, Status};

/// Takes the oldest runnable job: queued or in flight, due, with no live lease.
/// `$1` owner, `$2` lease token, `$3` lease end, `$4` now; with the job, its
/// project's setup version (none once the project is gone). SQLite's planner
/// is told to walk the runnable index in order (else it sorts the backlog).
const CLAIM: &str = "UPDATE invalidations SET lease_owner = $1, lease_token = $2, lease_until_ms = $3, \
     claims = claims + 1 \
     WHERE id = (SELECT id FROM invalidations INDEXED BY invalidations_runnable_idx \
        WHERE status IN ('RECEIVED', 'PREPARING', 'FLUSHINGCLOUDIMAGESERVER', 'FLUSHINGCDNSERVERS') \
        AND next_run_ms <= $4 AND (lease_until_ms IS NULL OR lease_until_ms < $4) \
        ORDER BY next_run_ms, id LIMIT 1) \
     AND (lease_until_ms IS NULL OR lease_until_ms < $4) \
     RETURNING id, project_id, scope, paths, status, attempt, submitted_by, error, created_ms, updated_ms, \
     finished_ms, request_hash, not_before_ms, claims, \
     (SELECT setup_version FROM projects p WHERE p.id = invalidations.project_id) AS setup_version";

/// A status change (its event row is written beside it); the attempt it belongs to.
const TRANSITION: &str = "UPDATE invalidations SET status = $1, updated_ms = $2 \
     WHERE id = $3 AND lease_token = $4 RETURNING attempt";

/// The lease still holds: the target rows that follow may be written.
const TOUCH_LEASED: &str = "UPDATE invalidations SET updated_ms = $1 WHERE id = $2 AND lease_token = $3";

/// A row per target not yet resolved for this invalidation; existing rows keep their state.
const INSERT_TARGET: &str = "INSERT INTO invalidation_targets (invalidation_id, target_id, kind, name, updated_ms) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (invalidation_id, target_id) DO NOTHING";

/// The final status; the lease is released. `$6`: notified as it ends.
const FINISH: &str = "UPDATE invalidations SET status = $1, error = $2, finished_ms = $3, updated_ms = $3, \
     lease_owner = NULL, lease_token = NULL, lease_until_ms = NULL, \
     notified_ms = CASE WHEN $6 THEN $3 ELSE notified_ms END \
     WHERE id = $4 AND lease_token = $5 RETURNING attempt";

#[async_trait]
impl JobQueue for SqliteStore {
    async fn claim_many(
        &self,
        owner: &str,
        leases: Vec<LeaseToken>,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<Vec<Claimed>> {
        let until = now_ms + lease_ms;
        let owner = owner.to_owned();
        self.writer
            .write(move |c| {
                let mut jobs = Vec::with_capacity(leases.len());
                for token in &leases {
                    let params: [&dyn ToSql; 4] = [&owner, &token.as_str(), &until, &now_ms];
                    match query_opt(c, CLAIM, &params, ClaimRow::from_sqlite)? {
                        Some(row) => jobs.push(claimed(row, token, until)?),
                        None => break,
                    }
                }
                Ok(jobs)
            })
            .await
    }

    async fn extend_lease(
        &self,
        id: InvalidationId,
        lease: &LeaseToken,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<()> {
        let (token, until_ms) = (lease.clone(), now_ms + lease_ms);
        self.writer.write(move |c| leased(execute(c, EXTEND_LEASE, &[&until_ms, &id.0, &token.as_str()])? as u64)).await
    }

    async fn give_way(&self, id: InvalidationId, lease: &LeaseToken, until_ms: i64) -> StoreResult<()> {
        let token = lease.clone();
        self.writer.write(move |c| leased(execute(c, GIVE_WAY, &[&until_ms, &id.0, &token.as_str()])? as u64)).await
    }

    async fn apply(&self, id: InvalidationId, lease: &LeaseToken, changes: Vec<JobChange>) -> StoreResult<()> {
        let token = lease.clone();
        self.writer.write(move |c| apply_sqlite(c, id, token.as_str(), &changes)).await
    }

    // One process owns a SQLite file, so the in-process notify reaches every worker.
    async fn listen_for_jobs(&self, _notify: Arc<Notify>) -> StoreResult<()> {
        Ok(())
    }

    async fn announce_job(&self) -> StoreResult<()> {
        Ok(())
    }

    async fn queue_stats(&self) -> StoreResult<QueueStats> {
        self.read_queue_stats().await
    }
}

/// The changes, on the writer's connection (inside the savepoint the writer
/// rolls back on error), as PostgreSQL's group statement writes them
/// (`postgres/group/`): the target rows and results first, each checking the lease;
/// then the row takes the group's last status (or its final fields) in one
/// update, which checks the lease too; then every status change's event, in
/// order, with its own time. The intermediate statuses were never visible
/// outside this transaction, so one update of the row (and of its status and
/// time indexes) stands for them all. A change after the final status finds
/// the lease gone, as change by change.
fn apply_sqlite(c: &Connection, id: InvalidationId, lease: &str, changes: &[JobChange]) -> StoreResult<()> {
    let mut events: Vec<(Status, Option<&str>, i64)> = Vec::new();
    let mut last: Option<(Status, i64)> = None;
    let mut finish = None;
    let mut touched = None;
    for change in changes {
        if finish.is_some() {
            return Err(StoreError::LeaseLost);
        }
        match change {
            JobChange::Status { status, note, at_ms } => {
                last = Some((*status, *at_ms));
                events.push((*status, note.as_deref(), *at_ms));
            }
            JobChange::Targets { targets, at_ms } => {
                // Their lease check is the row's update below (or the touch).
                touched = Some(*at_ms);
                for t in targets {
                    execute(c, INSERT_TARGET, &[&id.0, &t.id, &t.kind.as_str(), &t.name, at_ms])?;
                }
            }
            JobChange::Target { outcome: o, at_ms } => {
                let params: [&dyn ToSql; 10] = [
                    &o.state.as_str(),
                    &o.attempts,
                    &o.detail,
                    &o.duration_ms,
                    at_ms,
                    &id.0,
                    &o.target_id,
                    &lease,
                    &o.verified,
                    &o.verify_note,
                ];
                leased(execute(c, RECORD_TARGET, &params)? as u64)?;
            }
            JobChange::Finish { status, error, note, at_ms, notified } => {
                events.push((*status, error.as_deref().or(note.as_deref()), *at_ms));
                finish = Some((*status, error, *at_ms, *notified));
            }
        }
    }
    let attempt: i32 = if let Some((status, error, at_ms, notified)) = finish {
        let params: [&dyn ToSql; 6] = [&status.code(), error, &at_ms, &id.0, &lease, &notified];
        query_opt(c, FINISH, &params, |r| r.get(0))?.ok_or(StoreError::LeaseLost)?
    } else if let Some((status, at_ms)) = last {
        // The row's time is its latest change's (target rows may follow the status).
        let at_ms = touched.map_or(at_ms, |t| t.max(at_ms));
        query_opt(c, TRANSITION, &[&status.code(), &at_ms, &id.0, &lease], |r| r.get(0))?
            .ok_or(StoreError::LeaseLost)?
    } else {
        if let Some(at_ms) = touched {
            leased(execute(c, TOUCH_LEASED, &[&at_ms, &id.0, &lease])? as u64)?;
        }
        return Ok(());
    };
    for (status, note, at_ms) in events {
        execute(c, INSERT_EVENT, &[&id.0, &status.code(), &attempt, &note, &at_ms])?;
    }
    Ok(())
}
