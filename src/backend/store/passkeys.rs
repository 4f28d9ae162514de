//! Passkeys: each user's registered WebAuthn credentials.

use async_trait::async_trait;
use sqlx::FromRow;

use super::{PasskeyRecord, StoreResult};
use crate::backend::model::from_ms;

#[async_trait]
pub trait PasskeyStore {
    /// The user's passkeys, oldest first.
    async fn passkeys_of(&self, user_id: i64) -> StoreResult<Vec<PasskeyRecord>>;
    /// The passkey with this credential id (base64url), whoever holds it.
    async fn passkey_by_credential(&self, credential_id: &str) -> StoreResult<Option<PasskeyRecord>>;
    /// Registers a passkey; `Conflict` when the credential is registered
    /// already (to this account or another). Answers its id.
    async fn add_passkey(&self, key: &NewPasskey<'_>) -> StoreResult<i64>;
    /// After a sign-in: the record's new counter, and when it was used.
    async fn passkey_used(&self, id: i64, passkey: &str, now_ms: i64) -> StoreResult<()>;
    /// `NotFound` unless `user_id` holds passkey `id`.
    async fn remove_passkey(&self, user_id: i64, id: i64) -> StoreResult<()>;
    /// Removes every passkey of the user (an owner's reset); answers how many.
    async fn remove_passkeys(&self, user_id: i64) -> StoreResult<u64>;
}

/// A passkey to register.
pub struct NewPasskey<'a> {
    pub user_id: i64,
    pub credential_id: &'a str,
    pub user_handle: &'a str,
    pub name: &'a str,
    pub passkey: &'a str,
    pub now_ms: i64,
}

#[derive(FromRow)]
struct PasskeyRow {
    id: i64,
    user_id: i64,
    credential_id: String,
    user_handle: String,
    name: String,
    passkey: String,
    created_ms: i64,
    last_used_ms: Option<i64>,
}

impl From<PasskeyRow> for PasskeyRecord {
    fn from(r: PasskeyRow) -> Self {
        PasskeyRecord {
            id: r.id,
            user_id: r.user_id,
            credential_id: r.credential_id,
            user_handle: r.user_handle,
            name: r.name,
            passkey: r.passkey,
            created: from_ms(r.created_ms),
            last_used: r.last_used_ms.map(from_ms),
        }
    }
}

const OF_USER: &str = "SELECT id, user_id, credential_id, user_handle, name, passkey, created_ms, last_used_ms \
     FROM passkeys WHERE user_id = $1 ORDER BY id";
const BY_CREDENTIAL: &str = "SELECT id, user_id, credential_id, user_handle, name, passkey, created_ms, last_used_ms \
     FROM passkeys WHERE credential_id = $1";
const ADD: &str = "INSERT INTO passkeys (user_id, credential_id, user_handle, name, passkey, created_ms) \
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
const USED: &str = "UPDATE passkeys SET passkey = $2, last_used_ms = $3 WHERE id = $1";
const REMOVE: &str = "DELETE FROM passkeys WHERE user_id = $1 AND id = $2";
const REMOVE_ALL: &str = "DELETE FROM passkeys WHERE user_id = $1";

both_dialects! {
    #[async_trait]
    impl PasskeyStore for Db {
        async fn passkeys_of(&self, user_id: i64) -> StoreResult<Vec<PasskeyRecord>> {
            let rows: Vec<PasskeyRow> = sqlx::query_as(OF_USER).bind(user_id).fetch_all(&self.pool).await?;
            Ok(rows.into_iter().map(PasskeyRecord::from).collect())
        }

        async fn passkey_by_credential(&self, credential_id: &str) -> StoreResult<Option<PasskeyRecord>> {
            let row: Option<PasskeyRow> =
                sqlx::query_as(BY_CREDENTIAL).bind(credential_id).fetch_optional(&self.pool).await?;
            Ok(row.map(PasskeyRecord::from))
        }

        async fn add_passkey(&self, key: &NewPasskey<'_>) -> StoreResult<i64> {
            let (mut conn, _turn) = self.write_conn().await?;
            let id: i64 = sqlx::query_scalar(ADD)
                .bind(key.user_id)
                .bind(key.credential_id)
                .bind(key.user_handle)
                .bind(key.name)
                .bind(key.passkey)
                .bind(key.now_ms)
                .fetch_one(&mut *conn)
                .await?;
            Ok(id)
        }

        async fn passkey_used(&self, id: i64, passkey: &str, now_ms: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            sqlx::query(USED).bind(id).bind(passkey).bind(now_ms).execute(&mut *conn).await?;
            Ok(())
        }

        async fn remove_passkey(&self, user_id: i64, id: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(REMOVE).bind(user_id).bind(id).execute(&mut *conn).await?;
            super::error::one_row(done.rows_affected())
        }

        async fn remove_passkeys(&self, user_id: i64) -> StoreResult<u64> {
            let (mut conn, _turn) = self.write_conn().await?;
            Ok(sqlx::query(REMOVE_ALL).bind(user_id).execute(&mut *conn).await?.rows_affected())
        }
    }
}
