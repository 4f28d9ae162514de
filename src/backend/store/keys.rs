//! API keys of a project.

use async_trait::async_trait;

use super::error::one_row;
use super::rows::{convert, ApiKeyRow, KeyProjectRow};
use super::sqlite::lite::{execute, query_opt};
use super::{ApiKey, NewApiKey, PgStore, Project, SqliteStore, StoreError, StoreResult};

/// API keys of a project.
#[async_trait]
pub trait KeyStore {
    async fn add_api_key(&self, project_id: i64, new: &NewApiKey, now_ms: i64) -> StoreResult<ApiKey>;
    async fn list_api_keys(&self, project_id: i64) -> StoreResult<Vec<ApiKey>>;
    /// The key with this prefix, with its project (one read).
    async fn api_key_by_prefix(&self, prefix: &str) -> StoreResult<(ApiKey, Project)>;
    /// Records a use: its time and, when known, the source address.
    async fn touch_api_key(&self, key_id: i64, now_ms: i64, addr: Option<&str>) -> StoreResult<()>;
    async fn revoke_api_key(&self, project_id: i64, key_id: i64, now_ms: i64) -> StoreResult<()>;
    /// Adds `new` as the successor of the project's key `old_id` and makes
    /// the old key expire at `old_expires_ms` (one transaction). `NotFound`
    /// unless the old key is in the project and not revoked.
    async fn roll_api_key(
        &self,
        project_id: i64,
        old_id: i64,
        new: &NewApiKey,
        old_expires_ms: i64,
        now_ms: i64,
    ) -> StoreResult<ApiKey>;
    /// Active keys expiring before `before_ms` whose notice has not gone
    /// out yet, with their project's token; each is marked noticed.
    async fn take_expiring_api_keys(&self, now_ms: i64, before_ms: i64) -> StoreResult<Vec<(ApiKey, String)>>;
    /// How many active keys expire between `now_ms` and `before_ms`.
    async fn count_expiring_api_keys(&self, now_ms: i64, before_ms: i64) -> StoreResult<i64>;
}

/// A key's columns, in `ApiKeyRow`'s order.
macro_rules! key_columns {
    () => {
        "id, project_id, name, prefix, secret_hash, role, created_ms, last_used_ms, revoked_ms, limits, \
         expires_ms, allowed_ips, last_used_addr, rolled_to"
    };
}
const ADD: &str = concat!(
    "INSERT INTO api_keys (project_id, name, prefix, secret_hash, role, created_ms, limits, expires_ms, allowed_ips) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ",
    key_columns!()
);
const LIST: &str = concat!("SELECT ", key_columns!(), " FROM api_keys WHERE project_id = $1 ORDER BY id");
/// The key with this prefix and its project (SQLite's inline reader reads
/// the columns by position: `KeyProjectRow::from_sqlite`).
const BY_PREFIX: &str = "SELECT k.id, k.project_id, k.name, k.prefix, k.secret_hash, k.role, k.created_ms, \
     k.last_used_ms, k.revoked_ms, p.token AS project_token, p.name AS project_name, p.origin_hosts, \
     p.max_age_secs, p.s_maxage_secs, p.edge_settings, k.limits, k.expires_ms, k.allowed_ips, \
     k.last_used_addr, k.rolled_to \
     FROM api_keys k JOIN projects p ON p.id = k.project_id WHERE k.prefix = $1";
const TOUCH: &str =
    "UPDATE api_keys SET last_used_ms = $1, last_used_addr = COALESCE($2, last_used_addr) WHERE id = $3";
const REVOKE: &str = "UPDATE api_keys SET revoked_ms = COALESCE(revoked_ms, $1) WHERE project_id = $2 AND id = $3";
/// The old key of a roll expires at the grace period's end (or earlier, if
/// it was to expire sooner anyway).
const ROLLED: &str = "UPDATE api_keys SET expires_ms = CASE WHEN expires_ms IS NULL OR expires_ms > $1 THEN $1 \
     ELSE expires_ms END, rolled_to = $2 WHERE project_id = $3 AND id = $4 AND revoked_ms IS NULL";
const EXPIRING: &str = concat!(
    "UPDATE api_keys SET expiry_noticed_ms = $1 WHERE revoked_ms IS NULL AND expiry_noticed_ms IS NULL \
     AND expires_ms > $1 AND expires_ms <= $2 RETURNING ",
    key_columns!()
);
const COUNT_EXPIRING: &str =
    "SELECT COUNT(*) FROM api_keys WHERE revoked_ms IS NULL AND expires_ms > $1 AND expires_ms <= $2";
const PROJECT_TOKEN: &str = "SELECT token FROM projects WHERE id = $1";

/// `ADD` with a new key's columns bound, for both callers (a new key and a
/// roll's successor) and both dialects.
macro_rules! new_key {
    ($query:expr, $project_id:expr, $new:expr, $now_ms:expr) => {
        $query
            .bind($project_id)
            .bind(&$new.name)
            .bind(&$new.prefix)
            .bind(&$new.secret_hash)
            .bind($new.role.as_str())
            .bind($now_ms)
            .bind((!$new.limits.is_empty()).then(|| serde_json::to_string(&$new.limits).expect("limits serialise")))
            .bind($new.expires_ms)
            .bind((!$new.allowed_ips.is_empty()).then(|| $new.allowed_ips.join(" ")))
    };
}

both_dialects! {
    #[async_trait]
    impl KeyStore for Db {
        async fn add_api_key(&self, project_id: i64, new: &NewApiKey, now_ms: i64) -> StoreResult<ApiKey> {
            let (mut conn, _turn) = self.write_conn().await?;
            let row: ApiKeyRow = new_key!(sqlx::query_as(ADD), project_id, new, now_ms)
                .fetch_one(&mut *conn)
                .await?;
            row.try_into()
        }

        async fn list_api_keys(&self, project_id: i64) -> StoreResult<Vec<ApiKey>> {
            let rows: Vec<ApiKeyRow> = sqlx::query_as(LIST).bind(project_id).fetch_all(&self.pool).await?;
            convert(rows)
        }

        async fn api_key_by_prefix(&self, prefix: &str) -> StoreResult<(ApiKey, Project)> {
            HotKeys::by_prefix(self, prefix).await
        }

        async fn touch_api_key(&self, key_id: i64, now_ms: i64, addr: Option<&str>) -> StoreResult<()> {
            HotKeys::touch(self, key_id, now_ms, addr.map(str::to_owned)).await
        }

        async fn revoke_api_key(&self, project_id: i64, key_id: i64, now_ms: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(REVOKE).bind(now_ms).bind(project_id).bind(key_id).execute(&mut *conn).await?;
            one_row(done.rows_affected())
        }

        async fn roll_api_key(
            &self,
            project_id: i64,
            old_id: i64,
            new: &NewApiKey,
            old_expires_ms: i64,
            now_ms: i64,
        ) -> StoreResult<ApiKey> {
            let (mut conn, _turn) = self.write_conn().await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let row: ApiKeyRow = new_key!(sqlx::query_as(ADD), project_id, new, now_ms)
                .fetch_one(&mut *tx)
                .await?;
            let done = sqlx::query(ROLLED)
                .bind(old_expires_ms)
                .bind(row.id())
                .bind(project_id)
                .bind(old_id)
                .execute(&mut *tx)
                .await?;
            one_row(done.rows_affected())?;
            tx.commit().await?;
            row.try_into()
        }

        async fn take_expiring_api_keys(&self, now_ms: i64, before_ms: i64) -> StoreResult<Vec<(ApiKey, String)>> {
            let (mut conn, _turn) = self.write_conn().await?;
            let rows: Vec<ApiKeyRow> =
                sqlx::query_as(EXPIRING).bind(now_ms).bind(before_ms).fetch_all(&mut *conn).await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let key: ApiKey = row.try_into()?;
                let token: String = sqlx::query_scalar(PROJECT_TOKEN).bind(key.project_id).fetch_one(&mut *conn).await?;
                out.push((key, token));
            }
            Ok(out)
        }

        async fn count_expiring_api_keys(&self, now_ms: i64, before_ms: i64) -> StoreResult<i64> {
            Ok(sqlx::query_scalar(COUNT_EXPIRING).bind(now_ms).bind(before_ms).fetch_one(&self.pool).await?)
        }
    }
}

/// The two calls every API request makes, where the dialects differ.
#[async_trait]
trait HotKeys {
    async fn by_prefix(&self, prefix: &str) -> StoreResult<(ApiKey, Project)>;
    async fn touch(&self, key_id: i64, now_ms: i64, addr: Option<String>) -> StoreResult<()>;
}

#[async_trait]
impl HotKeys for SqliteStore {
    /// Inline on a reader connection: every API call starts with it.
    async fn by_prefix(&self, prefix: &str) -> StoreResult<(ApiKey, Project)> {
        let row = self.reader.read(|c| query_opt(c, BY_PREFIX, &[&prefix], KeyProjectRow::from_sqlite))?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Through the writer: a busy API's first calls all touch their key.
    async fn touch(&self, key_id: i64, now_ms: i64, addr: Option<String>) -> StoreResult<()> {
        self.writer.write(move |c| execute(c, TOUCH, &[&now_ms, &addr, &key_id]).map(drop)).await
    }
}

#[async_trait]
impl HotKeys for PgStore {
    async fn by_prefix(&self, prefix: &str) -> StoreResult<(ApiKey, Project)> {
        let row: KeyProjectRow = sqlx::query_as(BY_PREFIX).bind(prefix).fetch_one(&self.pool).await?;
        row.try_into()
    }

    async fn touch(&self, key_id: i64, now_ms: i64, addr: Option<String>) -> StoreResult<()> {
        sqlx::query(TOUCH).bind(now_ms).bind(addr).bind(key_id).execute(&self.pool).await?;
        Ok(())
    }
}
