//! PostgreSQL: the lanes' claims that arrive together, in one statement.
//!
//! Each new invalidation wakes a lane, and the inserts of a batch
//! (`insert.rs`) return together: without this, as many lanes would
//! each send a claim at the same moment, one finding the jobs and the rest
//! nothing, a statement and a transaction each. Queued here (`batch.rs`),
//! the claims waiting at one moment are one statement: the oldest runnable
//! jobs go to the leases in the order the claims queued, each claim getting
//! at most as many as it has leases.

use std::collections::BTreeMap;

use sqlx::{FromRow, PgPool, Row};
use tokio::sync::oneshot;

use super::batch::{self, Batcher, Write};
use crate::backend::store::batch_sizes::{BatchKind, BatchSizes};
use crate::backend::store::jobs::claimed;
use crate::backend::store::rows::ClaimRow;
use crate::backend::store::{Claimed, LeaseToken, StoreError, StoreResult};

/// Claims running at once: SKIP LOCKED keeps two from taking the same job.
const CLAIMERS: usize = 2;
/// Most claims (each up to `worker::CLAIM_BATCH` leases) in one statement.
const MAX_BATCH: usize = 32;

/// Up to `$5` of the oldest runnable jobs (queued or in flight, due, with no
/// live lease): the `n`-th oldest goes to owner `$1[n]` under lease `$2[n]`
/// for `$3[n]` ms; `$4` now (when jobs are due). Leases end and are compared
/// on the database's clock (see `store/jobs.rs`). Rows another claim is taking
/// at the same moment are skipped, not waited for. With each job, its
/// project's setup version (none once the project is gone) and its lease's end.
const CLAIM_BATCH: &str = "WITH picked AS ( \
        SELECT id, next_run_ms FROM invalidations \
        WHERE status IN ('RECEIVED', 'PREPARING', 'FLUSHINGCLOUDIMAGESERVER', 'FLUSHINGCDNSERVERS') \
        AND next_run_ms <= $4 \
        AND (lease_until_ms IS NULL OR lease_until_ms < (extract(epoch FROM now()) * 1000)::bigint) \
        ORDER BY next_run_ms, id LIMIT $5 FOR UPDATE SKIP LOCKED), \
     ranked AS (SELECT id, row_number() OVER (ORDER BY next_run_ms, id) AS n FROM picked) \
     UPDATE invalidations i SET lease_owner = ($1::text[])[ranked.n], lease_token = ($2::text[])[ranked.n], \
        lease_until_ms = (extract(epoch FROM now()) * 1000)::bigint + ($3::bigint[])[ranked.n], \
        claims = i.claims + 1 \
     FROM ranked WHERE i.id = ranked.id \
        AND (i.lease_until_ms IS NULL OR i.lease_until_ms < (extract(epoch FROM now()) * 1000)::bigint) \
     RETURNING ranked.n, i.lease_until_ms AS lease_end, i.id, i.project_id, i.scope, i.paths, i.status, i.attempt, i.submitted_by, i.error, \
        i.created_ms, i.updated_ms, i.finished_ms, i.request_hash, i.not_before_ms, i.claims, \
        (SELECT p.setup_version FROM projects p WHERE p.id = i.project_id) AS setup_version";

/// A lane's claim waiting for its batch, and who to tell.
pub(in crate::backend::store) struct Claim {
    owner: String,
    leases: Vec<LeaseToken>,
    now_ms: i64,
    lease_ms: i64,
    reply: oneshot::Sender<StoreResult<Vec<Claimed>>>,
}

/// The queue of claims in front of [`CLAIMERS`] claimers.
pub(in crate::backend::store) fn start(pool: PgPool, sizes: BatchSizes) -> Batcher<Claim> {
    Batcher::start(pool, CLAIMERS, MAX_BATCH, (sizes, BatchKind::Claim), |pool, batch| {
        Box::pin(async move { batch::store(&pool, &(), batch).await })
    })
}

/// Up to one job per lease, oldest first, claimed with whatever other claims are waiting.
pub(super) async fn claim(
    queue: &Batcher<Claim>,
    owner: &str,
    leases: Vec<LeaseToken>,
    now_ms: i64,
    lease_ms: i64,
) -> StoreResult<Vec<Claimed>> {
    queue.call(|reply| Claim { owner: owner.to_owned(), leases, now_ms, lease_ms, reply }).await
}

impl Write for Claim {
    type Ctx = ();
    /// The claimed rows by their lease's position in the batch.
    type Stored = BTreeMap<usize, (ClaimRow, i64)>;
    /// A failed batch's claims go one by one, oldest first.
    const ALONE_AT_ONCE: bool = false;

    async fn store_many(pool: &PgPool, _: &(), batch: &[Self]) -> StoreResult<Self::Stored> {
        claim_rows(pool, batch).await
    }

    fn answer(batch: Vec<Self>, rows: Self::Stored) {
        hand_out(batch, rows)
    }

    fn fail(self, e: StoreError) {
        let _ = self.reply.send(Err(e));
    }
}

/// The claimed rows by `n`, the position of their lease among all the batch's leases (from 1).
async fn claim_rows(pool: &PgPool, batch: &[Claim]) -> StoreResult<BTreeMap<usize, (ClaimRow, i64)>> {
    let (mut owners, mut tokens, mut lengths) = (Vec::new(), Vec::new(), Vec::new());
    for c in batch {
        for lease in &c.leases {
            owners.push(c.owner.as_str());
            tokens.push(lease.as_str());
            lengths.push(c.lease_ms);
        }
    }
    // The latest: a job due between two claims' moments is due by now.
    let now = batch.iter().map(|c| c.now_ms).max().unwrap_or_default();
    let rows = sqlx::query(CLAIM_BATCH)
        .bind(&owners)
        .bind(&tokens)
        .bind(&lengths)
        .bind(now)
        .bind(tokens.len() as i64)
        .fetch_all(pool)
        .await?;
    let mut claimed = BTreeMap::new();
    for row in rows {
        let n: i64 = row.try_get("n")?;
        let n = usize::try_from(n).ok().filter(|n| (1..=tokens.len()).contains(n)).ok_or(StoreError::LeaseLost)?;
        claimed.insert(n, (ClaimRow::from_row(&row)?, row.try_get("lease_end")?));
    }
    Ok(claimed)
}

/// Gives each claim the rows under its own leases, oldest first.
fn hand_out(batch: Vec<Claim>, mut rows: BTreeMap<usize, (ClaimRow, i64)>) {
    let mut first = 1;
    for c in batch {
        let start = first;
        first += c.leases.len();
        let jobs = (start..first)
            .filter_map(|n| rows.remove(&n).map(|(row, end)| claimed(row, &c.leases[n - start], end)))
            .collect();
        let _ = c.reply.send(jobs);
    }
}
