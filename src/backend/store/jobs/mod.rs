//! The worker's queue: claims under a lease, progress, the final status.
//!
//! Every write checks the claim's `lease_token`, so a task whose lease expired
//! cannot overwrite the claim that took the job over (in another process or its own). The statements both dialects
//! share are here; the PostgreSQL impl adds its own claim and LISTEN/NOTIFY.

mod postgres;
mod sqlite;

use super::error::leased;
use super::invalidations::insert_event;
use super::rows::ClaimRow;
use super::{Claimed, JobChange, LeaseToken, StoreError, StoreResult};
use crate::domain::InvalidationId;

fn claimed(row: ClaimRow, lease: &LeaseToken, lease_until_ms: i64) -> StoreResult<Claimed> {
    Ok(Claimed { job: row.job.try_into()?, lease: lease.clone(), lease_until_ms, claims: row.claims })
}

/// Wakes every instance's worker (PostgreSQL; they LISTEN on `imgflush_jobs`).
pub(super) const ANNOUNCE: &str = "SELECT pg_notify('imgflush_jobs', '')";

/// Takes the oldest runnable job: queued or in flight, due, with no live lease.
/// `$1` owner, `$2` lease token, `$3` lease end, `$4` now. SQLite's planner
/// is told to walk the runnable index in order (else it sorts the backlog).
const CLAIM: &str = "UPDATE invalidations SET lease_owner = $1, lease_token = $2, lease_until_ms = $3, \
     claims = claims + 1 \
     WHERE id = (SELECT id FROM invalidations INDEXED BY invalidations_runnable_idx \
        WHERE status IN ('RECEIVED', 'PREPARING', 'FLUSHINGCLOUDIMAGESERVER', 'FLUSHINGCDNSERVERS') \
        AND next_run_ms <= $4 AND (lease_until_ms IS NULL OR lease_until_ms < $4) \
        ORDER BY next_run_ms, id LIMIT 1) \
     AND (lease_until_ms IS NULL OR lease_until_ms < $4) \
     RETURNING id, project_id, scope, paths, status, attempt, submitted_by, error, created_ms, updated_ms, \
     finished_ms, request_hash, claims";
const EXTEND_LEASE: &str = "UPDATE invalidations SET lease_until_ms = $1 WHERE id = $2 AND lease_token = $3";
const TRANSITION: &str = "UPDATE invalidations SET status = $1, updated_ms = $2 \
     WHERE id = $3 AND lease_token = $4 RETURNING attempt";
const TOUCH_LEASED: &str = "UPDATE invalidations SET updated_ms = $1 WHERE id = $2 AND lease_token = $3";
/// A row per target not yet resolved for this invalidation; existing rows keep their state.
const INSERT_TARGET: &str = "INSERT INTO invalidation_targets (invalidation_id, target_id, kind, name, updated_ms) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (invalidation_id, target_id) DO NOTHING";
const RECORD_TARGET: &str = "UPDATE invalidation_targets SET state = $1, attempts = attempts + $2, detail = $3, \
     duration_ms = $4, updated_ms = $5, verified = $9, verify_note = $10 \
     WHERE invalidation_id = $6 AND target_id = $7 \
     AND EXISTS (SELECT 1 FROM invalidations WHERE id = $6 AND lease_token = $8)";
const FINISH: &str = "UPDATE invalidations SET status = $1, error = $2, finished_ms = $3, updated_ms = $3, \
     lease_owner = NULL, lease_token = NULL, lease_until_ms = NULL \
     WHERE id = $4 AND lease_token = $5 RETURNING attempt";

/// The changes in order on a connection already inside a transaction that
/// the caller rolls back on error (SQLite's writer has its own copy,
/// `apply_sqlite`, on its own connection).
async fn apply_pg(
    c: &mut sqlx::PgConnection,
    id: InvalidationId,
    lease: &str,
    changes: &[JobChange],
) -> StoreResult<()> {
    for change in changes {
        match change {
            JobChange::Status { status, note, at_ms } => {
                let (attempt,): (i32,) = sqlx::query_as(TRANSITION)
                    .bind(status.code())
                    .bind(at_ms)
                    .bind(id.0)
                    .bind(lease)
                    .fetch_optional(&mut *c)
                    .await?
                    .ok_or(StoreError::LeaseLost)?;
                insert_event(id, *status, attempt, note.as_deref(), *at_ms).execute(&mut *c).await?;
            }
            JobChange::Targets { targets, at_ms } => {
                let held = sqlx::query(TOUCH_LEASED).bind(at_ms).bind(id.0).bind(lease).execute(&mut *c).await?;
                leased(held.rows_affected())?;
                for t in targets {
                    sqlx::query(INSERT_TARGET)
                        .bind(id.0)
                        .bind(t.id)
                        .bind(t.kind.as_str())
                        .bind(&t.name)
                        .bind(at_ms)
                        .execute(&mut *c)
                        .await?;
                }
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
            JobChange::Finish { status, error, note, at_ms } => {
                let (attempt,): (i32,) = sqlx::query_as(FINISH)
                    .bind(status.code())
                    .bind(error)
                    .bind(at_ms)
                    .bind(id.0)
                    .bind(lease)
                    .fetch_optional(&mut *c)
                    .await?
                    .ok_or(StoreError::LeaseLost)?;
                let said = error.as_deref().or(note.as_deref());
                insert_event(id, *status, attempt, said, *at_ms).execute(&mut *c).await?;
            }
        }
    }
    Ok(())
}
