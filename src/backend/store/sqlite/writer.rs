//! SQLite's single writer, with group commit, on a thread of its own.
//!
//! SQLite lets one connection write at a time, and with `synchronous=FULL`
//! (a `201` must survive a power cut) every commit waits for an fsync. So the
//! busy writes — new invalidations with their audit rows, claims, leases and
//! the worker's progress — do not each take a pooled connection and a commit
//! of their own: they queue here, and one thread runs whatever has queued in
//! a single transaction, each write inside its own savepoint (a write that
//! fails, e.g. a duplicate Idempotency-Key, rolls back alone). Callers hear
//! back only after the commit that holds their write. Under load a commit
//! carries dozens of writes; alone, a write waits for nobody.
//!
//! The thread owns its connection (rusqlite, the same SQLite library sqlx
//! links): a statement is a function call with a cached prepared statement,
//! not a round trip to a connection thread. The pool (sqlx) keeps the reads
//! and the rare writes (settings, team, keys).
//!
//! A rare write takes its pool connection, then a [`Turn`]
//! (`SqliteStore::write_conn`): it queues behind the writes already here, and
//! the writer, when it reaches the turn, commits what came before and leaves
//! the lock free until the turn is dropped. Connection first, so the writer
//! never stays paused while a turn's holder waits for the pool. Without it the rare
//! write would poll for the lock (SQLite's busy handler is not fair) while
//! the writer took it again after every commit, and could wait out its
//! `busy_timeout` under a steady stream of submissions.

use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::checkpoint;
use super::turn::{ask_turn, Msg, Op, Reply, Turn};
use crate::backend::store::batch_sizes::{BatchKind, BatchSizes};
use crate::backend::store::error::{sqlite_error, StoreError, StoreResult};

/// Most writes in one commit: bounds how long the first of them waits.
const MAX_BATCH: usize = 256;
/// Prepared statements kept by the writer's connection.
const STATEMENT_CACHE: usize = 64;

/// The longest a [`Turn`] keeps the writer waiting: past it the writer goes
/// on, and the turn's holder waits for the lock like any SQLite client.
const MAX_PAUSE: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub(crate) struct Writer {
    ops: mpsc::Sender<Msg>,
    /// The checkpointer runs while any clone of this lives.
    _alive: Arc<()>,
    /// Where the thread records how many writes each commit carried.
    pub(super) sizes: BatchSizes,
}

impl Writer {
    /// Opens the writer's own connection to `file` (migrated already) and
    /// starts its thread and the checkpointer's. Both end once the last
    /// `Writer` is dropped (the writer's after the checkpointer's next wake-up).
    pub(crate) fn start(file: &Path) -> StoreResult<Self> {
        Self::start_with(file, checkpoint::EVERY)
    }

    /// [`Self::start`], checkpointing every `every`.
    fn start_with(file: &Path, every: Duration) -> StoreResult<Self> {
        let conn = Connection::open(file).map_err(sqlite_error)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(sqlite_error)?;
        // As the pool's connections: WAL, a commit on disk before anyone is
        // told, foreign keys enforced.
        // The writer does not checkpoint (copying the WAL into the database
        // file, with its fsync, in the middle of a group commit): the
        // checkpointer does, on a connection of its own, beside the commits.
        // The savepoint of each write keeps its undo (the statement journal)
        // in memory, not in a temporary file opened and removed per commit.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
             PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY;",
        )
        .map_err(sqlite_error)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let checkpoints = Connection::open(file).map_err(sqlite_error)?;
        checkpoints.busy_timeout(Duration::from_secs(10)).map_err(sqlite_error)?;
        let alive = Arc::new(());
        let watch = Arc::downgrade(&alive);
        let (ops, rx) = mpsc::channel();
        let pauses = ops.clone();
        let sizes = BatchSizes::default();
        let recorded = sizes.clone();
        let spawned = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, rx, recorded))
            .and_then(|_| {
                std::thread::Builder::new()
                    .name("sqlite-checkpoint".into())
                    .spawn(move || checkpoint::run(checkpoints, pauses, watch, every))
            });
        spawned.map_err(|e| unavailable(format!("could not start the database writer: {e}")))?;
        Ok(Writer { ops, _alive: alive, sizes })
    }

    /// Runs `f` in the next group commit; its result once that commit is durable.
    pub(crate) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        let op: Op = Box::new(move |conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let reply: Reply = Box::new(move |committed| {
                let _ = tx.send(match committed {
                    Ok(()) => result,
                    Err(why) => Err(unavailable(why)),
                });
            });
            (ok, reply)
        });
        self.ops.send(Msg::Write(op)).map_err(|_| stopped())?;
        rx.await.map_err(|_| unavailable("the database writer stopped before committing".into()))?
    }

    /// Waits for the writes queued before it to commit, then holds the writer
    /// until the returned turn is dropped: a write through the pool then
    /// finds the lock free.
    pub(crate) async fn turn(&self) -> StoreResult<Turn> {
        let (turn, on_grant) = ask_turn(&self.ops).ok_or_else(stopped)?;
        on_grant.await.map_err(|_| stopped())?;
        Ok(turn)
    }
}

fn stopped() -> StoreError {
    unavailable("the database writer has stopped".into())
}

fn unavailable(why: String) -> StoreError {
    StoreError::Unavailable(sqlx::Error::Io(std::io::Error::other(why)))
}

fn run(conn: Connection, rx: mpsc::Receiver<Msg>, sizes: BatchSizes) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = rx.recv() {
        let mut pause = None;
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Write(op) => batch.push(op),
                Msg::Pause(granted, released) => {
                    pause = Some((granted, released));
                    break;
                }
            }
            if batch.len() < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            sizes.record(BatchKind::Commit, batch.len());
            let (replies, outcome) = commit(&conn, &mut batch);
            let outcome = outcome.map_err(|e| format!("the commit failed: {e}"));
            for reply in replies {
                reply(outcome.clone());
            }
        }
        if let Some((granted, released)) = pause {
            // A turn given up before it was granted is not waited for.
            if granted.send(()).is_ok() {
                let _ = released.recv_timeout(MAX_PAUSE);
            }
        }
    }
}

/// Runs `batch` (emptied) in one transaction; the replies to send and the
/// commit's outcome. When the transaction cannot start, every write in it
/// is dropped, which its caller hears as "the database is unavailable".
fn commit(conn: &Connection, batch: &mut Vec<Op>) -> (Vec<Reply>, Result<(), rusqlite::Error>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        tracing::warn!(error = %e, "the database writer could not start a transaction");
        batch.clear();
        return (Vec::new(), Err(e));
    }
    let mut replies = Vec::with_capacity(batch.len());
    for op in batch.drain(..) {
        if let Err(e) = statement(conn, "SAVEPOINT w", []) {
            tracing::warn!(error = %e, "could not open a savepoint");
            continue;
        }
        let (ok, reply) = op(conn);
        let close = if ok { "RELEASE w" } else { "ROLLBACK TO w" };
        let closed = statement(conn, close, []).and_then(|_| if ok { Ok(0) } else { statement(conn, "RELEASE w", []) });
        if let Err(e) = closed {
            tracing::warn!(error = %e, "could not close a savepoint");
        }
        replies.push(reply);
    }
    let committed = conn.execute_batch("COMMIT");
    if committed.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    (replies, committed)
}

fn statement<P: rusqlite::Params>(conn: &Connection, sql: &str, params: P) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

#[cfg(test)]
mod tests;
