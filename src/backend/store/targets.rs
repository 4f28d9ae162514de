//! Purge targets of a project.

use async_trait::async_trait;

use super::error::one_row;
use super::rows::{convert, TargetRow};
use super::{NewTarget, Sealed, StoreResult, Target};
use crate::domain::TargetKind;

/// Purge targets of a project.
#[async_trait]
pub trait TargetStore {
    async fn add_target(&self, project_id: i64, new: &NewTarget, now_ms: i64) -> StoreResult<Target>;
    async fn list_targets(&self, project_id: i64) -> StoreResult<Vec<Target>>;
    async fn target(&self, project_id: i64, target_id: i64) -> StoreResult<Target>;
    async fn update_target_url(&self, project_id: i64, target_id: i64, url: &str) -> StoreResult<()>;
    /// Replaces everything but the kind (an edit on Settings).
    async fn update_target(&self, project_id: i64, target_id: i64, new: &NewTarget) -> StoreResult<Target>;
    async fn remove_target(&self, project_id: i64, target_id: i64) -> StoreResult<()>;
    /// Which kinds of target each project has (every project: the edges'
    /// settings name the CDN tag headers to send).
    async fn target_kinds(&self) -> StoreResult<Vec<(i64, TargetKind)>>;
    /// Every target's sealed credentials, of every project (key rotation,
    /// the start-up check).
    async fn sealed_credentials(&self) -> StoreResult<Vec<(i64, Sealed)>>;
    /// Replaces the sealed credentials of targets (by ID) in one transaction.
    async fn reseal_credentials(&self, resealed: &[(i64, Sealed)]) -> StoreResult<()>;
}

#[cfg(test)]
const COLUMNS: &str = "id, project_id, kind, name, url, secret, settings, credentials";
const ADD: &str = "INSERT INTO targets (project_id, kind, name, url, secret, settings, credentials, created_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, project_id, kind, name, url, secret, settings, credentials";
const LIST: &str = "SELECT id, project_id, kind, name, url, secret, settings, credentials FROM targets \
     WHERE project_id = $1 ORDER BY id";
const ONE: &str = "SELECT id, project_id, kind, name, url, secret, settings, credentials FROM targets \
     WHERE project_id = $1 AND id = $2";
const UPDATE_URL: &str = "UPDATE targets SET url = $1 WHERE project_id = $2 AND id = $3";
const UPDATE: &str = "UPDATE targets SET name = $1, url = $2, secret = $3, settings = $4, credentials = $5 \
     WHERE project_id = $6 AND id = $7 AND kind = $8 \
     RETURNING id, project_id, kind, name, url, secret, settings, credentials";
const REMOVE: &str = "DELETE FROM targets WHERE project_id = $1 AND id = $2";
const KINDS: &str = "SELECT DISTINCT project_id, kind FROM targets ORDER BY project_id, kind";
const SEALED: &str = "SELECT id, credentials FROM targets WHERE credentials IS NOT NULL ORDER BY id";
const RESEAL: &str = "UPDATE targets SET credentials = $1 WHERE id = $2";

fn settings_json(new: &NewTarget) -> String {
    serde_json::to_string(&new.settings).expect("a map of strings serialises")
}

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
                .bind(settings_json(new))
                .bind(new.credentials.as_ref().map(|c| c.0.as_str()))
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

        async fn update_target(&self, project_id: i64, target_id: i64, new: &NewTarget) -> StoreResult<Target> {
            let (mut conn, _turn) = self.write_conn().await?;
            let row: TargetRow = sqlx::query_as(UPDATE)
                .bind(&new.name)
                .bind(&new.url)
                .bind(&new.secret)
                .bind(settings_json(new))
                .bind(new.credentials.as_ref().map(|c| c.0.as_str()))
                .bind(project_id)
                .bind(target_id)
                .bind(new.kind.as_str())
                .fetch_one(&mut *conn)
                .await?;
            row.try_into()
        }

        async fn remove_target(&self, project_id: i64, target_id: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(REMOVE).bind(project_id).bind(target_id).execute(&mut *conn).await?;
            one_row(done.rows_affected())
        }

        async fn target_kinds(&self) -> StoreResult<Vec<(i64, TargetKind)>> {
            let rows: Vec<(i64, String)> = sqlx::query_as(KINDS).fetch_all(&self.pool).await?;
            // A kind this build does not know has no tag header to send.
            Ok(rows.into_iter().filter_map(|(p, k)| TargetKind::parse(&k).ok().map(|k| (p, k))).collect())
        }

        async fn sealed_credentials(&self) -> StoreResult<Vec<(i64, Sealed)>> {
            let rows: Vec<(i64, String)> = sqlx::query_as(SEALED).fetch_all(&self.pool).await?;
            Ok(rows.into_iter().map(|(id, c)| (id, Sealed(c))).collect())
        }

        async fn reseal_credentials(&self, resealed: &[(i64, Sealed)]) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            for (id, sealed) in resealed {
                sqlx::query(RESEAL).bind(&sealed.0).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_statement_reads_the_same_columns() {
        for sql in [super::ADD, super::LIST, super::ONE, super::UPDATE] {
            assert!(sql.contains(super::COLUMNS), "{sql}");
        }
    }
}
