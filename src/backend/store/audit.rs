//! The audit trail's rows.

use async_trait::async_trait;
use sqlx::FromRow;

use super::sqlite::lite::execute;
use super::{AuditEntry, AuditQuery, NewAuditEntry, PgStore, SqliteStore, StoreResult};
use crate::backend::model::from_ms;

/// The audit trail.
#[async_trait]
pub trait AuditStore {
    async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<()>;
    async fn list_audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>>;
}

const APPEND: &str = "INSERT INTO audit_events (at_ms, project_id, actor, user_id, api_key_id, ip, user_agent, \
     action, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
/// Newest first; `$4` is the keyset cursor (ids only grow).
const LIST: &str = "SELECT a.id, a.at_ms, a.project_id, p.token AS project_token, a.actor, a.ip, a.user_agent, \
     a.action, a.detail FROM audit_events a LEFT JOIN projects p ON p.id = a.project_id \
     WHERE ($1 IS NULL OR a.project_id = $1) AND ($2 IS NULL OR a.action = $2) \
     AND ($3 IS NULL OR a.actor = $3) AND ($4 IS NULL OR a.id < $4) \
     ORDER BY a.id DESC LIMIT $5";

#[derive(FromRow)]
struct AuditRow {
    id: i64,
    at_ms: i64,
    project_id: Option<i64>,
    project_token: Option<String>,
    actor: String,
    ip: Option<String>,
    user_agent: Option<String>,
    action: String,
    detail: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: r.id,
            at: from_ms(r.at_ms),
            project_id: r.project_id,
            project: r.project_token,
            actor: r.actor,
            ip: r.ip,
            user_agent: r.user_agent,
            action: r.action,
            detail: r.detail,
        }
    }
}

fn append<'q, DB: sqlx::Database>(e: &'q NewAuditEntry) -> sqlx::query::Query<'q, DB, DB::Arguments<'q>>
where
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(APPEND)
        .bind(e.at_ms)
        .bind(e.project_id)
        .bind(&e.actor)
        .bind(e.user_id)
        .bind(e.api_key_id)
        .bind(e.meta.ip.map(|ip| ip.to_string()))
        .bind(&e.meta.user_agent)
        .bind(e.action)
        .bind(&e.detail)
}

/// [`append`] on the SQLite writer's connection.
pub(super) fn append_sqlite(c: &rusqlite::Connection, e: &NewAuditEntry) -> StoreResult<()> {
    let ip = e.meta.ip.map(|ip| ip.to_string());
    execute(
        c,
        APPEND,
        &[&e.at_ms, &e.project_id, &e.actor, &e.user_id, &e.api_key_id, &ip, &e.meta.user_agent, &e.action, &e.detail],
    )
    .map(drop)
}

both_dialects! {
    #[async_trait]
    impl AuditStore for Db {
        async fn append_audit(&self, e: &NewAuditEntry) -> StoreResult<()> {
            AppendAudit::append(self, e).await
        }

        async fn list_audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
            let rows: Vec<AuditRow> = sqlx::query_as(LIST)
                .bind(q.project_id)
                .bind(&q.action)
                .bind(&q.actor)
                .bind(q.before)
                .bind(q.limit)
                .fetch_all(&self.pool)
                .await?;
            Ok(rows.into_iter().map(Into::into).collect())
        }
    }
}

/// Appending is where the dialects differ.
#[async_trait]
trait AppendAudit {
    async fn append(&self, e: &NewAuditEntry) -> StoreResult<()>;
}

#[async_trait]
impl AppendAudit for SqliteStore {
    /// Through the writer: an audit row shares the group commit of the action it records.
    async fn append(&self, e: &NewAuditEntry) -> StoreResult<()> {
        let e = e.clone();
        self.writer.write(move |c| append_sqlite(c, &e)).await
    }
}

#[async_trait]
impl AppendAudit for PgStore {
    async fn append(&self, e: &NewAuditEntry) -> StoreResult<()> {
        append(e).execute(&self.pool).await?;
        Ok(())
    }
}
