//! Who works on what: instance roles, members with the last-admin rule,
//! invitations, sign-in times and ending a user's sessions.

use async_trait::async_trait;

use super::error::one_row;
use super::rows::{convert, InvitationRow, MemberRow, UserRow};
use super::users::END_PASSWORD_LINKS;
use super::User;
use super::{Invitation, InvitationKind, Joined, Member, NewInvitation, PgStore, SqliteStore, StoreError, StoreResult};
use crate::domain::{InstanceRole, Role};

/// Instance roles, members and invitations.
#[async_trait]
pub trait TeamStore {
    /// `NotFound` when there is no such user.
    async fn set_instance_role(&self, user_id: i64, role: Option<InstanceRole>) -> StoreResult<()>;
    async fn record_sign_in(&self, user_id: i64, now_ms: i64) -> StoreResult<()>;
    /// Bumps the session epoch: every session of the user ends at its next request.
    async fn end_sessions(&self, user_id: i64) -> StoreResult<()>;
    async fn members(&self, project_id: i64) -> StoreResult<Vec<Member>>;
    /// Sets (`Some`) or removes (`None`) a member's role and answers the role
    /// they had. `NotFound` when they are not a member, [`LAST_ADMIN`] when
    /// the change would leave the project without an admin.
    async fn change_member(&self, project_id: i64, user_id: i64, role: Option<Role>) -> StoreResult<Role>;
    /// A new account that can sign in only once it has set a password
    /// through an invitation (`password_set` false).
    async fn create_invited_user(&self, email: &str, password_hash: &str, now_ms: i64) -> StoreResult<User>;
    /// A new link. A password link ends the account's other open password
    /// links; a join link ends the earlier join links of the same project.
    async fn create_invitation(
        &self,
        new: &NewInvitation,
        token_hash: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> StoreResult<()>;
    /// The open (unused, unexpired) link with this token hash; `NotFound`
    /// for an unknown, used or expired one alike.
    async fn invitation(&self, token_hash: &str, now_ms: i64) -> StoreResult<Invitation>;
    /// Uses a password link once, before it expires: sets the password and
    /// ends the account's sessions and other password links. `NotFound` for
    /// an unknown, used, expired or join link alike.
    async fn accept_invitation(&self, token_hash: &str, password_hash: &str, now_ms: i64) -> StoreResult<User>;
    /// Uses a join link once, before it expires, and makes the membership it
    /// offers (a membership already there keeps its role). `NotFound` as above.
    async fn accept_join(&self, token_hash: &str, now_ms: i64) -> StoreResult<Joined>;
    /// Ends every open link `project_id` issued to the user; answers how many.
    async fn end_invitations(&self, project_id: i64, user_id: i64, now_ms: i64) -> StoreResult<u64>;
    /// Changes the role an open join link of the project offers; `NotFound` when there is none.
    async fn set_invitation_role(&self, project_id: i64, user_id: i64, role: Role) -> StoreResult<()>;
}

const SET_INSTANCE_ROLE: &str = "UPDATE users SET instance_role = $2 WHERE id = $1";
const RECORD_SIGN_IN: &str = "UPDATE users SET last_sign_in_ms = $2 WHERE id = $1";
const END_SESSIONS: &str = "UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1";
/// The members, then the existing accounts asked to join and not there yet
/// (listed alike, so the list does not tell an admin whether an e-mail had
/// an account).
const MEMBERS: &str = "SELECT u.id AS user_id, u.email, m.role, u.last_sign_in_ms, \
     NOT u.password_set AS invited, FALSE AS pending \
     FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 \
     UNION ALL \
     SELECT u.id, u.email, i.role, u.last_sign_in_ms, TRUE, TRUE \
     FROM invitations i JOIN users u ON u.id = i.user_id \
     WHERE i.project_id = $1 AND i.kind = 'join' AND i.used_ms IS NULL \
     AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.project_id = $1 AND m.user_id = i.user_id) \
     ORDER BY email";
const ROLE_OF: &str = "SELECT role FROM memberships WHERE project_id = $1 AND user_id = $2";
const ADMINS: &str = "SELECT COUNT(*) FROM memberships WHERE project_id = $1 AND role = 'admin'";
const SET_ROLE: &str = "UPDATE memberships SET role = $3 WHERE project_id = $1 AND user_id = $2";
const REMOVE: &str = "DELETE FROM memberships WHERE project_id = $1 AND user_id = $2";
const CREATE_INVITED: &str = "INSERT INTO users (email, password_hash, created_ms, password_set) \
     VALUES ($1, $2, $3, FALSE) \
     RETURNING id, email, password_hash, session_epoch, instance_role, last_sign_in_ms, password_set";
const INVITE: &str = "INSERT INTO invitations (token_hash, user_id, created_ms, expires_ms, kind, project_id, role) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
/// Ends the open links a project issued to a user (all kinds).
const END_PROJECT_LINKS: &str =
    "UPDATE invitations SET used_ms = $3 WHERE user_id = $1 AND project_id = $2 AND used_ms IS NULL";
const OPEN_INVITATION: &str = "SELECT i.user_id, u.email, i.kind, i.project_id, p.name AS project_name, i.role, \
     i.expires_ms FROM invitations i JOIN users u ON u.id = i.user_id LEFT JOIN projects p ON p.id = i.project_id \
     WHERE i.token_hash = $1 AND i.used_ms IS NULL AND i.expires_ms > $2";
const USE_INVITATION: &str = "UPDATE invitations SET used_ms = $2 \
     WHERE token_hash = $1 AND used_ms IS NULL AND expires_ms > $2 AND kind = 'password' RETURNING user_id";
const USE_JOIN: &str = "UPDATE invitations SET used_ms = $2 \
     WHERE token_hash = $1 AND used_ms IS NULL AND expires_ms > $2 AND kind = 'join' \
     AND project_id IS NOT NULL AND role IS NOT NULL RETURNING user_id, project_id, role";
const JOIN: &str = "INSERT INTO memberships (user_id, project_id, role) VALUES ($1, $2, $3) \
     ON CONFLICT (user_id, project_id) DO NOTHING";
const SET_INVITATION_ROLE: &str = "UPDATE invitations SET role = $3 \
     WHERE project_id = $1 AND user_id = $2 AND kind = 'join' AND used_ms IS NULL";
/// Setting the password also ends any session the account had.
const SET_PASSWORD: &str = "UPDATE users SET password_hash = $2, password_set = TRUE, \
     session_epoch = session_epoch + 1 WHERE id = $1 \
     RETURNING id, email, password_hash, session_epoch, instance_role, last_sign_in_ms, password_set";
/// The last-admin check and the change must not interleave with another
/// change of the same project's members: PostgreSQL locks the project row.
const LOCK_PROJECT_PG: &str = "SELECT id FROM projects WHERE id = $1 FOR UPDATE";
/// SQLite: a write first, so the transaction holds the write lock (waiting
/// for it like any writer) before it reads. A transaction that read first
/// could not take the lock after another writer committed (SQLITE_BUSY, at once).
const LOCK_PROJECT_SQLITE: &str = "UPDATE projects SET id = id WHERE id = $1";

pub const LAST_ADMIN: StoreError =
    StoreError::Conflict("a project needs at least one admin: make someone else admin first");

both_dialects! {
    #[async_trait]
    impl TeamStore for Db {
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
            sqlx::query(<Db as LockProject>::SQL).bind(project_id).execute(&mut *tx).await?;
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

        async fn create_invited_user(&self, email: &str, password_hash: &str, now_ms: i64) -> StoreResult<User> {
            let (mut conn, _turn) = self.write_conn().await?;
            let row: UserRow = sqlx::query_as(CREATE_INVITED)
                .bind(email)
                .bind(password_hash)
                .bind(now_ms)
                .fetch_one(&mut *conn)
                .await?;
            row.try_into()
        }

        async fn create_invitation(
            &self,
            new: &NewInvitation,
            token_hash: &str,
            now_ms: i64,
            expires_ms: i64,
        ) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            match (new.kind, new.project_id) {
                (InvitationKind::Password, _) => {
                    sqlx::query(END_PASSWORD_LINKS).bind(new.user_id).bind(now_ms).execute(&mut *tx).await?;
                }
                (InvitationKind::Join, Some(project_id)) => {
                    sqlx::query(END_PROJECT_LINKS)
                        .bind(new.user_id)
                        .bind(project_id)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await?;
                }
                (InvitationKind::Join, None) => {
                    return Err(StoreError::Corrupt("a join link needs the project that issued it".into()))
                }
            }
            sqlx::query(INVITE)
                .bind(token_hash)
                .bind(new.user_id)
                .bind(now_ms)
                .bind(expires_ms)
                .bind(new.kind.as_str())
                .bind(new.project_id)
                .bind(new.role.map(|r| r.as_str()))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        }

        async fn invitation(&self, token_hash: &str, now_ms: i64) -> StoreResult<Invitation> {
            let row: InvitationRow =
                sqlx::query_as(OPEN_INVITATION).bind(token_hash).bind(now_ms).fetch_one(&self.pool).await?;
            row.try_into()
        }

        async fn accept_invitation(&self, token_hash: &str, password_hash: &str, now_ms: i64) -> StoreResult<User> {
            let (mut conn, _turn) = self.write_conn().await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let (user_id,): (i64,) =
                sqlx::query_as(USE_INVITATION).bind(token_hash).bind(now_ms).fetch_one(&mut *tx).await?;
            let row: UserRow =
                sqlx::query_as(SET_PASSWORD).bind(user_id).bind(password_hash).fetch_one(&mut *tx).await?;
            sqlx::query(END_PASSWORD_LINKS).bind(user_id).bind(now_ms).execute(&mut *tx).await?;
            tx.commit().await?;
            row.try_into()
        }

        async fn accept_join(&self, token_hash: &str, now_ms: i64) -> StoreResult<Joined> {
            let (mut conn, _turn) = self.write_conn().await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let (user_id, project_id, role): (i64, i64, String) =
                sqlx::query_as(USE_JOIN).bind(token_hash).bind(now_ms).fetch_one(&mut *tx).await?;
            sqlx::query(JOIN).bind(user_id).bind(project_id).bind(&role).execute(&mut *tx).await?;
            tx.commit().await?;
            let role = Role::parse(&role).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(Joined { user_id, project_id, role })
        }

        async fn end_invitations(&self, project_id: i64, user_id: i64, now_ms: i64) -> StoreResult<u64> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(END_PROJECT_LINKS)
                .bind(user_id)
                .bind(project_id)
                .bind(now_ms)
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected())
        }

        async fn set_invitation_role(&self, project_id: i64, user_id: i64, role: Role) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(SET_INVITATION_ROLE)
                .bind(project_id)
                .bind(user_id)
                .bind(role.as_str())
                .execute(&mut *conn)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }
    }
}

/// The statement that makes the last-admin check and the change one step
/// (see [`LOCK_PROJECT_PG`] and [`LOCK_PROJECT_SQLITE`]).
trait LockProject {
    const SQL: &'static str;
}

impl LockProject for SqliteStore {
    const SQL: &'static str = LOCK_PROJECT_SQLITE;
}

impl LockProject for PgStore {
    const SQL: &'static str = LOCK_PROJECT_PG;
}
