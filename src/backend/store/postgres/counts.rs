//! The rate limiter's shared counts (`limiter_counts`, migration 0012): what
//! `limits::spawn_sync` writes and reads every interval.

use sqlx::PgPool;

use crate::backend::model::{CountOutbox, CountRow};
use crate::backend::store::error::StoreResult;

/// The database's clock, so instances with skewed clocks agree on "changed since".
const DB_NOW: &str = "SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint";

const RESET: &str = "UPDATE limiter_counts SET events = 0, \
     updated_ms = (extract(epoch from clock_timestamp()) * 1000)::bigint WHERE key = ANY($1)";

const ADD: &str = "INSERT INTO limiter_counts (key, instance, slot_ms, events, window_ms, expires_ms, updated_ms) \
     SELECT k, $1, s, n, w, e, (extract(epoch from clock_timestamp()) * 1000)::bigint \
     FROM UNNEST($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[]) AS t(k, s, n, w, e) \
     ON CONFLICT (key, instance, slot_ms) DO UPDATE \
     SET events = GREATEST(0, limiter_counts.events + EXCLUDED.events), updated_ms = EXCLUDED.updated_ms \
     RETURNING key, instance, slot_ms, events, window_ms";

const CHANGED: &str = "SELECT key, instance, slot_ms, events, window_ms FROM limiter_counts \
     WHERE updated_ms >= $1 AND expires_ms > $2";

const PRUNE: &str = "DELETE FROM limiter_counts WHERE expires_ms <= $1";

type Row = (String, i64, i64, i64, i64);

fn count(row: Row) -> CountRow {
    let (key, instance, slot_ms, events, window_ms) = row;
    CountRow { key, instance, slot_ms, events, window_ms }
}

/// One transaction: the keys reset here zeroed, this instance's new counts
/// added; answers the database's time when it began and the rows as added.
pub async fn add(pool: &PgPool, instance: i64, outbox: &CountOutbox) -> StoreResult<(i64, Vec<CountRow>)> {
    let mut tx = pool.begin().await?;
    let now: i64 = sqlx::query_scalar(DB_NOW).fetch_one(&mut *tx).await?;
    if !outbox.resets.is_empty() {
        sqlx::query(RESET).bind(&outbox.resets).execute(&mut *tx).await?;
    }
    let mut rows = Vec::new();
    if !outbox.deltas.is_empty() {
        let d = &outbox.deltas;
        rows = sqlx::query_as::<_, Row>(ADD)
            .bind(instance)
            .bind(d.iter().map(|d| d.key.clone()).collect::<Vec<_>>())
            .bind(d.iter().map(|d| d.slot_ms).collect::<Vec<_>>())
            .bind(d.iter().map(|d| d.events).collect::<Vec<_>>())
            .bind(d.iter().map(|d| d.window_ms).collect::<Vec<_>>())
            .bind(d.iter().map(|d| d.expires_ms).collect::<Vec<_>>())
            .fetch_all(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok((now, rows.into_iter().map(count).collect()))
}

/// Every count changed since `since_ms` and not expired at `now_ms`.
pub async fn changed(pool: &PgPool, since_ms: i64, now_ms: i64) -> StoreResult<Vec<CountRow>> {
    let rows = sqlx::query_as::<_, Row>(CHANGED).bind(since_ms).bind(now_ms).fetch_all(pool).await?;
    Ok(rows.into_iter().map(count).collect())
}

/// Deletes the counts past their window.
pub async fn prune(pool: &PgPool, now_ms: i64) -> StoreResult<()> {
    sqlx::query(PRUNE).bind(now_ms).execute(pool).await?;
    Ok(())
}
