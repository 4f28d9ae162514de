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

use crate::backend::store::postgres::counts;
use crate::backend::store::StoreError;
use tokio::task::JoinHandle;

use super::shared::SharedLimiter;

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
                        if let Err(e) = counts::prune(&pool, now).await {
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
pub async fn sync_once(limiter: &SharedLimiter, pool: &PgPool, since_ms: i64) -> Result<i64, StoreError> {
    let outbox = limiter.take_outbox();
    let (now, own) = match counts::add(pool, limiter.instance(), &outbox).await {
        Ok(w) => w,
        Err(e) => {
            limiter.restore(outbox);
            return Err(e);
        }
    };
    limiter.apply(own);
    limiter.apply(counts::changed(pool, since_ms, now).await?);
    Ok(now)
}
