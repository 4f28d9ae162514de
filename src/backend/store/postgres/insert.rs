//! PostgreSQL: new invalidations stored in batches (`batch.rs`).
//!
//! Under load most of an API submission's cost is PostgreSQL's own per
//! statement work: executor start-up for the five inserts of one
//! submission (the invalidation, its RECEIVED event, its paths, its audit
//! row), a foreign-key check on a row many transactions lock at once (the
//! project's), and a commit with its WAL flush. So submissions that arrive
//! together are stored together: they queue here, and the inserter takes
//! whatever has queued and stores it with one statement over arrays
//! (`unnest`), in one transaction. Each caller hears back after that commit,
//! with its own row. Alone, a submission waits for nobody.
//!
//! The batch's transaction also NOTIFYs every instance's workers
//! (`imgflush_jobs`, with this store's payload so that its own listener skips
//! it): one commit per batch, not a second transaction per announcement.
//! PostgreSQL serialises the commits of notifying transactions, which costs
//! nothing here: there is one inserter.
//!
//! A batch fails as a whole (a duplicate Idempotency-Key, a project deleted
//! a moment ago): then each of its submissions is stored alone, so each
//! caller gets the answer its own submission deserves.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::oneshot;
use uuid::Uuid;

use super::batch::{self, Batcher, Write};
use crate::backend::model::{Inserted, NewInvalidation};
use crate::backend::store::batch_sizes::{BatchKind, BatchSizes};
use crate::backend::store::error::{StoreError, StoreResult};
use crate::backend::store::rows::{json_list, submitter_ids, ClaimRow};
use crate::domain::Status;

/// One inserter: while its statement runs the next batch queues, so the
/// batches grow with the load. Two or three (measured with the worker
/// running, bench/results/00-notes.md) gave smaller batches and fewer
/// requests per second: PostgreSQL's CPU, not waiting, bounds the rate.
const INSERTERS: usize = 1;
/// Most submissions in one statement: bounds the first one's wait.
const MAX_BATCH: usize = 128;

/// One or more submissions, each with its RECEIVED event, its paths and its
/// audit row, in one statement: `$1`…`$11` are arrays of the invalidations'
/// columns and their events' notes, `$12`…`$20` arrays of the audit rows'
/// columns, one element per submission; `$21` the NOTIFY's payload (the
/// announcer id), sent at the commit unless every submission is stored
/// leased; `$22`…`$24` the leases of the submissions handed straight to a
/// worker (NULL for the queued ones, see `NewInvalidation::lease`), whose
/// length counts from the database's clock (see `store/jobs.rs`). Returns
/// what a claim does: the rows, their claims and their projects' setup versions.
const INSERT_MANY: &str = "WITH input AS (SELECT * FROM unnest($1::uuid[], $2::int8[], $3::text[], $4::text[], \
     $5::text[], $6::int8[], $7::int8[], $8::int8[], $9::text[], $10::text[], $11::text[], $22::text[], \
     $23::text[], $24::int8[], $25::int8[], $26::text[], $27::int8[]) \
     AS t(id, project_id, scope, paths, submitted_by, user_id, api_key_id, now_ms, idempotency_key, \
     request_hash, note, lease_owner, lease_token, lease_until_ms, not_before_ms, status, approve_by_ms)), \
     inv AS (INSERT INTO invalidations (id, project_id, scope, paths, status, attempt, submitted_by, user_id, \
     api_key_id, created_ms, updated_ms, next_run_ms, idempotency_key, request_hash, lease_owner, lease_token, \
     lease_until_ms, claims, not_before_ms) \
     SELECT id, project_id, scope, paths, status, 1, submitted_by, user_id, api_key_id, now_ms, now_ms, \
     COALESCE(approve_by_ms, not_before_ms, now_ms), idempotency_key, request_hash, lease_owner, lease_token, \
     (extract(epoch FROM now()) * 1000)::bigint + (lease_until_ms - now_ms), \
     CASE WHEN lease_token IS NULL THEN 0 ELSE 1 END, not_before_ms FROM input \
     RETURNING id, project_id, scope, paths, status, attempt, submitted_by, error, created_ms, updated_ms, \
     finished_ms, request_hash, not_before_ms, claims), \
     ev AS (INSERT INTO invalidation_events (invalidation_id, status, attempt, note, at_ms) \
     SELECT inv.id, inv.status, 1, input.note, inv.created_ms FROM inv JOIN input ON input.id = inv.id), \
     p AS (INSERT INTO invalidation_paths (invalidation_id, project_id, path) \
     SELECT inv.id, inv.project_id, value FROM inv, jsonb_array_elements_text(inv.paths::jsonb)), \
     au AS (INSERT INTO audit_events (at_ms, project_id, actor, user_id, api_key_id, ip, user_agent, action, \
     detail) SELECT * FROM unnest($12::int8[], $13::int8[], $14::text[], $15::int8[], $16::int8[], \
     $17::text[], $18::text[], $19::text[], $20::text[])), \
     announced AS MATERIALIZED (SELECT count(*) FROM (SELECT pg_notify('imgflush_jobs', $21) FROM input \
     WHERE input.lease_token IS NULL LIMIT 1) n) \
     SELECT inv.*, (SELECT p.setup_version FROM projects p WHERE p.id = inv.project_id) AS setup_version \
     FROM inv, announced";

/// A submission waiting for its batch, and who to tell.
pub(in crate::backend::store) struct Insert {
    new: NewInvalidation,
    reply: oneshot::Sender<StoreResult<Inserted>>,
}

/// The queue of new invalidations in front of the inserter; each batch
/// announces its jobs with `announcer_id` as the NOTIFY's payload.
pub(super) fn start(pool: PgPool, announcer_id: String, sizes: BatchSizes) -> Batcher<Insert> {
    let id: Arc<str> = announcer_id.into();
    Batcher::start(pool, INSERTERS, MAX_BATCH, (sizes, BatchKind::Insert), move |pool, batch| {
        let id = id.clone();
        Box::pin(async move { batch::store(&pool, &id, batch).await })
    })
}

/// Stores `new` in the next batch; its row once that batch has committed.
pub(in crate::backend::store) async fn insert(queue: &Batcher<Insert>, new: NewInvalidation) -> StoreResult<Inserted> {
    queue.call(|reply| Insert { new, reply }).await
}

impl Write for Insert {
    /// The announcer id: the NOTIFY's payload.
    type Ctx = Arc<str>;
    type Stored = HashMap<Uuid, ClaimRow>;

    async fn store_many(pool: &PgPool, announcer_id: &Arc<str>, batch: &[Self]) -> StoreResult<Self::Stored> {
        insert_many(pool, batch, announcer_id).await
    }

    /// Tells each caller its stored row.
    fn answer(batch: Vec<Self>, mut rows: Self::Stored) {
        for Insert { new, reply } in batch {
            let stored = rows
                .remove(&new.id.0)
                .ok_or(StoreError::NotFound)
                .and_then(|row| Ok(Inserted { invalidation: row.job.try_into()?, setup_version: row.setup_version }));
            let _ = reply.send(stored);
        }
    }

    fn fail(self, e: StoreError) {
        let _ = self.reply.send(Err(e));
    }
}

/// The batch's rows by id, once committed.
async fn insert_many(pool: &PgPool, batch: &[Insert], announcer_id: &str) -> StoreResult<HashMap<Uuid, ClaimRow>> {
    let mut c = Columns::default();
    for Insert { new, .. } in batch {
        c.push(new);
    }
    let rows: Vec<ClaimRow> = sqlx::query_as(INSERT_MANY)
        .bind(c.id)
        .bind(c.project_id)
        .bind(c.scope)
        .bind(c.paths)
        .bind(c.submitted_by)
        .bind(c.user_id)
        .bind(c.api_key_id)
        .bind(c.now_ms)
        .bind(c.idempotency_key)
        .bind(c.request_hash)
        .bind(c.note)
        .bind(c.at_ms)
        .bind(c.audit_project_id)
        .bind(c.actor)
        .bind(c.audit_user_id)
        .bind(c.audit_api_key_id)
        .bind(c.ip)
        .bind(c.user_agent)
        .bind(c.action)
        .bind(c.detail)
        .bind(announcer_id)
        .bind(c.lease_owner)
        .bind(c.lease_token)
        .bind(c.lease_until_ms)
        .bind(c.not_before_ms)
        .bind(c.status)
        .bind(c.approve_by_ms)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|r| (r.job.id, r)).collect())
}

/// A batch as columns, for `unnest`.
#[derive(Default)]
struct Columns {
    id: Vec<Uuid>,
    project_id: Vec<i64>,
    scope: Vec<&'static str>,
    paths: Vec<String>,
    submitted_by: Vec<String>,
    user_id: Vec<Option<i64>>,
    api_key_id: Vec<Option<i64>>,
    now_ms: Vec<i64>,
    idempotency_key: Vec<Option<String>>,
    request_hash: Vec<Option<String>>,
    note: Vec<String>,
    at_ms: Vec<i64>,
    audit_project_id: Vec<Option<i64>>,
    actor: Vec<String>,
    audit_user_id: Vec<Option<i64>>,
    audit_api_key_id: Vec<Option<i64>>,
    ip: Vec<Option<String>>,
    user_agent: Vec<Option<String>>,
    action: Vec<&'static str>,
    detail: Vec<String>,
    lease_owner: Vec<Option<String>>,
    lease_token: Vec<Option<String>>,
    lease_until_ms: Vec<Option<i64>>,
    not_before_ms: Vec<Option<i64>>,
    status: Vec<&'static str>,
    approve_by_ms: Vec<Option<i64>>,
}

impl Columns {
    fn push(&mut self, new: &NewInvalidation) {
        let (user_id, key_id) = submitter_ids(&new.submitter);
        let by = new.submitter.label();
        self.id.push(new.id.0);
        self.project_id.push(new.project_id);
        self.scope.push(new.scope.as_str());
        self.paths.push(json_list(&new.paths));
        self.note.push(format!("submitted by {by}"));
        self.submitted_by.push(by);
        self.user_id.push(user_id);
        self.api_key_id.push(key_id);
        self.now_ms.push(new.now_ms);
        self.idempotency_key.push(new.idempotency_key.clone());
        self.request_hash.push(new.request_hash.clone());
        self.not_before_ms.push(new.not_before_ms);
        let status = if new.approve_by_ms.is_some() { Status::AwaitingApproval } else { Status::Received };
        self.status.push(status.code());
        self.approve_by_ms.push(new.approve_by_ms);
        let a = &new.audit;
        self.at_ms.push(a.at_ms);
        self.audit_project_id.push(a.project_id);
        self.actor.push(a.actor.clone());
        self.audit_user_id.push(a.user_id);
        self.audit_api_key_id.push(a.api_key_id);
        self.ip.push(a.meta.ip.map(|ip| ip.to_string()));
        self.user_agent.push(a.meta.user_agent.clone());
        self.action.push(a.action);
        self.detail.push(a.detail.clone());
        let lease = new.lease.as_ref();
        self.lease_owner.push(lease.map(|l| l.owner.clone()));
        self.lease_token.push(lease.map(|l| l.token.as_str().to_owned()));
        self.lease_until_ms.push(lease.map(|l| l.until_ms));
    }
}
