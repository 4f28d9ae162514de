//! Projects and memberships.

use async_trait::async_trait;

use super::error::one_row;
use super::rows::{convert, json_list, MembershipRow, ProjectRow};
use super::{Membership, NewProject, Project, ProjectSettingsUpdate, StoreError, StoreResult};
use crate::domain::Role;

/// Projects and who belongs to them.
#[async_trait]
pub trait ProjectStore {
    async fn create_project(&self, new: &NewProject, now_ms: i64) -> StoreResult<Project>;
    async fn project_by_token(&self, token: &str) -> StoreResult<Project>;
    async fn project_by_id(&self, id: i64) -> StoreResult<Project>;
    async fn list_projects(&self) -> StoreResult<Vec<Project>>;
    /// Replaces the settings its admins edit; `NotFound` if the project is gone.
    async fn update_project_settings(&self, id: i64, update: &ProjectSettingsUpdate) -> StoreResult<()>;
    async fn set_membership(&self, user_id: i64, project_id: i64, role: Role) -> StoreResult<()>;
    /// `NotFound` when the user is not a member.
    async fn remove_membership(&self, user_id: i64, project_id: i64) -> StoreResult<()>;
    async fn memberships_of(&self, user_id: i64) -> StoreResult<Vec<Membership>>;
    /// The role of `user_id` in the project with `token`; `NotFound` when the
    /// project does not exist *or* the user is not a member (callers answer 404 alike).
    async fn membership(&self, user_id: i64, token: &str) -> StoreResult<Membership>;
}

/// A new project's edge settings: the defaults, with automatic formats on.
const CREATE: &str = "INSERT INTO projects (token, name, origin_hosts, created_ms, edge_settings) \
     VALUES ($1, $2, $3, $4, '{\"auto_format\":true}') \
     RETURNING id, token, name, origin_hosts, max_age_secs, s_maxage_secs, edge_settings";
const BY_TOKEN: &str =
    "SELECT id, token, name, origin_hosts, max_age_secs, s_maxage_secs, edge_settings FROM projects WHERE token = $1";
const BY_ID: &str =
    "SELECT id, token, name, origin_hosts, max_age_secs, s_maxage_secs, edge_settings FROM projects WHERE id = $1";
const LIST: &str =
    "SELECT id, token, name, origin_hosts, max_age_secs, s_maxage_secs, edge_settings FROM projects ORDER BY token";
const UPDATE_SETTINGS: &str = "UPDATE projects SET name = $2, origin_hosts = $3, max_age_secs = $4, \
     s_maxage_secs = $5, edge_settings = $6 WHERE id = $1";
const SET_MEMBERSHIP: &str = "INSERT INTO memberships (user_id, project_id, role) VALUES ($1, $2, $3) \
     ON CONFLICT (user_id, project_id) DO UPDATE SET role = excluded.role";
const REMOVE_MEMBERSHIP: &str = "DELETE FROM memberships WHERE user_id = $1 AND project_id = $2";
const MEMBERSHIPS_OF: &str =
    "SELECT p.id, p.token, p.name, p.origin_hosts, p.max_age_secs, p.s_maxage_secs, p.edge_settings, m.role \
     FROM memberships m JOIN projects p ON p.id = m.project_id \
     WHERE m.user_id = $1 ORDER BY p.token";
const MEMBERSHIP: &str =
    "SELECT p.id, p.token, p.name, p.origin_hosts, p.max_age_secs, p.s_maxage_secs, p.edge_settings, m.role \
     FROM memberships m JOIN projects p ON p.id = m.project_id \
     WHERE m.user_id = $1 AND p.token = $2";

both_dialects! {
    #[async_trait]
    impl ProjectStore for Db {
        async fn update_project_settings(&self, id: i64, update: &ProjectSettingsUpdate) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let edge = serde_json::to_string(&update.edge).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let done = sqlx::query(UPDATE_SETTINGS)
                .bind(id)
                .bind(&update.name)
                .bind(json_list(&update.origin_hosts))
                .bind(update.max_age_secs)
                .bind(update.s_maxage_secs)
                .bind(edge)
                .execute(&mut *conn)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }

        async fn create_project(&self, new: &NewProject, now_ms: i64) -> StoreResult<Project> {
            let (mut conn, _turn) = self.write_conn().await?;
            let row: ProjectRow = sqlx::query_as(CREATE)
                .bind(&new.token)
                .bind(&new.name)
                .bind(json_list(&new.origin_hosts))
                .bind(now_ms)
                .fetch_one(&mut *conn)
                .await?;
            row.try_into()
        }

        async fn project_by_token(&self, token: &str) -> StoreResult<Project> {
            let row: ProjectRow = sqlx::query_as(BY_TOKEN).bind(token).fetch_one(&self.pool).await?;
            row.try_into()
        }

        async fn project_by_id(&self, id: i64) -> StoreResult<Project> {
            let row: ProjectRow = sqlx::query_as(BY_ID).bind(id).fetch_one(&self.pool).await?;
            row.try_into()
        }

        async fn list_projects(&self) -> StoreResult<Vec<Project>> {
            let rows: Vec<ProjectRow> = sqlx::query_as(LIST).fetch_all(&self.pool).await?;
            convert(rows)
        }

        async fn set_membership(&self, user_id: i64, project_id: i64, role: Role) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            sqlx::query(SET_MEMBERSHIP).bind(user_id).bind(project_id).bind(role.as_str()).execute(&mut *conn).await?;
            Ok(())
        }

        async fn remove_membership(&self, user_id: i64, project_id: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(REMOVE_MEMBERSHIP).bind(user_id).bind(project_id).execute(&mut *conn).await?;
            one_row(done.rows_affected())
        }

        async fn memberships_of(&self, user_id: i64) -> StoreResult<Vec<Membership>> {
            let rows: Vec<MembershipRow> = sqlx::query_as(MEMBERSHIPS_OF).bind(user_id).fetch_all(&self.pool).await?;
            convert(rows)
        }

        async fn membership(&self, user_id: i64, token: &str) -> StoreResult<Membership> {
            let row: MembershipRow = sqlx::query_as(MEMBERSHIP).bind(user_id).bind(token).fetch_one(&self.pool).await?;
            row.try_into()
        }
    }
}
