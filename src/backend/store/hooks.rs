//! Notification hooks, and which final invalidations still await their notification.

use async_trait::async_trait;
use sqlx::FromRow;

use super::error::one_row;
use super::rows::{convert, InvalidationRow};
use super::sqlite::lite::execute;
use super::{Hook, Invalidation, NewHook, PgStore, SqliteStore, StoreResult};
use crate::backend::model::from_ms;
use crate::domain::InvalidationId;

/// Notification hooks and the final invalidations they have not heard of yet.
#[async_trait]
pub trait HookStore {
    async fn add_hook(&self, project_id: i64, new: &NewHook, now_ms: i64) -> StoreResult<Hook>;
    async fn list_hooks(&self, project_id: i64) -> StoreResult<Vec<Hook>>;
    async fn hook(&self, project_id: i64, id: i64) -> StoreResult<Hook>;
    async fn remove_hook(&self, project_id: i64, id: i64) -> StoreResult<()>;
    async fn record_hook_result(&self, id: i64, result: &str, now_ms: i64) -> StoreResult<()>;
    /// Final invalidations no notifier has claimed yet, oldest first.
    async fn unnotified(&self, limit: i64) -> StoreResult<Vec<Invalidation>>;
    /// Claims these for notification, in one write; answers those claimed
    /// (another notifier may have taken some already).
    async fn claim_notifications(&self, ids: &[InvalidationId], now_ms: i64) -> StoreResult<Vec<InvalidationId>>;
}

const COLUMNS: &str = "id, project_id, name, url, secret, every_final, last_result, last_ms";
const ADD: &str = "INSERT INTO notification_hooks (project_id, name, url, secret, every_final, created_ms) \
     VALUES ($1, $2, $3, $4, $5, $6) \
     RETURNING id, project_id, name, url, secret, every_final, last_result, last_ms";
const REMOVE: &str = "DELETE FROM notification_hooks WHERE project_id = $1 AND id = $2";
const RESULT: &str = "UPDATE notification_hooks SET last_result = $2, last_ms = $3 WHERE id = $1";
const UNNOTIFIED: &str = "SELECT id, project_id, scope, paths, status, attempt, submitted_by, error, created_ms, \
     updated_ms, finished_ms, request_hash, not_before_ms FROM invalidations \
     WHERE notified_ms IS NULL AND finished_ms IS NOT NULL ORDER BY finished_ms LIMIT $1";
/// One instance wins each notification.
const CLAIM: &str =
    "UPDATE invalidations SET notified_ms = $2 WHERE id = $1 AND notified_ms IS NULL AND finished_ms IS NOT NULL";
const CLAIM_PG: &str = "UPDATE invalidations SET notified_ms = $2 \
     WHERE id = ANY($1) AND notified_ms IS NULL AND finished_ms IS NOT NULL RETURNING id";

#[derive(FromRow)]
struct HookRow {
    id: i64,
    project_id: i64,
    name: String,
    url: String,
    secret: Option<String>,
    every_final: bool,
    last_result: Option<String>,
    last_ms: Option<i64>,
}

impl From<HookRow> for Hook {
    fn from(r: HookRow) -> Self {
        Hook {
            id: r.id,
            project_id: r.project_id,
            name: r.name,
            url: r.url,
            secret: r.secret,
            every_final: r.every_final,
            last_result: r.last_result,
            last_at: r.last_ms.map(from_ms),
        }
    }
}

both_dialects! {
    #[async_trait]
    impl HookStore for Db {
        async fn add_hook(&self, project_id: i64, new: &NewHook, now_ms: i64) -> StoreResult<Hook> {
            let (mut conn, _turn) = self.write_conn().await?;
            let row: HookRow = sqlx::query_as(ADD)
                .bind(project_id)
                .bind(&new.name)
                .bind(&new.url)
                .bind(&new.secret)
                .bind(new.every_final)
                .bind(now_ms)
                .fetch_one(&mut *conn)
                .await?;
            Ok(row.into())
        }

        async fn list_hooks(&self, project_id: i64) -> StoreResult<Vec<Hook>> {
            let sql = format!("SELECT {COLUMNS} FROM notification_hooks WHERE project_id = $1 ORDER BY name");
            let rows: Vec<HookRow> = sqlx::query_as(&sql).bind(project_id).fetch_all(&self.pool).await?;
            Ok(rows.into_iter().map(Into::into).collect())
        }

        async fn hook(&self, project_id: i64, id: i64) -> StoreResult<Hook> {
            let sql = format!("SELECT {COLUMNS} FROM notification_hooks WHERE project_id = $1 AND id = $2");
            let row: HookRow = sqlx::query_as(&sql).bind(project_id).bind(id).fetch_one(&self.pool).await?;
            Ok(row.into())
        }

        async fn remove_hook(&self, project_id: i64, id: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(REMOVE).bind(project_id).bind(id).execute(&mut *conn).await?;
            one_row(done.rows_affected())
        }

        async fn record_hook_result(&self, id: i64, result: &str, now_ms: i64) -> StoreResult<()> {
            NotifierWrites::record_result(self, id, result, now_ms).await
        }

        async fn unnotified(&self, limit: i64) -> StoreResult<Vec<Invalidation>> {
            let rows: Vec<InvalidationRow> = sqlx::query_as(UNNOTIFIED).bind(limit).fetch_all(&self.pool).await?;
            convert(rows)
        }

        async fn claim_notifications(
            &self,
            ids: &[InvalidationId],
            now_ms: i64,
        ) -> StoreResult<Vec<InvalidationId>> {
            NotifierWrites::claim(self, ids, now_ms).await
        }
    }
}

/// The notifier's two writes, where the dialects differ.
#[async_trait]
trait NotifierWrites {
    async fn record_result(&self, id: i64, result: &str, now_ms: i64) -> StoreResult<()>;
    async fn claim(&self, ids: &[InvalidationId], now_ms: i64) -> StoreResult<Vec<InvalidationId>>;
}

/// SQLite: both writes through the writer (its group commit), not a pool
/// connection waiting for the file's write lock.
#[async_trait]
impl NotifierWrites for SqliteStore {
    async fn record_result(&self, id: i64, result: &str, now_ms: i64) -> StoreResult<()> {
        let result = result.to_owned();
        self.writer.write(move |c| execute(c, RESULT, &[&id, &result, &now_ms]).map(drop)).await
    }

    async fn claim(&self, ids: &[InvalidationId], now_ms: i64) -> StoreResult<Vec<InvalidationId>> {
        let ids = ids.to_vec();
        self.writer
            .write(move |c| {
                let mut claimed = Vec::with_capacity(ids.len());
                for id in ids {
                    if execute(c, CLAIM, &[&id.0, &now_ms])? == 1 {
                        claimed.push(id);
                    }
                }
                Ok(claimed)
            })
            .await
    }
}

#[async_trait]
impl NotifierWrites for PgStore {
    async fn record_result(&self, id: i64, result: &str, now_ms: i64) -> StoreResult<()> {
        sqlx::query(RESULT).bind(id).bind(result).bind(now_ms).execute(&self.pool).await?;
        Ok(())
    }

    async fn claim(&self, ids: &[InvalidationId], now_ms: i64) -> StoreResult<Vec<InvalidationId>> {
        let ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.0).collect();
        let claimed: Vec<(uuid::Uuid,)> = sqlx::query_as(CLAIM_PG).bind(ids).bind(now_ms).fetch_all(&self.pool).await?;
        Ok(claimed.into_iter().map(|(id,)| InvalidationId(id)).collect())
    }
}
