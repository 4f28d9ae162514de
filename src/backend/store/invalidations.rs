//! Invalidations as submitted and read back, and their event log.

use async_trait::async_trait;
use sqlx::query::Query;
use sqlx::{Database, Encode, Type};
use uuid::Uuid;

use rusqlite::ToSql;

use super::audit::append_sqlite;
use super::rows::{
    convert, json_list, search_terms, submitter_ids, ClaimRow, EventRow, InvalidationRow, TargetResultRow,
};
use super::sqlite::lite::{execute, query_opt};
use super::{
    Inserted, Invalidation, ListQuery, NewInvalidation, PgStore, SqliteStore, StatusEvent, StoreError, StoreResult,
    TargetResult,
};
use crate::domain::{InvalidationId, Status};

/// Invalidations as submitted and read back; the worker's writes are in [`JobQueue`].
#[async_trait]
pub trait InvalidationStore {
    /// Stores a new invalidation (RECEIVED, with its event and paths) and
    /// tells every instance's workers there is a job (unless it is stored
    /// leased, `NewInvalidation::lease`).
    async fn insert_invalidation(&self, new: &NewInvalidation) -> StoreResult<Inserted>;
    async fn invalidation(&self, project_id: i64, id: InvalidationId) -> StoreResult<Invalidation>;
    /// The invalidation in whichever project holds it (the ID lookup).
    async fn invalidation_anywhere(&self, id: InvalidationId) -> StoreResult<Invalidation>;
    async fn invalidation_by_idempotency_key(&self, project_id: i64, key: &str) -> StoreResult<Invalidation>;
    /// Whatever the project, the newest invalidations whose IDs lie in
    /// `from..=to` (an ID prefix, for the lookup; it checks what the caller
    /// may see), at most `limit`.
    async fn invalidations_in_id_range(&self, from: Uuid, to: Uuid, limit: i64) -> StoreResult<Vec<Invalidation>>;
    async fn list_invalidations(&self, project_id: i64, query: &ListQuery) -> StoreResult<Vec<Invalidation>>;
    /// The project's newest invalidations that cover canonical `path`: its
    /// scope All ones, and the Original ones naming the path or a prefix of
    /// it (at most `limit`).
    async fn covering_invalidations(&self, project_id: i64, path: &str, limit: i64) -> StoreResult<Vec<Invalidation>>;
    async fn events(&self, id: InvalidationId) -> StoreResult<Vec<StatusEvent>>;
    async fn target_results(&self, id: InvalidationId) -> StoreResult<Vec<TargetResult>>;
    /// Moves an errored invalidation back to the queue. `NotFound` if absent,
    /// `Conflict` if it is not in an error status.
    async fn requeue_for_retry(
        &self,
        project_id: i64,
        id: InvalidationId,
        by: &str,
        now_ms: i64,
    ) -> StoreResult<Invalidation>;
}

/// `$11`…`$13`: the lease of a job handed straight to a worker (all NULL
/// when queued); such a job counts its first claim. Returns what a claim
/// does (the row, its claims, its project's setup version).
const INSERT: &str = "INSERT INTO invalidations (id, project_id, scope, paths, status, attempt, submitted_by, \
     user_id, api_key_id, created_ms, updated_ms, next_run_ms, idempotency_key, request_hash, \
     lease_owner, lease_token, lease_until_ms, claims, not_before_ms) \
     VALUES ($1, $2, $3, $4, $15, 1, $5, $6, $7, $8, $8, COALESCE($16, $14, $8), $9, $10, $11, $12, $13, \
     CASE WHEN $12 IS NULL THEN 0 ELSE 1 END, $14) \
     RETURNING id, project_id, scope, paths, status, attempt, submitted_by, error, created_ms, updated_ms, \
     finished_ms, request_hash, not_before_ms, claims, \
     (SELECT setup_version FROM projects p WHERE p.id = invalidations.project_id) AS setup_version";
const ONE: &str = "SELECT id, project_id, scope, paths, status, attempt, submitted_by, error, created_ms, \
     updated_ms, finished_ms, request_hash, not_before_ms FROM invalidations WHERE project_id = $1 AND id = $2";
/// By id alone, whatever the project: only the ID lookup uses it, and it
/// checks the caller may see the project before anything is shown.
const ANYWHERE: &str = "SELECT id, project_id, scope, paths, status, attempt, submitted_by, error, created_ms, \
     updated_ms, finished_ms, request_hash, not_before_ms FROM invalidations WHERE id = $1";
const IN_ID_RANGE: &str = "SELECT id, project_id, scope, paths, status, attempt, submitted_by, error, created_ms, \
     updated_ms, finished_ms, request_hash, not_before_ms FROM invalidations WHERE id BETWEEN $1 AND $2 \
     ORDER BY id DESC LIMIT $3";
const BY_IDEMPOTENCY_KEY: &str = "SELECT id, project_id, scope, paths, status, attempt, submitted_by, error, \
     created_ms, updated_ms, finished_ms, request_hash, not_before_ms FROM invalidations \
     WHERE project_id = $1 AND idempotency_key = $2";
/// A log page without a search. `$2` keyset cursor (`$8` when absent: above
/// every id, so the index range on (project_id, id) serves deep pages as fast
/// as the first), `$3` status; `$4`, `$5`, `$7` (the search) are NULL here.
const LIST: &str = "SELECT id, project_id, scope, paths, status, attempt, submitted_by, error, created_ms, \
     updated_ms, finished_ms, request_hash, not_before_ms FROM invalidations WHERE project_id = $1 \
     AND id < COALESCE($2, $8) \
     AND ($3 IS NULL OR status = $3) \
     AND ($4 IS NULL AND $5 IS NULL AND $7 IS NULL) \
     ORDER BY id DESC LIMIT $6";
/// A search: driven by the matches, an exact id `$5` or the paths in
/// `$4 <= path < $7` (a prefix range over `invalidation_paths`' (project_id,
/// path) index), so its cost follows the matches, not the log's length.
/// `$8` is unused (bound for the same parameter list as [`LIST`]).
const LIST_SEARCH: &str = "SELECT id, project_id, scope, paths, status, attempt, submitted_by, error, created_ms, \
     updated_ms, finished_ms, request_hash, not_before_ms FROM invalidations \
     WHERE id IN (SELECT invalidation_id FROM invalidation_paths \
          WHERE project_id = $1 AND path >= $4 AND path < $7 UNION ALL SELECT $5) \
     AND project_id = $1 AND ($2 IS NULL OR id < $2) AND ($3 IS NULL OR status = $3) AND ($8 IS NULL OR TRUE) \
     ORDER BY id DESC LIMIT $6";
/// `$2` a canonical path: scope All, or Original naming it or a prefix
/// (`dir/*`) of it. Walks the project's path rows (a support lookup, not a
/// hot path).
const COVERING: &str = "SELECT id, project_id, scope, paths, status, attempt, submitted_by, error, created_ms, \
     updated_ms, finished_ms, request_hash, not_before_ms FROM invalidations \
     WHERE project_id = $1 AND (scope = 'all' OR (scope = 'original' AND id IN ( \
        SELECT invalidation_id FROM invalidation_paths WHERE project_id = $1 AND (path = CAST($2 AS TEXT) \
        OR (path LIKE '%*' AND substr(CAST($2 AS TEXT), 1, length(path) - 1) = substr(path, 1, length(path) - 1)))))) \
     ORDER BY id DESC LIMIT $3";
/// Above every UUID: the first page's cursor.
const MAX_ID: Uuid = Uuid::max();
const INSERT_PATHS_SQLITE: &str = "INSERT INTO invalidation_paths (invalidation_id, project_id, path) \
     SELECT $1, $2, value FROM json_each($3)";
const EVENTS: &str =
    "SELECT status, attempt, note, at_ms FROM invalidation_events WHERE invalidation_id = $1 ORDER BY id";
const TARGET_RESULTS: &str =
    "SELECT target_id, kind, name, state, attempts, detail, duration_ms, updated_ms, verified, verify_note \
     FROM invalidation_targets WHERE invalidation_id = $1 ORDER BY target_id";
const REQUEUE: &str = "UPDATE invalidations SET status = 'RECEIVED', attempt = attempt + 1, error = NULL, \
     finished_ms = NULL, next_run_ms = $1, updated_ms = $1, lease_owner = NULL, lease_token = NULL, \
     lease_until_ms = NULL, claims = 0, notified_ms = NULL \
     WHERE project_id = $2 AND id = $3 AND status IN ('ERROR', 'ERROR_CDN_NODE') \
     RETURNING id, project_id, scope, paths, status, attempt, submitted_by, error, created_ms, updated_ms, \
     finished_ms, request_hash, not_before_ms";
pub(super) const INSERT_EVENT: &str =
    "INSERT INTO invalidation_events (invalidation_id, status, attempt, note, at_ms) \
     VALUES ($1, $2, $3, $4, $5)";

/// Records a status change; the caller runs it in the transaction that made the change.
pub(super) fn insert_event<'q, DB>(
    id: InvalidationId,
    status: Status,
    attempt: i32,
    note: Option<&'q str>,
    at_ms: i64,
) -> Query<'q, DB, DB::Arguments<'q>>
where
    DB: Database,
    Uuid: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    i32: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    let code: &'q str = status.code();
    sqlx::query(INSERT_EVENT).bind(id.0).bind(code).bind(attempt).bind(note).bind(at_ms)
}

const RETRY_ONLY_ERRORED: StoreError = StoreError::Conflict("only errored invalidations can be retried");

both_dialects! {
    #[async_trait]
    impl InvalidationStore for Db {
        async fn insert_invalidation(&self, new: &NewInvalidation) -> StoreResult<Inserted> {
            StoreNew::store_new(self, new).await
        }

        async fn invalidation(&self, project_id: i64, id: InvalidationId) -> StoreResult<Invalidation> {
            let row: InvalidationRow = sqlx::query_as(ONE).bind(project_id).bind(id.0).fetch_one(&self.pool).await?;
            row.try_into()
        }

        async fn invalidation_anywhere(&self, id: InvalidationId) -> StoreResult<Invalidation> {
            let row: InvalidationRow = sqlx::query_as(ANYWHERE).bind(id.0).fetch_one(&self.pool).await?;
            row.try_into()
        }

        async fn invalidation_by_idempotency_key(&self, project_id: i64, key: &str) -> StoreResult<Invalidation> {
            let row: InvalidationRow =
                sqlx::query_as(BY_IDEMPOTENCY_KEY).bind(project_id).bind(key).fetch_one(&self.pool).await?;
            row.try_into()
        }

        async fn invalidations_in_id_range(&self, from: Uuid, to: Uuid, limit: i64) -> StoreResult<Vec<Invalidation>> {
            let rows: Vec<InvalidationRow> =
                sqlx::query_as(IN_ID_RANGE).bind(from).bind(to).bind(limit).fetch_all(&self.pool).await?;
            convert(rows)
        }

        async fn list_invalidations(&self, project_id: i64, q: &ListQuery) -> StoreResult<Vec<Invalidation>> {
            let (range, search_id) = search_terms(q);
            let (from, to) = range.unzip();
            let sql = if from.is_some() || search_id.is_some() { LIST_SEARCH } else { LIST };
            let rows: Vec<InvalidationRow> = sqlx::query_as(sql)
                .bind(project_id)
                .bind(q.before.map(|id| id.0))
                .bind(q.status.map(|s| s.code()))
                .bind(from)
                .bind(search_id)
                .bind(q.limit)
                .bind(to)
                .bind(MAX_ID)
                .fetch_all(&self.pool)
                .await?;
            convert(rows)
        }

        async fn covering_invalidations(&self, project_id: i64, path: &str, limit: i64) -> StoreResult<Vec<Invalidation>> {
            let rows: Vec<InvalidationRow> =
                sqlx::query_as(COVERING).bind(project_id).bind(path).bind(limit).fetch_all(&self.pool).await?;
            convert(rows)
        }

        async fn events(&self, id: InvalidationId) -> StoreResult<Vec<StatusEvent>> {
            let rows: Vec<EventRow> = sqlx::query_as(EVENTS).bind(id.0).fetch_all(&self.pool).await?;
            convert(rows)
        }

        async fn target_results(&self, id: InvalidationId) -> StoreResult<Vec<TargetResult>> {
            let rows: Vec<TargetResultRow> = sqlx::query_as(TARGET_RESULTS).bind(id.0).fetch_all(&self.pool).await?;
            convert(rows)
        }

        async fn requeue_for_retry(
            &self,
            project_id: i64,
            id: InvalidationId,
            by: &str,
            now_ms: i64,
        ) -> StoreResult<Invalidation> {
            let (mut conn, _turn) = self.write_conn().await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let row: Option<InvalidationRow> =
                sqlx::query_as(REQUEUE).bind(now_ms).bind(project_id).bind(id.0).fetch_optional(&mut *tx).await?;
            let Some(row) = row else {
                drop(tx);
                self.invalidation(project_id, id).await?;
                return Err(RETRY_ONLY_ERRORED);
            };
            let inv: Invalidation = row.try_into()?;
            let note = format!("retry requested by {by}");
            insert_event(id, Status::Received, inv.attempt, Some(&note), now_ms).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(inv)
        }
    }
}

/// Where the dialects differ most: SQLite runs the statements on its writer,
/// inside a group commit; PostgreSQL's batcher stores many new invalidations
/// in one statement (`postgres/insert.rs`).
#[async_trait]
trait StoreNew {
    async fn store_new(&self, new: &NewInvalidation) -> StoreResult<Inserted>;
}

#[async_trait]
impl StoreNew for SqliteStore {
    async fn store_new(&self, new: &NewInvalidation) -> StoreResult<Inserted> {
        let new = new.clone();
        self.writer
            .write(move |c| {
                let (user_id, key_id) = submitter_ids(&new.submitter);
                let note = format!("submitted by {}", new.submitter.label());
                let paths = json_list(&new.paths);
                let by = new.submitter.label();
                let lease = new.lease.as_ref();
                let (owner, token, until) =
                    (lease.map(|l| l.owner.as_str()), lease.map(|l| l.token.as_str()), lease.map(|l| l.until_ms));
                let status = if new.approve_by_ms.is_some() { Status::AwaitingApproval } else { Status::Received };
                let status = status.code();
                let params: [&dyn ToSql; 16] = [
                    &new.id.0,
                    &new.project_id,
                    &new.scope.as_str(),
                    &paths,
                    &by,
                    &user_id,
                    &key_id,
                    &new.now_ms,
                    &new.idempotency_key,
                    &new.request_hash,
                    &owner,
                    &token,
                    &until,
                    &new.not_before_ms,
                    &status,
                    &new.approve_by_ms,
                ];
                let row = query_opt(c, INSERT, &params, ClaimRow::from_sqlite)?.ok_or(StoreError::NotFound)?;
                execute(c, INSERT_EVENT, &[&new.id.0, &status, &1, &note, &new.now_ms])?;
                if !new.paths.is_empty() {
                    // Every path in one statement, from the JSON list just stored.
                    execute(c, INSERT_PATHS_SQLITE, &[&new.id.0, &new.project_id, &paths])?;
                }
                append_sqlite(c, &new.audit)?;
                Ok(Inserted { invalidation: row.job.try_into()?, setup_version: row.setup_version })
            })
            .await
    }
}

#[async_trait]
impl StoreNew for PgStore {
    async fn store_new(&self, new: &NewInvalidation) -> StoreResult<Inserted> {
        super::postgres::insert::insert(&self.inserts, new.clone()).await
    }
}
