//! Console users.

use async_trait::async_trait;

use super::error::one_row;
use super::rows::UserRow;
use super::{StoreResult, User};

#[async_trait]
pub trait UserStore {
    async fn create_user(&self, email: &str, password_hash: &str, now_ms: i64) -> StoreResult<User>;
    async fn user_by_email(&self, email: &str) -> StoreResult<User>;
    async fn user_by_id(&self, id: i64) -> StoreResult<User>;
    /// Sets the password (the account counts as `password_set` from now on),
    /// ends every session and every open password link of the account.
    async fn set_password(&self, user_id: i64, password_hash: &str, now_ms: i64) -> StoreResult<()>;
    async fn count_users(&self) -> StoreResult<i64>;
    /// Ends every session signed in under the account's current epoch.
    async fn bump_session_epoch(&self, user_id: i64) -> StoreResult<()>;
    /// Removes the user and their memberships; `NotFound` when there is no such user.
    async fn delete_user(&self, user_id: i64) -> StoreResult<()>;
}

const CREATE: &str = "INSERT INTO users (email, password_hash, created_ms) VALUES ($1, $2, $3) \
     RETURNING id, email, password_hash, session_epoch, instance_role, last_sign_in_ms, password_set";
const BY_EMAIL: &str =
    "SELECT id, email, password_hash, session_epoch, instance_role, last_sign_in_ms, password_set FROM users WHERE email = $1";
const BY_ID: &str =
    "SELECT id, email, password_hash, session_epoch, instance_role, last_sign_in_ms, password_set FROM users WHERE id = $1";
/// A new password ends every session signed in before it, and every open
/// password link of the account (a link must not outlive the password it
/// was meant to set: whoever holds it could take the account over).
const SET_PASSWORD: &str =
    "UPDATE users SET password_hash = $1, password_set = TRUE, session_epoch = session_epoch + 1 WHERE id = $2";
pub(super) const END_PASSWORD_LINKS: &str =
    "UPDATE invitations SET used_ms = $2 WHERE user_id = $1 AND used_ms IS NULL AND kind = 'password'";
const DELETE_MEMBERSHIPS: &str = "DELETE FROM memberships WHERE user_id = $1";
const DELETE: &str = "DELETE FROM users WHERE id = $1";
const COUNT: &str = "SELECT COUNT(*) FROM users";
const BUMP_EPOCH: &str = "UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1";

both_dialects! {
    #[async_trait]
    impl UserStore for Db {
        async fn create_user(&self, email: &str, password_hash: &str, now_ms: i64) -> StoreResult<User> {
            let (mut conn, _turn) = self.write_conn().await?;
            let row: UserRow =
                sqlx::query_as(CREATE).bind(email).bind(password_hash).bind(now_ms).fetch_one(&mut *conn).await?;
            row.try_into()
        }

        async fn user_by_email(&self, email: &str) -> StoreResult<User> {
            let row: UserRow = sqlx::query_as(BY_EMAIL).bind(email).fetch_one(&self.pool).await?;
            row.try_into()
        }

        async fn user_by_id(&self, id: i64) -> StoreResult<User> {
            let row: UserRow = sqlx::query_as(BY_ID).bind(id).fetch_one(&self.pool).await?;
            row.try_into()
        }

        async fn set_password(&self, user_id: i64, password_hash: &str, now_ms: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let done = sqlx::query(SET_PASSWORD).bind(password_hash).bind(user_id).execute(&mut *tx).await?;
            one_row(done.rows_affected())?;
            sqlx::query(END_PASSWORD_LINKS).bind(user_id).bind(now_ms).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        }

        async fn count_users(&self) -> StoreResult<i64> {
            let (n,): (i64,) = sqlx::query_as(COUNT).fetch_one(&self.pool).await?;
            Ok(n)
        }

        async fn bump_session_epoch(&self, user_id: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(BUMP_EPOCH).bind(user_id).execute(&mut *conn).await?;
            one_row(done.rows_affected())
        }

        async fn delete_user(&self, user_id: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            sqlx::query(DELETE_MEMBERSHIPS).bind(user_id).execute(&mut *tx).await?;
            let done = sqlx::query(DELETE).bind(user_id).execute(&mut *tx).await?;
            one_row(done.rows_affected())?;
            tx.commit().await?;
            Ok(())
        }
    }
}
