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
    async fn touch_api_key(&self, key_id: i64, now_ms: i64) -> StoreResult<()>;
    async fn revoke_api_key(&self, project_id: i64, key_id: i64, now_ms: i64) -> StoreResult<()>;
}

const ADD: &str = "INSERT INTO api_keys (project_id, name, prefix, secret_hash, role, created_ms, limits) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     RETURNING id, project_id, name, prefix, secret_hash, role, created_ms, last_used_ms, revoked_ms, limits";
const LIST: &str = "SELECT id, project_id, name, prefix, secret_hash, role, created_ms, last_used_ms, revoked_ms, \
     limits FROM api_keys WHERE project_id = $1 ORDER BY id";
/// The key with this prefix and its project.
const BY_PREFIX: &str = "SELECT k.id, k.project_id, k.name, k.prefix, k.secret_hash, k.role, k.created_ms, \
     k.last_used_ms, k.revoked_ms, p.token AS project_token, p.name AS project_name, p.origin_hosts, \
     p.max_age_secs, p.s_maxage_secs, p.edge_settings, k.limits \
     FROM api_keys k JOIN projects p ON p.id = k.project_id WHERE k.prefix = $1";
const TOUCH: &str = "UPDATE api_keys SET last_used_ms = $1 WHERE id = $2";
const REVOKE: &str = "UPDATE api_keys SET revoked_ms = COALESCE(revoked_ms, $1) WHERE project_id = $2 AND id = $3";

both_dialects! {
    #[async_trait]
    impl KeyStore for Db {
        async fn add_api_key(&self, project_id: i64, new: &NewApiKey, now_ms: i64) -> StoreResult<ApiKey> {
            let (mut conn, _turn) = self.write_conn().await?;
            let row: ApiKeyRow = sqlx::query_as(ADD)
                .bind(project_id)
                .bind(&new.name)
                .bind(&new.prefix)
                .bind(&new.secret_hash)
                .bind(new.role.as_str())
                .bind(now_ms)
                .bind((!new.limits.is_empty()).then(|| serde_json::to_string(&new.limits).expect("limits serialise")))
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

        async fn touch_api_key(&self, key_id: i64, now_ms: i64) -> StoreResult<()> {
            HotKeys::touch(self, key_id, now_ms).await
        }

        async fn revoke_api_key(&self, project_id: i64, key_id: i64, now_ms: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(REVOKE).bind(now_ms).bind(project_id).bind(key_id).execute(&mut *conn).await?;
            one_row(done.rows_affected())
        }
    }
}

/// The two calls every API request makes, where the dialects differ.
#[async_trait]
trait HotKeys {
    async fn by_prefix(&self, prefix: &str) -> StoreResult<(ApiKey, Project)>;
    async fn touch(&self, key_id: i64, now_ms: i64) -> StoreResult<()>;
}

#[async_trait]
impl HotKeys for SqliteStore {
    /// Inline on a reader connection: every API call starts with it.
    async fn by_prefix(&self, prefix: &str) -> StoreResult<(ApiKey, Project)> {
        let row = self.reader.read(|c| query_opt(c, BY_PREFIX, &[&prefix], KeyProjectRow::from_sqlite))?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    /// Through the writer: a busy API's first calls all touch their key.
    async fn touch(&self, key_id: i64, now_ms: i64) -> StoreResult<()> {
        self.writer.write(move |c| execute(c, TOUCH, &[&now_ms, &key_id]).map(drop)).await
    }
}

#[async_trait]
impl HotKeys for PgStore {
    async fn by_prefix(&self, prefix: &str) -> StoreResult<(ApiKey, Project)> {
        let row: KeyProjectRow = sqlx::query_as(BY_PREFIX).bind(prefix).fetch_one(&self.pool).await?;
        row.try_into()
    }

    async fn touch(&self, key_id: i64, now_ms: i64) -> StoreResult<()> {
        sqlx::query(TOUCH).bind(now_ms).bind(key_id).execute(&self.pool).await?;
        Ok(())
    }
}
