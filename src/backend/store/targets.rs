//! Purge targets of a project.

use async_trait::async_trait;

use super::error::one_row;
use super::rows::{convert, TargetRow};
use super::{NewTarget, StoreResult, Target};

/// Purge targets of a project.
#[async_trait]
pub trait TargetStore {
    async fn add_target(&self, project_id: i64, new: &NewTarget, now_ms: i64) -> StoreResult<Target>;
    async fn list_targets(&self, project_id: i64) -> StoreResult<Vec<Target>>;
    async fn target(&self, project_id: i64, target_id: i64) -> StoreResult<Target>;
    async fn update_target_url(&self, project_id: i64, target_id: i64, url: &str) -> StoreResult<()>;
    async fn remove_target(&self, project_id: i64, target_id: i64) -> StoreResult<()>;
}

const ADD: &str = "INSERT INTO targets (project_id, kind, name, url, secret, created_ms) \
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, project_id, kind, name, url, secret";
const LIST: &str = "SELECT id, project_id, kind, name, url, secret FROM targets WHERE project_id = $1 ORDER BY id";
const ONE: &str = "SELECT id, project_id, kind, name, url, secret FROM targets WHERE project_id = $1 AND id = $2";
const UPDATE_URL: &str = "UPDATE targets SET url = $1 WHERE project_id = $2 AND id = $3";
const REMOVE: &str = "DELETE FROM targets WHERE project_id = $1 AND id = $2";

both_dialects! {
    #[async_trait]
    impl TargetStore for Db {
        async fn add_target(&self, project_id: i64, new: &NewTarget, now_ms: i64) -> StoreResult<Target> {
            let (mut conn, _turn) = self.write_conn().await?;
            let row: TargetRow = sqlx::query_as(ADD)
                .bind(project_id)
                .bind(new.kind.as_str())
                .bind(&new.name)
                .bind(&new.url)
                .bind(&new.secret)
                .bind(now_ms)
                .fetch_one(&mut *conn)
                .await?;
            row.try_into()
        }

        async fn list_targets(&self, project_id: i64) -> StoreResult<Vec<Target>> {
            let rows: Vec<TargetRow> = sqlx::query_as(LIST).bind(project_id).fetch_all(&self.pool).await?;
            convert(rows)
        }

        async fn target(&self, project_id: i64, target_id: i64) -> StoreResult<Target> {
            let row: TargetRow = sqlx::query_as(ONE).bind(project_id).bind(target_id).fetch_one(&self.pool).await?;
            row.try_into()
        }

        async fn update_target_url(&self, project_id: i64, target_id: i64, url: &str) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(UPDATE_URL).bind(url).bind(project_id).bind(target_id).execute(&mut *conn).await?;
            one_row(done.rows_affected())
        }

        async fn remove_target(&self, project_id: i64, target_id: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(REMOVE).bind(project_id).bind(target_id).execute(&mut *conn).await?;
            one_row(done.rows_affected())
        }
    }
}
