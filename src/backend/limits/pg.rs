//! [`SharedLimiter`]'s reconciliation through PostgreSQL (`limiter_counts`,
//! migration 0012): every interval, one transaction zeroes the keys reset
//! here and adds this instance's new counts, then one query reads every row
//! changed since the last read (with an overlap, so a row committed late is
//! still seen). Rows past their window are deleted about once a minute. If
//! the database is away the instance keeps counting alone and sends its
//! events once it is back.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::task::JoinHandle;

use super::shared::{Row, SharedLimiter};

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

/// Rows changed this long before the previous read are read again.
const OVERLAP_MS: i64 = 2_000;
const PRUNE_EVERY_MS: i64 = 60_000;

/// Reconciles `limiter` every `every` until it is dropped.
pub fn spawn_sync(limiter: &Arc<SharedLimiter>, pool: PgPool, every: Duration) -> JoinHandle<()> {
    let weak = Arc::downgrade(limiter);
    tokio::spawn(async move {
        let (mut since, mut pruned, mut failing) = (0i64, 0i64, false);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(limiter) = weak.upgrade() else { break };
            match sync_once(&limiter, &pool, since).await {
                Ok(now) => {
                    since = now - OVERLAP_MS;
                    if failing {
                        tracing::info!("rate-limit sync with PostgreSQL resumed");
                        failing = false;
                    }
                    if now - pruned >= PRUNE_EVERY_MS {
                        pruned = now;
                        if let Err(e) = sqlx::query(PRUNE).bind(now).execute(&pool).await {
                            tracing::warn!(error = %e, "pruning expired rate-limit rows failed");
                        }
                    }
                }
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "rate-limit sync with PostgreSQL failed; counting locally until it is back");
                }
                Err(_) => {}
            }
        }
    })
}

/// One reconciliation; answers the database's time when it began.
pub async fn sync_once(limiter: &SharedLimiter, pool: &PgPool, since_ms: i64) -> Result<i64, sqlx::Error> {
    let outbox = limiter.take_outbox();
    let written = async {
        let mut tx = pool.begin().await?;
        let now: i64 = sqlx::query_scalar(DB_NOW).fetch_one(&mut *tx).await?;
        if !outbox.resets.is_empty() {
            sqlx::query(RESET).bind(&outbox.resets).execute(&mut *tx).await?;
        }
        let mut rows = Vec::new();
        if !outbox.deltas.is_empty() {
            let d = &outbox.deltas;
            rows = sqlx::query_as::<_, Row>(ADD)
                .bind(limiter.instance())
                .bind(d.iter().map(|d| d.key.clone()).collect::<Vec<_>>())
                .bind(d.iter().map(|d| d.slot_ms).collect::<Vec<_>>())
                .bind(d.iter().map(|d| d.events).collect::<Vec<_>>())
                .bind(d.iter().map(|d| d.window_ms).collect::<Vec<_>>())
                .bind(d.iter().map(|d| d.expires_ms).collect::<Vec<_>>())
                .fetch_all(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>((now, rows))
    }
    .await;
    let (now, own) = match written {
        Ok(w) => w,
        Err(e) => {
            limiter.restore(outbox);
            return Err(e);
        }
    };
    limiter.apply(own);
    let changed = sqlx::query_as::<_, Row>(CHANGED).bind(since_ms).bind(now).fetch_all(pool).await?;
    limiter.apply(changed);
    Ok(now)
}
