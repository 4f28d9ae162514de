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

use std::path::Path;
use std::sync::{mpsc, Arc, Weak};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::error::sqlite_error;
use super::{StoreError, StoreResult};

/// Most writes in one commit: bounds how long the first of them waits.
const MAX_BATCH: usize = 256;
/// Prepared statements kept by the writer's connection.
const STATEMENT_CACHE: usize = 64;

/// Told, after the commit, whether the transaction holding the write committed.
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
/// One write: runs on the writer's connection, says whether it succeeded.
type Op = Box<dyn FnOnce(&Connection) -> (bool, Reply) + Send>;

/// How often the checkpointer moves the WAL's pages into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub(crate) struct Writer {
    ops: mpsc::Sender<Op>,
    /// The checkpointer runs while any clone of this lives.
    _alive: Arc<()>,
}

impl Writer {
    /// Opens the writer's own connection to `file` (migrated already) and
    /// starts its thread. The thread ends when the last `Writer` is dropped.
    pub(crate) fn start(file: &Path) -> StoreResult<Self> {
        let conn = Connection::open(file).map_err(sqlite_error)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(sqlite_error)?;
        // As the pool's connections: WAL, a commit on disk before anyone is
        // told, foreign keys enforced.
        // The writer does not checkpoint (copying the WAL into the database
        // file, with its fsync, in the middle of a group commit): the
        // checkpointer does, on a connection of its own, beside the commits.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
             PRAGMA wal_autocheckpoint = 0;",
        )
        .map_err(sqlite_error)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let checkpoints = Connection::open(file).map_err(sqlite_error)?;
        checkpoints.busy_timeout(Duration::from_secs(10)).map_err(sqlite_error)?;
        let alive = Arc::new(());
        let watch = Arc::downgrade(&alive);
        let (ops, rx) = mpsc::channel();
        let spawned =
            std::thread::Builder::new().name("sqlite-writer".into()).spawn(move || run(conn, rx)).and_then(|_| {
                std::thread::Builder::new()
                    .name("sqlite-checkpoint".into())
                    .spawn(move || checkpoint(checkpoints, watch))
            });
        spawned.map_err(|e| unavailable(format!("could not start the database writer: {e}")))?;
        Ok(Writer { ops, _alive: alive })
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
        self.ops.send(op).map_err(|_| unavailable("the database writer has stopped".into()))?;
        rx.await.map_err(|_| unavailable("the database writer stopped before committing".into()))?
    }
}

fn unavailable(why: String) -> StoreError {
    StoreError::Unavailable(sqlx::Error::Io(std::io::Error::other(why)))
}

fn run(conn: Connection, rx: mpsc::Receiver<Op>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = rx.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let (replies, outcome) = commit(&conn, &mut batch);
        let outcome = outcome.map_err(|e| format!("the commit failed: {e}"));
        for reply in replies {
            reply(outcome.clone());
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

/// Checkpoints the WAL every [`CHECKPOINT_EVERY`] (PASSIVE: it never waits
/// for the writer or a reader) until the last `Writer` is dropped.
fn checkpoint(conn: Connection, alive: Weak<()>) {
    while alive.strong_count() > 0 {
        std::thread::sleep(CHECKPOINT_EVERY);
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "could not checkpoint the SQLite WAL");
        }
    }
}

fn statement<P: rusqlite::Params>(conn: &Connection, sql: &str, params: P) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}
