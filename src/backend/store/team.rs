//! Who works on what: instance roles, members with the last-admin rule,
//! invitations, sign-in times and ending a user's sessions.

use async_trait::async_trait;

use super::error::one_row;
use super::rows::{convert, MemberRow, UserRow};
use super::{Member, PgStore, SqliteStore, StoreError, StoreResult, TeamStore, User};
use crate::domain::{InstanceRole, Role};

const SET_INSTANCE_ROLE: &str = "UPDATE users SET instance_role = $2 WHERE id = $1";
const RECORD_SIGN_IN: &str = "UPDATE users SET last_sign_in_ms = $2 WHERE id = $1";
const END_SESSIONS: &str = "UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1";
const MEMBERS: &str = "SELECT u.id AS user_id, u.email, m.role, u.last_sign_in_ms, \
     EXISTS (SELECT 1 FROM invitations i WHERE i.user_id = u.id AND i.used_ms IS NULL) AS invited \
     FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 ORDER BY u.email";
const ROLE_OF: &str = "SELECT role FROM memberships WHERE project_id = $1 AND user_id = $2";
const ADMINS: &str = "SELECT COUNT(*) FROM memberships WHERE project_id = $1 AND role = 'admin'";
const SET_ROLE: &str = "UPDATE memberships SET role = $3 WHERE project_id = $1 AND user_id = $2";
const REMOVE: &str = "DELETE FROM memberships WHERE project_id = $1 AND user_id = $2";
const INVITE: &str = "INSERT INTO invitations (token_hash, user_id, created_ms, expires_ms) VALUES ($1, $2, $3, $4)";
/// A new link (or a password set through one) ends every other link of the user.
const END_INVITATIONS: &str = "UPDATE invitations SET used_ms = $2 WHERE user_id = $1 AND used_ms IS NULL";
const USE_INVITATION: &str = "UPDATE invitations SET used_ms = $2 \
     WHERE token_hash = $1 AND used_ms IS NULL AND expires_ms > $2 RETURNING user_id";
/// Setting the password also ends any session the account had.
const SET_PASSWORD: &str = "UPDATE users SET password_hash = $2, session_epoch = session_epoch + 1 WHERE id = $1 \
     RETURNING id, email, password_hash, session_epoch, instance_role, last_sign_in_ms";
/// The last-admin check and the change must not interleave with another
/// change of the same project's members: PostgreSQL locks the project row.
const LOCK_PROJECT_PG: &str = "SELECT id FROM projects WHERE id = $1 FOR UPDATE";
/// SQLite: a write first, so the transaction holds the write lock (waiting
/// for it like any writer) before it reads. A transaction that read first
/// could not take the lock after another writer committed (SQLITE_BUSY, at once).
const LOCK_PROJECT_SQLITE: &str = "UPDATE projects SET id = id WHERE id = $1";

pub const LAST_ADMIN: StoreError =
    StoreError::Conflict("a project needs at least one admin: make someone else admin first");

macro_rules! team_store {
    ($store:ty, $lock:expr) => {
        #[async_trait]
        impl TeamStore for $store {
            async fn set_instance_role(&self, user_id: i64, role: Option<InstanceRole>) -> StoreResult<()> {
                let (mut conn, _turn) = self.write_conn().await?;
                let role = role.map(|r| r.as_str());
                let done = sqlx::query(SET_INSTANCE_ROLE).bind(user_id).bind(role).execute(&mut *conn).await?;
                one_row(done.rows_affected())
            }

            async fn record_sign_in(&self, user_id: i64, now_ms: i64) -> StoreResult<()> {
                let (mut conn, _turn) = self.write_conn().await?;
                sqlx::query(RECORD_SIGN_IN).bind(user_id).bind(now_ms).execute(&mut *conn).await?;
                Ok(())
            }

            async fn end_sessions(&self, user_id: i64) -> StoreResult<()> {
                let (mut conn, _turn) = self.write_conn().await?;
                let done = sqlx::query(END_SESSIONS).bind(user_id).execute(&mut *conn).await?;
                one_row(done.rows_affected())
            }

            async fn members(&self, project_id: i64) -> StoreResult<Vec<Member>> {
                let rows: Vec<MemberRow> = sqlx::query_as(MEMBERS).bind(project_id).fetch_all(&self.pool).await?;
                convert(rows)
            }

            async fn change_member(&self, project_id: i64, user_id: i64, role: Option<Role>) -> StoreResult<Role> {
                let (mut conn, _turn) = self.write_conn().await?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let lock: Option<&str> = $lock;
                if let Some(lock) = lock {
                    sqlx::query(lock).bind(project_id).execute(&mut *tx).await?;
                }
                let (current,): (String,) =
                    sqlx::query_as(ROLE_OF).bind(project_id).bind(user_id).fetch_one(&mut *tx).await?;
                let current = Role::parse(&current).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                if current == Role::Admin && role != Some(Role::Admin) {
                    let (admins,): (i64,) = sqlx::query_as(ADMINS).bind(project_id).fetch_one(&mut *tx).await?;
                    if admins <= 1 {
                        return Err(LAST_ADMIN);
                    }
                }
                match role {
                    Some(r) => sqlx::query(SET_ROLE).bind(project_id).bind(user_id).bind(r.as_str()),
                    None => sqlx::query(REMOVE).bind(project_id).bind(user_id),
                }
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(current)
            }

            async fn create_invitation(
                &self,
                user_id: i64,
                token_hash: &str,
                now_ms: i64,
                expires_ms: i64,
            ) -> StoreResult<()> {
                let (mut conn, _turn) = self.write_conn().await?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                sqlx::query(END_INVITATIONS).bind(user_id).bind(now_ms).execute(&mut *tx).await?;
                sqlx::query(INVITE)
                    .bind(token_hash)
                    .bind(user_id)
                    .bind(now_ms)
                    .bind(expires_ms)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn accept_invitation(&self, token_hash: &str, password_hash: &str, now_ms: i64) -> StoreResult<User> {
                let (mut conn, _turn) = self.write_conn().await?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let (user_id,): (i64,) =
                    sqlx::query_as(USE_INVITATION).bind(token_hash).bind(now_ms).fetch_one(&mut *tx).await?;
                let row: UserRow =
                    sqlx::query_as(SET_PASSWORD).bind(user_id).bind(password_hash).fetch_one(&mut *tx).await?;
                sqlx::query(END_INVITATIONS).bind(user_id).bind(now_ms).execute(&mut *tx).await?;
                tx.commit().await?;
                row.try_into()
            }
        }
    };
}

team_store!(SqliteStore, Some(LOCK_PROJECT_SQLITE));
team_store!(PgStore, Some(LOCK_PROJECT_PG));
