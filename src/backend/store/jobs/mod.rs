//! The worker's queue: claims under a lease, progress, the final status.
//!
//! Every write checks the claim's `lease_token`, so a task whose lease expired
//! cannot overwrite the claim that took the job over (in another process or its own). The statements both dialects
//! share are here. SQLite (`sqlite.rs`) runs one plain statement per change
//! on its writer; PostgreSQL (`postgres.rs`) folds each status change and its
//! event into one statement and claims a batch in one, with LISTEN/NOTIFY.
//!
//! When a lease ends is a time on one clock: on PostgreSQL the database's
//! (`now()`: claims, renewals and handed-over jobs set and compare
//! `lease_until_ms` with it), never a worker's. Workers on several machines
//! compared their own clocks before, so one whose clock ran ahead took over
//! a lease that its holder still used: two claims purging at once. The
//! holder stops by its own monotonic clock (`worker/lease.rs`). SQLite is
//! one machine's file: its processes share that machine's clock.

mod pg_claim;
mod pg_group;
mod postgres;
mod sqlite;

pub(super) use pg_claim::{start as start_claims, Claim};
pub(super) use pg_group::{start as start_applies, Apply};

use super::rows::ClaimRow;
use super::{Claimed, LeaseToken, StoreResult};
use crate::domain::InvalidationId;

fn claimed(row: ClaimRow, lease: &LeaseToken, lease_until_ms: i64) -> StoreResult<Claimed> {
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
const EXTEND_LEASE: &str = "UPDATE invalidations SET lease_until_ms = $1 WHERE id = $2 AND lease_token = $3";
/// PostgreSQL: `$1` the lease's length, from the database's clock (`now()`,
/// the start of the statement's transaction: never before it was sent).
const PG_EXTEND_LEASE: &str =
    "UPDATE invalidations SET lease_until_ms = (extract(epoch FROM now()) * 1000)::bigint + $1 \
     WHERE id = $2 AND lease_token = $3";
/// A target's result, while the claim's lease holds.
const RECORD_TARGET: &str = "UPDATE invalidation_targets SET state = $1, attempts = attempts + $2, detail = $3, \
     duration_ms = $4, updated_ms = $5, verified = $9, verify_note = $10 \
     WHERE invalidation_id = $6 AND target_id = $7 \
     AND EXISTS (SELECT 1 FROM invalidations WHERE id = $6 AND lease_token = $8)";
