//! Signed-in browser sessions of each user (the account page's list).

use async_trait::async_trait;
use sqlx::FromRow;

use super::{NewSignIn, SignIn, StoreError, StoreResult};
use crate::backend::model::from_ms;

#[async_trait]
pub trait SignInStore {
    /// Records a sign-in, and forgets the user's ended or long idle ones
    /// (last seen before `forget_before_ms`).
    async fn add_sign_in(&self, new: &NewSignIn, forget_before_ms: i64) -> StoreResult<()>;
    /// The sign-in `id` of `user_id`; `NotFound` when absent.
    async fn sign_in_of(&self, user_id: i64, id: &str) -> StoreResult<SignIn>;
    /// Records a request of the session: when, and from where.
    async fn touch_sign_in(&self, id: &str, now_ms: i64, address: Option<&str>) -> StoreResult<()>;
    /// The user's sign-ins not ended and seen since `since_ms`, the most recent first.
    async fn list_sign_ins(&self, user_id: i64, since_ms: i64) -> StoreResult<Vec<SignIn>>;
    /// Ends the user's sign-ins: the one `only`, or all but `except`, or
    /// all; answers how many ended.
    async fn end_sign_ins(
        &self,
        user_id: i64,
        only: Option<&str>,
        except: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<u64>;
}

#[derive(FromRow)]
struct SignInRow {
    id: String,
    user_id: i64,
    created_ms: i64,
    last_seen_ms: i64,
    address: Option<String>,
    user_agent: Option<String>,
    ended_ms: Option<i64>,
}

impl From<SignInRow> for SignIn {
    fn from(r: SignInRow) -> Self {
        SignIn {
            id: r.id,
            user_id: r.user_id,
            created: from_ms(r.created_ms),
            last_seen: from_ms(r.last_seen_ms),
            address: r.address,
            user_agent: r.user_agent,
            ended: r.ended_ms.map(from_ms),
        }
    }
}

const COLUMNS: &str = "id, user_id, created_ms, last_seen_ms, address, user_agent, ended_ms";
const ADD: &str = "INSERT INTO sign_ins (id, user_id, created_ms, last_seen_ms, address, user_agent) \
     VALUES ($1, $2, $3, $3, $4, $5)";
const FORGET: &str = "DELETE FROM sign_ins WHERE user_id = $1 AND (ended_ms IS NOT NULL OR last_seen_ms < $2)";
const TOUCH: &str = "UPDATE sign_ins SET last_seen_ms = $1, address = COALESCE($2, address) WHERE id = $3";
const END: &str = "UPDATE sign_ins SET ended_ms = $1 WHERE user_id = $2 AND ended_ms IS NULL \
     AND ($3 IS NULL OR id = $3) AND ($4 IS NULL OR id <> $4)";

both_dialects! {
    #[async_trait]
    impl SignInStore for Db {
        async fn add_sign_in(&self, new: &NewSignIn, forget_before_ms: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            sqlx::query(FORGET).bind(new.user_id).bind(forget_before_ms).execute(&mut *conn).await?;
            sqlx::query(ADD)
                .bind(&new.id)
                .bind(new.user_id)
                .bind(new.now_ms)
                .bind(&new.address)
                .bind(&new.user_agent)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        async fn sign_in_of(&self, user_id: i64, id: &str) -> StoreResult<SignIn> {
            let sql = format!("SELECT {COLUMNS} FROM sign_ins WHERE id = $1 AND user_id = $2");
            let row: Option<SignInRow> = sqlx::query_as(&sql).bind(id).bind(user_id).fetch_optional(&self.pool).await?;
            row.map(Into::into).ok_or(StoreError::NotFound)
        }

        async fn touch_sign_in(&self, id: &str, now_ms: i64, address: Option<&str>) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            sqlx::query(TOUCH).bind(now_ms).bind(address).bind(id).execute(&mut *conn).await?;
            Ok(())
        }

        async fn list_sign_ins(&self, user_id: i64, since_ms: i64) -> StoreResult<Vec<SignIn>> {
            let sql = format!(
                "SELECT {COLUMNS} FROM sign_ins WHERE user_id = $1 AND ended_ms IS NULL AND last_seen_ms >= $2 \
                 ORDER BY last_seen_ms DESC LIMIT 100"
            );
            let rows: Vec<SignInRow> = sqlx::query_as(&sql).bind(user_id).bind(since_ms).fetch_all(&self.pool).await?;
            Ok(rows.into_iter().map(Into::into).collect())
        }

        async fn end_sign_ins(
            &self,
            user_id: i64,
            only: Option<&str>,
            except: Option<&str>,
            now_ms: i64,
        ) -> StoreResult<u64> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(END).bind(now_ms).bind(user_id).bind(only).bind(except).execute(&mut *conn).await?;
            Ok(done.rows_affected())
        }
    }
}
