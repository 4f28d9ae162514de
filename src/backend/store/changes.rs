//! Status changes as they happen, for the live log: PostgreSQL pushes them
//! (a trigger NOTIFYs `imgflush_changes`), SQLite is polled for rows whose
//! `updated_ms` moved. Either way changes made by any process show.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{Change, ChangeFeed, PgStore, SqliteStore, StoreResult};
use crate::domain::{InvalidationId, Status};

const CHANNEL: &str = "imgflush_changes";
const POLL: Duration = Duration::from_millis(300);
/// How far back a poll looks: a write that commits late with an older
/// `updated_ms` is still seen; rows already announced are not sent twice.
const WINDOW_MS: i64 = 5_000;
const RECENT: &str = "SELECT id, project_id, status, updated_ms FROM invalidations WHERE updated_ms > $1";
const LATEST: &str = "SELECT COALESCE(MAX(updated_ms), 0) FROM invalidations";

#[async_trait]
impl ChangeFeed for SqliteStore {
    async fn watch_changes(&self, tx: &broadcast::Sender<Change>) -> StoreResult<()> {
        let (mut latest,): (i64,) = sqlx::query_as(LATEST).fetch_one(&self.pool).await?;
        // What is already there is no change: only what moves from now on.
        let rows: Vec<(Uuid, i64, String, i64)> =
            sqlx::query_as(RECENT).bind(latest - WINDOW_MS).fetch_all(&self.pool).await?;
        let mut seen: HashMap<Uuid, i64> = rows.into_iter().map(|(id, _, _, at)| (id, at)).collect();
        while tx.receiver_count() > 0 {
            tokio::time::sleep(POLL).await;
            let rows: Vec<(Uuid, i64, String, i64)> =
                sqlx::query_as(RECENT).bind(latest - WINDOW_MS).fetch_all(&self.pool).await?;
            for (id, project_id, status, updated) in rows {
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
}

#[async_trait]
impl ChangeFeed for PgStore {
    async fn watch_changes(&self, tx: &broadcast::Sender<Change>) -> StoreResult<()> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        while tx.receiver_count() > 0 {
            let Ok(received) = tokio::time::timeout(Duration::from_secs(1), listener.recv()).await else { continue };
            if let Some(change) = parse(received?.payload()) {
                let _ = tx.send(change);
            }
        }
        Ok(())
    }
}

/// `"project_id id status"`, as the trigger writes it.
fn parse(payload: &str) -> Option<Change> {
    let mut parts = payload.split(' ');
    let project_id = parts.next()?.parse().ok()?;
    let id = InvalidationId::parse(parts.next()?).ok()?;
    let status = Status::parse(parts.next()?).ok()?;
    Some(Change { project_id, id, status })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_trigger_payload() {
        let c = parse("7 0193a5b2-7c1d-7e4f-9a2b-3c4d5e6f7a8b DONE").unwrap();
        assert_eq!((c.project_id, c.status), (7, Status::Done));
        assert!(parse("7 nope DONE").is_none() && parse("").is_none());
    }
}
