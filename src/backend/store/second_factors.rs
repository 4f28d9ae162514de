//! Second factors: each user's authenticator secret, recovery codes and
//! remembered browsers, and the owner's sign-in policy.

use async_trait::async_trait;
use sqlx::FromRow;

use super::{StoreError, StoreResult, TotpFactor};
use crate::backend::model::from_ms;
use crate::domain::sign_in_policy::{SecondFactorRule, SignInPolicy};

#[async_trait]
pub trait SecondFactorStore {
    /// The user's authenticator secret, confirmed or not.
    async fn totp_of(&self, user_id: i64) -> StoreResult<Option<TotpFactor>>;
    /// Keeps a new unconfirmed secret (replacing an unconfirmed one);
    /// `Conflict` when the user already has a confirmed one.
    async fn put_totp_secret(&self, user_id: i64, secret: &str, now_ms: i64) -> StoreResult<()>;
    /// Confirms the secret at time step `step` and replaces the user's
    /// recovery codes with `code_hashes`, in one transaction.
    async fn confirm_totp(&self, user_id: i64, step: i64, code_hashes: &[String], now_ms: i64) -> StoreResult<()>;
    /// Accepts time step `step` once: false when it (or a later one) was
    /// accepted before, or the secret is not confirmed.
    async fn use_totp_step(&self, user_id: i64, step: i64) -> StoreResult<bool>;
    /// Uses up the recovery code with this hash: false when there is none
    /// unused.
    async fn use_recovery_code(&self, user_id: i64, code_hash: &str, now_ms: i64) -> StoreResult<bool>;
    async fn replace_recovery_codes(&self, user_id: i64, code_hashes: &[String]) -> StoreResult<()>;
    async fn recovery_codes_left(&self, user_id: i64) -> StoreResult<i64>;
    /// Removes the secret, the recovery codes and the remembered browsers;
    /// answers whether there was a secret.
    async fn remove_second_factors(&self, user_id: i64) -> StoreResult<bool>;
    async fn remember_device(&self, user_id: i64, token_hash: &str, now_ms: i64, expires_ms: i64) -> StoreResult<()>;
    /// Whether `user_id` remembered the browser with this token after
    /// `since_ms`, and its period has not ended by `now_ms`.
    async fn device_remembered(&self, user_id: i64, token_hash: &str, now_ms: i64, since_ms: i64) -> StoreResult<bool>;
    async fn sign_in_policy(&self) -> StoreResult<SignInPolicy>;
    async fn set_sign_in_policy(&self, policy: &SignInPolicy, now_ms: i64) -> StoreResult<()>;
}

#[derive(FromRow)]
struct TotpRow {
    secret: String,
    confirmed_ms: Option<i64>,
    last_step: i64,
}

#[derive(FromRow)]
struct PolicyRow {
    second_factor_for: String,
    remember_days: i64,
}

const TOTP_OF: &str = "SELECT secret, confirmed_ms, last_step FROM totp_factors WHERE user_id = $1";
const PUT_SECRET: &str = "INSERT INTO totp_factors (user_id, secret, created_ms) VALUES ($1, $2, $3) \
     ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_ms = excluded.created_ms, last_step = 0 \
     WHERE totp_factors.confirmed_ms IS NULL";
const CONFIRM: &str = "UPDATE totp_factors SET confirmed_ms = $2, last_step = $3 \
     WHERE user_id = $1 AND confirmed_ms IS NULL";
const USE_STEP: &str = "UPDATE totp_factors SET last_step = $2 \
     WHERE user_id = $1 AND confirmed_ms IS NOT NULL AND last_step < $2";
const USE_CODE: &str = "UPDATE recovery_codes SET used_ms = $3 \
     WHERE user_id = $1 AND code_hash = $2 AND used_ms IS NULL";
const DROP_CODES: &str = "DELETE FROM recovery_codes WHERE user_id = $1";
const ADD_CODE: &str = "INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)";
const CODES_LEFT: &str = "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_ms IS NULL";
const DROP_SECRET: &str = "DELETE FROM totp_factors WHERE user_id = $1";
const DROP_DEVICES: &str = "DELETE FROM remembered_devices WHERE user_id = $1";
const FORGET_DEVICES: &str = "DELETE FROM remembered_devices WHERE user_id = $1 AND expires_ms <= $2";
const REMEMBER: &str =
    "INSERT INTO remembered_devices (token_hash, user_id, created_ms, expires_ms) VALUES ($1, $2, $3, $4)";
const REMEMBERED: &str = "SELECT COUNT(*) FROM remembered_devices \
     WHERE user_id = $1 AND token_hash = $2 AND expires_ms > $3 AND created_ms > $4";
const POLICY: &str = "SELECT second_factor_for, CAST(remember_days AS BIGINT) AS remember_days \
     FROM sign_in_policy WHERE id = 1";
const SET_POLICY: &str = "UPDATE sign_in_policy SET second_factor_for = $1, remember_days = $2, updated_ms = $3 \
     WHERE id = 1";

both_dialects! {
    #[async_trait]
    impl SecondFactorStore for Db {
        async fn totp_of(&self, user_id: i64) -> StoreResult<Option<TotpFactor>> {
            let row: Option<TotpRow> = sqlx::query_as(TOTP_OF).bind(user_id).fetch_optional(&self.pool).await?;
            Ok(row.map(|r| TotpFactor {
                secret: r.secret,
                confirmed: r.confirmed_ms.map(from_ms),
                last_step: r.last_step,
            }))
        }

        async fn put_totp_secret(&self, user_id: i64, secret: &str, now_ms: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(PUT_SECRET).bind(user_id).bind(secret).bind(now_ms).execute(&mut *conn).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict("two-step sign-in is already on"));
            }
            Ok(())
        }

        async fn confirm_totp(&self, user_id: i64, step: i64, code_hashes: &[String], now_ms: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let done = sqlx::query(CONFIRM).bind(user_id).bind(now_ms).bind(step).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict("two-step sign-in is already on"));
            }
            sqlx::query(DROP_CODES).bind(user_id).execute(&mut *tx).await?;
            for hash in code_hashes {
                sqlx::query(ADD_CODE).bind(user_id).bind(hash).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        }

        async fn use_totp_step(&self, user_id: i64, step: i64) -> StoreResult<bool> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(USE_STEP).bind(user_id).bind(step).execute(&mut *conn).await?;
            Ok(done.rows_affected() == 1)
        }

        async fn use_recovery_code(&self, user_id: i64, code_hash: &str, now_ms: i64) -> StoreResult<bool> {
            let (mut conn, _turn) = self.write_conn().await?;
            let done = sqlx::query(USE_CODE).bind(user_id).bind(code_hash).bind(now_ms).execute(&mut *conn).await?;
            Ok(done.rows_affected() == 1)
        }

        async fn replace_recovery_codes(&self, user_id: i64, code_hashes: &[String]) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            sqlx::query(DROP_CODES).bind(user_id).execute(&mut *tx).await?;
            for hash in code_hashes {
                sqlx::query(ADD_CODE).bind(user_id).bind(hash).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        }

        async fn recovery_codes_left(&self, user_id: i64) -> StoreResult<i64> {
            Ok(sqlx::query_scalar(CODES_LEFT).bind(user_id).fetch_one(&self.pool).await?)
        }

        async fn remove_second_factors(&self, user_id: i64) -> StoreResult<bool> {
            let (mut conn, _turn) = self.write_conn().await?;
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let done = sqlx::query(DROP_SECRET).bind(user_id).execute(&mut *tx).await?;
            sqlx::query(DROP_CODES).bind(user_id).execute(&mut *tx).await?;
            sqlx::query(DROP_DEVICES).bind(user_id).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(done.rows_affected() > 0)
        }

        async fn remember_device(
            &self,
            user_id: i64,
            token_hash: &str,
            now_ms: i64,
            expires_ms: i64,
        ) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            sqlx::query(FORGET_DEVICES).bind(user_id).bind(now_ms).execute(&mut *conn).await?;
            sqlx::query(REMEMBER).bind(token_hash).bind(user_id).bind(now_ms).bind(expires_ms).execute(&mut *conn).await?;
            Ok(())
        }

        async fn device_remembered(
            &self,
            user_id: i64,
            token_hash: &str,
            now_ms: i64,
            since_ms: i64,
        ) -> StoreResult<bool> {
            let n: i64 = sqlx::query_scalar(REMEMBERED)
                .bind(user_id)
                .bind(token_hash)
                .bind(now_ms)
                .bind(since_ms)
                .fetch_one(&self.pool)
                .await?;
            Ok(n > 0)
        }

        async fn sign_in_policy(&self) -> StoreResult<SignInPolicy> {
            let row: Option<PolicyRow> = sqlx::query_as(POLICY).fetch_optional(&self.pool).await?;
            Ok(row.map_or_else(SignInPolicy::default, |r| SignInPolicy {
                // An unknown value (a newer release's) reads as the strictest.
                second_factor_for: SecondFactorRule::parse(&r.second_factor_for)
                    .unwrap_or(SecondFactorRule::Everyone),
                remember_days: r.remember_days,
            }))
        }

        async fn set_sign_in_policy(&self, policy: &SignInPolicy, now_ms: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            sqlx::query(SET_POLICY)
                .bind(policy.second_factor_for.as_str())
                .bind(policy.remember_days)
                .bind(now_ms)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }
    }
}
