//! PostgreSQL: jobs' whole groups of changes, many jobs in one statement.
//!
//! The worker stores its changes in groups (claimed → the first purge step;
//! the results → the final status). Change by change that is a round trip per
//! status, per event, per target, plus BEGIN and COMMIT. Here a group is part
//! of one statement ([`GROUPS`]): the invalidation row takes the group's last
//! status (and the final fields when the group ends with Finish), every
//! status change gets its event row in order with its own time, and the
//! target rows are added or updated, all only while the lease holds and
//! every result has its row. A group this cannot express (Finish before
//! other changes, new target rows and results together, one target twice)
//! goes change by change.
//!
//! The groups of different jobs that arrive together share the statement
//! (queued as `batch.rs` describes): with the API busy beside the worker,
//! a statement and a commit per group is what PostgreSQL spends its CPU on.

mod fold;

use std::collections::HashSet;

use fold::Group;
use sqlx::PgPool;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::batch::{self, Batcher, Write};
use crate::backend::store::batch_sizes::{BatchKind, BatchSizes};
use crate::backend::store::{JobChange, StoreError, StoreResult};
use crate::domain::InvalidationId;

/// One applier, as one inserter (`insert.rs`): the batches grow with the load.
const APPLIERS: usize = 1;
/// Most groups in one statement.
const MAX_BATCH: usize = 64;

/// The groups of one or more jobs: one element per job in `$1`…`$8` (id,
/// lease, last status or NULL, last time the row changed or NULL, ends with
/// Finish, error, Finish marks it notified, how many results), and the
/// events (`$9`…`$12`), new target rows (`$13`…`$17`) and results
/// (`$18`…`$26`) of all of them, each naming its job. Nothing of a job is
/// written unless its lease holds and each of its results has its row (as
/// change by change, where a missing row fails the group). Answers the jobs
/// written whole: the lease held and every result was stored.
const GROUPS: &str = "WITH j AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], \
        $5::bool[], $6::text[], $7::bool[], $8::bigint[]) \
        AS j(id, lease, status, at_ms, finish, error, notified, results)), \
     r AS (SELECT * FROM unnest($18::uuid[], $19::bigint[], $20::text[], $21::int[], $22::text[], $23::bigint[], \
        $24::bigint[], $25::bool[], $26::text[]) \
        AS r(job, target_id, state, attempts, detail, duration_ms, at_ms, verified, verify_note)), \
     inv AS ( \
        UPDATE invalidations i SET status = COALESCE(j.status, i.status), updated_ms = COALESCE(j.at_ms, i.updated_ms), \
        error = CASE WHEN j.finish THEN j.error ELSE i.error END, \
        finished_ms = CASE WHEN j.finish THEN j.at_ms ELSE i.finished_ms END, \
        lease_owner = CASE WHEN j.finish THEN NULL ELSE i.lease_owner END, \
        lease_token = CASE WHEN j.finish THEN NULL ELSE i.lease_token END, \
        lease_until_ms = CASE WHEN j.finish THEN NULL ELSE i.lease_until_ms END, \
        notified_ms = CASE WHEN j.finish AND j.notified THEN j.at_ms ELSE i.notified_ms END \
        FROM j WHERE i.id = j.id AND i.lease_token = j.lease \
        AND j.results = (SELECT count(*) FROM r JOIN invalidation_targets it \
            ON it.invalidation_id = r.job AND it.target_id = r.target_id WHERE r.job = j.id) \
        RETURNING i.id, i.attempt), \
     ev AS ( \
        INSERT INTO invalidation_events (invalidation_id, status, attempt, note, at_ms) \
        SELECT e.job, e.status, inv.attempt, e.note, e.at_ms \
        FROM unnest($9::uuid[], $10::text[], $11::text[], $12::bigint[]) WITH ORDINALITY AS e(job, status, note, at_ms, n) \
        JOIN inv ON inv.id = e.job ORDER BY e.n), \
     added AS ( \
        INSERT INTO invalidation_targets (invalidation_id, target_id, kind, name, updated_ms) \
        SELECT t.job, t.target_id, t.kind, t.name, t.at_ms \
        FROM unnest($13::uuid[], $14::bigint[], $15::text[], $16::text[], $17::bigint[]) \
            AS t(job, target_id, kind, name, at_ms) \
        JOIN inv ON inv.id = t.job \
        ON CONFLICT (invalidation_id, target_id) DO NOTHING), \
     results AS ( \
        UPDATE invalidation_targets it SET state = r.state, attempts = it.attempts + r.attempts, \
        detail = r.detail, duration_ms = r.duration_ms, updated_ms = r.at_ms, verified = r.verified, \
        verify_note = r.verify_note \
        FROM r JOIN inv ON inv.id = r.job \
        WHERE it.invalidation_id = r.job AND it.target_id = r.target_id RETURNING r.job) \
     SELECT j.id FROM j WHERE EXISTS (SELECT 1 FROM inv WHERE inv.id = j.id) \
        AND j.results = (SELECT count(*) FROM results WHERE results.job = j.id)";

/// Whether [`GROUPS`] can store `changes` (else they go change by change).
pub(super) fn groupable(changes: &[JobChange]) -> bool {
    Group::of(changes).is_some()
}

/// A job's group of changes waiting for its batch, and who to tell.
pub(in crate::backend::store) struct Apply {
    pub(super) id: InvalidationId,
    pub(super) lease: String,
    pub(super) changes: Vec<JobChange>,
    pub(super) reply: oneshot::Sender<StoreResult<()>>,
}

/// The queue of groups (each [`groupable`]) in front of the applier.
pub(in crate::backend::store) fn start(pool: PgPool, sizes: BatchSizes) -> Batcher<Apply> {
    Batcher::start(pool, APPLIERS, MAX_BATCH, (sizes, BatchKind::Apply), |pool, batch| Box::pin(store(pool, batch)))
}

async fn store(pool: PgPool, batch: Vec<Apply>) {
    // A job twice in one statement would update its row once: the second
    // of its groups goes alone, after the batch (a lane applies its groups
    // one after the other, so this is only a lease that changed hands).
    let mut seen = HashSet::new();
    let (batch, later): (Vec<Apply>, Vec<Apply>) = batch.into_iter().partition(|a| seen.insert(a.id));
    batch::store(&pool, &(), batch).await;
    for a in later {
        batch::alone(&pool, &(), a).await;
    }
}

impl Write for Apply {
    type Ctx = ();
    /// The jobs written whole.
    type Stored = HashSet<Uuid>;

    async fn store_many(pool: &PgPool, _: &(), batch: &[Self]) -> StoreResult<Self::Stored> {
        apply_groups(pool, batch).await
    }

    /// Whether its group was written ([`StoreError::LeaseLost`] if not).
    fn answer(batch: Vec<Self>, written: Self::Stored) {
        for a in batch {
            let _ = a.reply.send(if written.contains(&a.id.0) { Ok(()) } else { Err(StoreError::LeaseLost) });
        }
    }

    fn fail(self, e: StoreError) {
        let _ = self.reply.send(Err(e));
    }
}

/// Every job's group in one statement (one transaction): the jobs written.
async fn apply_groups(pool: &PgPool, batch: &[Apply]) -> StoreResult<HashSet<Uuid>> {
    let mut b = Batch::default();
    for a in batch {
        let g = Group::of(&a.changes).ok_or_else(|| StoreError::Corrupt("ungroupable changes queued".into()))?;
        b.push(a.id.0, &a.lease, g);
    }
    let written: Vec<Uuid> = sqlx::query_scalar(GROUPS)
        .bind(&b.id)
        .bind(&b.lease)
        .bind(&b.status)
        .bind(&b.at_ms)
        .bind(&b.finish)
        .bind(&b.error)
        .bind(&b.notified)
        .bind(&b.results)
        .bind(&b.e_job)
        .bind(&b.all.ev_status)
        .bind(&b.all.ev_note)
        .bind(&b.all.ev_at)
        .bind(&b.t_job)
        .bind(&b.all.t_id)
        .bind(&b.all.t_kind)
        .bind(&b.all.t_name)
        .bind(&b.all.t_at)
        .bind(&b.r_job)
        .bind(&b.all.r_target)
        .bind(&b.all.r_state)
        .bind(&b.all.r_attempts)
        .bind(&b.all.r_detail)
        .bind(&b.all.r_duration)
        .bind(&b.all.r_at)
        .bind(&b.all.r_verified)
        .bind(&b.all.r_note)
        .fetch_all(pool)
        .await?;
    Ok(written.into_iter().collect())
}

/// Many jobs' groups as [`GROUPS`]' arrays: one element per job, and
/// every job's events, new target rows and results one after the other in
/// `all` (its own fields unused), each with its job in `*_job`.
#[derive(Default)]
struct Batch<'a> {
    id: Vec<Uuid>,
    lease: Vec<&'a str>,
    status: Vec<Option<&'static str>>,
    at_ms: Vec<Option<i64>>,
    finish: Vec<bool>,
    error: Vec<Option<&'a str>>,
    notified: Vec<bool>,
    results: Vec<i64>,
    e_job: Vec<Uuid>,
    t_job: Vec<Uuid>,
    r_job: Vec<Uuid>,
    all: Group<'a>,
}

impl<'a> Batch<'a> {
    fn push(&mut self, id: Uuid, lease: &'a str, g: Group<'a>) {
        self.id.push(id);
        self.lease.push(lease);
        self.status.push(g.last_status);
        self.at_ms.push(g.last_ms);
        self.finish.push(g.finish);
        self.error.push(g.error);
        self.notified.push(g.notified);
        self.results.push(g.r_target.len() as i64);
        self.e_job.extend(std::iter::repeat_n(id, g.ev_status.len()));
        self.t_job.extend(std::iter::repeat_n(id, g.t_id.len()));
        self.r_job.extend(std::iter::repeat_n(id, g.r_target.len()));
        let all = &mut self.all;
        all.ev_status.extend(g.ev_status);
        all.ev_note.extend(g.ev_note);
        all.ev_at.extend(g.ev_at);
        all.t_id.extend(g.t_id);
        all.t_kind.extend(g.t_kind);
        all.t_name.extend(g.t_name);
        all.t_at.extend(g.t_at);
        all.r_target.extend(g.r_target);
        all.r_state.extend(g.r_state);
        all.r_attempts.extend(g.r_attempts);
        all.r_detail.extend(g.r_detail);
        all.r_duration.extend(g.r_duration);
        all.r_at.extend(g.r_at);
        all.r_verified.extend(g.r_verified);
        all.r_note.extend(g.r_note);
    }
}
