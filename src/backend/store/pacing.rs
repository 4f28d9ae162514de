//! Call slots of rate-limited provider accounts, shared by every worker of
//! every instance: a caller reserves the account's next slot atomically
//! (one statement), then waits for it, so calls never exceed the limit
//! wherever they are made.

use async_trait::async_trait;

use super::StoreResult;

#[async_trait]
pub trait PacingStore {
    /// Reserves the next call slot of `account`, at least `every_ms` after
    /// the previous one and not before `now_ms`; answers its start.
    async fn reserve_slot(&self, account: &str, every_ms: i64, now_ms: i64) -> StoreResult<i64>;
    /// When `account`'s next slot starts (none reserved yet: `None`).
    async fn next_slot(&self, account: &str) -> StoreResult<Option<i64>>;
    /// Counts `paths` sent to `account` in `month` (`2026-12`).
    async fn add_usage(&self, account: &str, month: &str, paths: i64) -> StoreResult<()>;
    /// Paths sent in `month`, by account.
    async fn usage(&self, month: &str) -> StoreResult<Vec<(String, i64)>>;
    /// No slot of `account` starts before `until_ms` (a provider's `Retry-After`).
    async fn hold_slots(&self, account: &str, until_ms: i64) -> StoreResult<()>;
}

const RESERVE_SQLITE: &str = "INSERT INTO provider_pacing (account, next_ms) VALUES ($1, $2 + $3) \
     ON CONFLICT (account) DO UPDATE SET next_ms = MAX(provider_pacing.next_ms, $2) + $3 \
     RETURNING next_ms - $3";
const RESERVE_PG: &str = "INSERT INTO provider_pacing (account, next_ms) VALUES ($1, $2 + $3) \
     ON CONFLICT (account) DO UPDATE SET next_ms = GREATEST(provider_pacing.next_ms, $2) + $3 \
     RETURNING next_ms - $3";
const HOLD_SQLITE: &str = "INSERT INTO provider_pacing (account, next_ms) VALUES ($1, $2) \
     ON CONFLICT (account) DO UPDATE SET next_ms = MAX(provider_pacing.next_ms, $2)";
const HOLD_PG: &str = "INSERT INTO provider_pacing (account, next_ms) VALUES ($1, $2) \
     ON CONFLICT (account) DO UPDATE SET next_ms = GREATEST(provider_pacing.next_ms, $2)";

const ADD_USAGE: &str = "INSERT INTO provider_usage (account, month, paths) VALUES ($1, $2, $3) \
     ON CONFLICT (account, month) DO UPDATE SET paths = provider_usage.paths + excluded.paths";
const USAGE: &str = "SELECT account, paths FROM provider_usage WHERE month = $1 ORDER BY account";
const NEXT: &str = "SELECT next_ms FROM provider_pacing WHERE account = $1";

trait PacingSql {
    const RESERVE: &'static str;
    const HOLD: &'static str;
}

impl PacingSql for super::SqliteStore {
    const RESERVE: &'static str = RESERVE_SQLITE;
    const HOLD: &'static str = HOLD_SQLITE;
}

impl PacingSql for super::PgStore {
    const RESERVE: &'static str = RESERVE_PG;
    const HOLD: &'static str = HOLD_PG;
}

both_dialects! {
    #[async_trait]
    impl PacingStore for Db {
        async fn reserve_slot(&self, account: &str, every_ms: i64, now_ms: i64) -> StoreResult<i64> {
            let (mut conn, _turn) = self.write_conn().await?;
            let start: i64 = sqlx::query_scalar(<Db as PacingSql>::RESERVE)
                .bind(account)
                .bind(now_ms)
                .bind(every_ms)
                .fetch_one(&mut *conn)
                .await?;
            Ok(start)
        }

        async fn next_slot(&self, account: &str) -> StoreResult<Option<i64>> {
            Ok(sqlx::query_scalar(NEXT).bind(account).fetch_optional(&self.pool).await?)
        }

        async fn add_usage(&self, account: &str, month: &str, paths: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            sqlx::query(ADD_USAGE).bind(account).bind(month).bind(paths).execute(&mut *conn).await?;
            Ok(())
        }

        async fn usage(&self, month: &str) -> StoreResult<Vec<(String, i64)>> {
            Ok(sqlx::query_as(USAGE).bind(month).fetch_all(&self.pool).await?)
        }

        async fn hold_slots(&self, account: &str, until_ms: i64) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            sqlx::query(<Db as PacingSql>::HOLD).bind(account).bind(until_ms).execute(&mut *conn).await?;
            Ok(())
        }
    }
}
