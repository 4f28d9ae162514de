//! Status changes as they happen, for the live log: rows whose `updated_ms`
//! moved (every status change sets it), polled on both databases, so changes
//! made by any process or instance show.
//!
//! PostgreSQL once pushed them with a trigger that NOTIFYed every change; a
//! transaction that NOTIFYs holds a database-wide lock from its commit until
//! its WAL flush ends, which made every insert and every worker update commit
//! alone (migration 0014 removed it).

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{Change, StoreResult};
use crate::domain::{InvalidationId, Status};

/// Status changes as they happen (the live log).
#[async_trait]
pub trait ChangeFeed {
    /// Sends every status change to `tx` until it has no receivers left.
    async fn watch_changes(&self, tx: &tokio::sync::broadcast::Sender<Change>) -> StoreResult<()>;
}

const POLL: Duration = Duration::from_millis(300);
/// How far back a poll looks: a write that commits late, or that another
/// instance stamped with a clock a little behind, is still seen; rows already
/// announced are not sent twice.
const WINDOW_MS: i64 = 5_000;
const RECENT: &str = "SELECT id, project_id, status, updated_ms FROM invalidations WHERE updated_ms > $1";
const LATEST: &str = "SELECT COALESCE(MAX(updated_ms), 0) FROM invalidations";

type ChangeRow = (Uuid, i64, String, i64);

// The feed of a store whose `pool` runs `LATEST` and `RECENT` as written.
both_dialects! {
    #[async_trait]
    impl ChangeFeed for Db {
        async fn watch_changes(&self, tx: &broadcast::Sender<Change>) -> StoreResult<()> {
            let pool = &self.pool;
            poll(
                tx,
                || async move { Ok(sqlx::query_as::<_, (i64,)>(LATEST).fetch_one(pool).await?.0) },
                |since| async move { Ok(sqlx::query_as(RECENT).bind(since).fetch_all(pool).await?) },
            )
            .await
        }
    }
}

/// Sends the rows that moved since the last poll to `tx`, every [`POLL`],
/// until `tx` has no receivers left.
async fn poll<L, LF, R, RF>(tx: &broadcast::Sender<Change>, latest_now: L, recent: R) -> StoreResult<()>
where
    L: FnOnce() -> LF,
    LF: Future<Output = StoreResult<i64>>,
    R: Fn(i64) -> RF,
    RF: Future<Output = StoreResult<Vec<ChangeRow>>>,
{
    let mut latest = latest_now().await?;
    // What is already there is no change: only what moves from now on.
    let mut seen: HashMap<Uuid, i64> =
        recent(latest - WINDOW_MS).await?.into_iter().map(|(id, _, _, at)| (id, at)).collect();
    while tx.receiver_count() > 0 {
        tokio::time::sleep(POLL).await;
        for (id, project_id, status, updated) in recent(latest - WINDOW_MS).await? {
            latest = latest.max(updated);
            if seen.insert(id, updated) == Some(updated) {
                continue;
            }
            if let Ok(status) = Status::parse(&status) {
                let _ = tx.send(Change { project_id, id: InvalidationId(id), status });
            }
        }
        seen.retain(|_, at| *at > latest - WINDOW_MS);
    }
    Ok(())
}
