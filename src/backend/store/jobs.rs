//! The worker's queue: claims under a lease, progress, the final status.
//!
//! Every write checks the claim's `lease_token`, so a task whose lease expired
//! cannot overwrite the claim that took the job over (in another process or its own). The statements both dialects
//! share are here. SQLite (`sqlite/jobs.rs`) runs one plain statement per change
//! on its writer; PostgreSQL (`postgres/jobs.rs`) folds each status change and its
//! event into one statement and claims a batch in one, with LISTEN/NOTIFY.
//!
//! When a lease ends is a time on one clock: on PostgreSQL the database's
//! (`now()`: claims, renewals and handed-over jobs set and compare
//! `lease_until_ms` with it), never a worker's. Workers on several machines
//! compared their own clocks before, so one whose clock ran ahead took over
//! a lease that its holder still used: two claims purging at once. The
//! holder stops by its own monotonic clock (`worker/lease.rs`). SQLite is
//! one machine's file: its processes share that machine's clock.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::error::StoreResult;
use super::rows::ClaimRow;
use crate::backend::model::{Claimed, JobChange, LeaseToken, QueueStats};
use crate::domain::{InvalidationId, Status};

/// The worker's side: leased jobs and their progress.
///
/// A claim takes a fresh [`LeaseToken`]; every other method takes it back and
/// fails with [`StoreError::LeaseLost`] once another claim holds the job.
#[async_trait]
pub trait JobQueue {
    /// Claims the oldest runnable job (queued, or in flight with an expired
    /// lease) for `owner` under `lease`, counting the claim against the attempt.
    async fn claim(&self, owner: &str, lease: &LeaseToken, now_ms: i64, lease_ms: i64) -> StoreResult<Option<Claimed>> {
        Ok(self.claim_many(owner, vec![lease.clone()], now_ms, lease_ms).await?.pop())
    }
    /// Up to one job per lease in `leases`, oldest first, as [`Self::claim`]
    /// each; fewer when fewer are runnable. Both dialects claim them in one
    /// write (SQLite one writer op, PostgreSQL one statement).
    async fn claim_many(
        &self,
        owner: &str,
        leases: Vec<LeaseToken>,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<Vec<Claimed>>;
    /// Makes the lease end `lease_ms` from now: the claimer's `now_ms` on
    /// SQLite (one machine's clock), the database's own clock on PostgreSQL,
    /// which also decides when a claim may take a lease over (see `store/jobs.rs`).
    async fn extend_lease(&self, id: InvalidationId, lease: &LeaseToken, now_ms: i64, lease_ms: i64)
        -> StoreResult<()>;
    /// Gives the job back without a final status: the lease is cleared, the
    /// job runs again at `until_ms`, and this claim does not count as one
    /// that abandoned it (a provider's rate limit made the job wait, nothing
    /// failed).
    async fn give_way(&self, id: InvalidationId, lease: &LeaseToken, until_ms: i64) -> StoreResult<()>;
    /// Stores `changes` in order, in one transaction, while the lease is
    /// held: all of them or none ([`StoreError::LeaseLost`] once another claim
    /// holds the job). Each change keeps its own time; the worker groups the
    /// changes that happen between two calls to the outside world.
    async fn apply(&self, id: InvalidationId, lease: &LeaseToken, changes: Vec<JobChange>) -> StoreResult<()>;
    /// Final status: records it, clears the lease.
    async fn finish(
        &self,
        id: InvalidationId,
        lease: &LeaseToken,
        status: Status,
        error: Option<&str>,
        note: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<()> {
        let change = JobChange::Finish {
            status,
            error: error.map(str::to_owned),
            note: note.map(str::to_owned),
            at_ms: now_ms,
            // The notifier looks for the project's hooks.
            notified: false,
        };
        self.apply(id, lease, vec![change]).await
    }
    /// Wakes `notify` whenever any instance queues a job (PostgreSQL LISTEN);
    /// a no-op where the in-process notify already covers every producer.
    async fn listen_for_jobs(&self, notify: Arc<Notify>) -> StoreResult<()>;
    async fn announce_job(&self) -> StoreResult<()>;
    /// How many invalidations are in each status, the oldest RECEIVED and
    /// active ones, and every purge target's name (see [`QueueStats`]).
    async fn queue_stats(&self) -> StoreResult<QueueStats>;
}

pub(super) fn claimed(row: ClaimRow, lease: &LeaseToken, lease_until_ms: i64) -> StoreResult<Claimed> {
    Ok(Claimed {
        job: row.job.try_into()?,
        lease: lease.clone(),
        lease_until_ms,
        claims: row.claims,
        setup_version: row.setup_version,
    })
}

/// Wakes every instance's worker (PostgreSQL; they LISTEN on `imgflush_jobs`);
/// `$1` names the announcing store, whose own lanes were woken already.
pub(super) const ANNOUNCE: &str = "SELECT pg_notify('imgflush_jobs', $1)";

/// SQLite: `$1` the end of the lease.
pub(super) const GIVE_WAY: &str = "UPDATE invalidations SET lease_token = NULL, lease_until_ms = NULL, \
     next_run_ms = $1, claims = MAX(claims - 1, 0) WHERE id = $2 AND lease_token = $3";
pub(super) const PG_GIVE_WAY: &str = "UPDATE invalidations SET lease_token = NULL, lease_until_ms = NULL, \
     next_run_ms = $1, claims = GREATEST(claims - 1, 0) WHERE id = $2 AND lease_token = $3";

pub(super) const EXTEND_LEASE: &str = "UPDATE invalidations SET lease_until_ms = $1 WHERE id = $2 AND lease_token = $3";
/// PostgreSQL: `$1` the lease's length, from the database's clock (`now()`,
/// the start of the statement's transaction: never before it was sent).
pub(super) const PG_EXTEND_LEASE: &str =
    "UPDATE invalidations SET lease_until_ms = (extract(epoch FROM now()) * 1000)::bigint + $1 \
     WHERE id = $2 AND lease_token = $3";
/// A target's result, while the claim's lease holds.
pub(super) const RECORD_TARGET: &str =
    "UPDATE invalidation_targets SET state = $1, attempts = attempts + $2, detail = $3, \
     duration_ms = $4, updated_ms = $5, verified = $9, verify_note = $10 \
     WHERE invalidation_id = $6 AND target_id = $7 \
     AND EXISTS (SELECT 1 FROM invalidations WHERE id = $6 AND lease_token = $8)";

const BY_STATUS: &str = "SELECT status, COUNT(*) FROM invalidations GROUP BY status";
const OLDEST_RECEIVED: &str = "SELECT MIN(updated_ms) FROM invalidations WHERE status = 'RECEIVED'";
/// The statuses of `invalidations_runnable_idx`: a worker's to move.
const OLDEST_ACTIVE: &str =
    "SELECT MIN(CASE WHEN next_run_ms > updated_ms THEN next_run_ms ELSE updated_ms END) FROM invalidations \
     WHERE status IN ('RECEIVED', 'PREPARING', 'FLUSHINGCLOUDIMAGESERVER', 'FLUSHINGCDNSERVERS')";
const TARGET_NAMES: &str =
    "SELECT p.token, t.name, t.kind FROM targets t JOIN projects p ON p.id = t.project_id ORDER BY t.id";

both_dialects! {
    impl Db {
        /// [`JobQueue::queue_stats`], the same in both dialects.
        pub(super) async fn read_queue_stats(&self) -> StoreResult<QueueStats> {
            let by_status: Vec<(String, i64)> = sqlx::query_as(BY_STATUS).fetch_all(&self.pool).await?;
            let oldest_received_ms: Option<i64> = sqlx::query_scalar(OLDEST_RECEIVED).fetch_one(&self.pool).await?;
            let oldest_active_ms: Option<i64> = sqlx::query_scalar(OLDEST_ACTIVE).fetch_one(&self.pool).await?;
            let targets: Vec<(String, String, String)> = sqlx::query_as(TARGET_NAMES).fetch_all(&self.pool).await?;
            Ok(QueueStats { by_status, oldest_received_ms, oldest_active_ms, targets })
        }
    }
}
