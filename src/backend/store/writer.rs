//! SQLite's single writer, with group commit.
//!
//! SQLite lets one connection write at a time, and with `synchronous=FULL`
//! (a `201` must survive a power cut) every commit waits for an fsync. So the
//! busy writes — new invalidations, their audit rows, claims, leases and the
//! worker's progress — do not each take a pooled connection and a commit of
//! their own: they queue here, and one task runs whatever has queued in a
//! single transaction, each write inside its own savepoint (a write that
//! fails, e.g. a duplicate Idempotency-Key, rolls back alone). Callers hear
//! back only after the commit that holds their write. Under load a commit
//! carries dozens of writes; alone, a write waits for nobody.

use futures::future::BoxFuture;
use sqlx::{Connection, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::{StoreError, StoreResult};

/// Most writes in one commit: bounds how long the first of them waits.
const MAX_BATCH: usize = 256;

/// Told, after the commit, whether the transaction holding the write committed.
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
/// One write: runs on the writer's connection, says whether it succeeded.
type Op = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, (bool, Reply)> + Send>;

#[derive(Clone)]
pub(crate) struct Writer {
    ops: mpsc::UnboundedSender<Op>,
}

impl Writer {
    /// Starts the writer task on the current runtime.
    pub(crate) fn start(pool: SqlitePool) -> Self {
        let (ops, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(pool, rx));
        Writer { ops }
    }

    /// Runs `f` in the next group commit; its result once that commit is durable.
    pub(crate) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        let op: Op = Box::new(move |conn| {
            Box::pin(async move {
                let result = f(conn).await;
                let ok = result.is_ok();
                let reply: Reply = Box::new(move |committed| {
                    let _ = tx.send(match committed {
                        Ok(()) => result,
                        Err(why) => Err(unavailable(why)),
                    });
                });
                (ok, reply)
            })
        });
        self.ops.send(op).map_err(|_| unavailable("the database writer has stopped".into()))?;
        rx.await.map_err(|_| unavailable("the database writer stopped before committing".into()))?
    }
}

fn unavailable(why: String) -> StoreError {
    StoreError::Unavailable(sqlx::Error::Io(std::io::Error::other(why)))
}

async fn run(pool: SqlitePool, mut rx: mpsc::UnboundedReceiver<Op>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let replies = commit(&pool, &mut batch).await;
        let outcome = replies.1.map_err(|e| format!("the commit failed: {e}"));
        for reply in replies.0 {
            reply(outcome.clone());
        }
    }
}

/// Runs `batch` (emptied) in one transaction; the replies to send and the
/// commit's outcome. A write that could not run at all is dropped, which its
/// caller hears as "the database is unavailable".
async fn commit(pool: &SqlitePool, batch: &mut Vec<Op>) -> (Vec<Reply>, Result<(), sqlx::Error>) {
    let mut tx = match pool.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(e) => {
            tracing::warn!(error = %e, "the database writer could not start a transaction");
            batch.clear();
            return (Vec::new(), Err(e));
        }
    };
    let mut replies = Vec::with_capacity(batch.len());
    for op in batch.drain(..) {
        let mut savepoint = match Connection::begin(&mut *tx).await {
            Ok(sp) => sp,
            Err(e) => {
                tracing::warn!(error = %e, "could not open a savepoint");
                continue;
            }
        };
        let (ok, reply) = op(&mut savepoint).await;
        let closed = if ok { savepoint.commit().await } else { savepoint.rollback().await };
        if let Err(e) = closed {
            tracing::warn!(error = %e, "could not close a savepoint");
        }
        replies.push(reply);
    }
    let committed = tx.commit().await;
    (replies, committed)
}
