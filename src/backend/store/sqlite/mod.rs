//! SQLite: the connection, its single writer (group commit), the inline
//! reader and the checkpointer. The queries are in the per-aggregate modules.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use reader::Reader;
use turn::Turn;
use writer::Writer;

use super::batch_sizes::BatchMetrics;
use super::error::{StoreError, StoreResult};
use super::health::{Health, PING};
use super::pool::{PoolSize, ACQUIRE_TIMEOUT};

mod checkpoint;
mod jobs;
pub(super) mod lite;
mod reader;
pub(super) mod turn;
mod writer;

pub struct SqliteStore {
    pub(super) pool: SqlitePool,
    /// The busy writes go through one writer with group commit (see `writer.rs`).
    pub(super) writer: Writer,
    /// The reads every API call makes, inline (see `reader.rs`).
    pub(super) reader: Reader,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies migrations.
    pub async fn connect(url: &str, size: PoolSize) -> StoreResult<Self> {
        let options = connect_options(url)?;
        // Writers queue on the file lock (busy_timeout), not on the pool: a lease
        // heartbeat never waits behind the other lanes for a connection.
        let pool = SqlitePoolOptions::new()
            .max_connections(size.max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await?;
        super::maintenance::SQLITE_MIGRATIONS.run(&pool).await?;
        let file = options.get_filename();
        if file.as_os_str() == ":memory:" {
            // The writer has a connection of its own, which would see another database.
            return Err(StoreError::Database(sqlx::Error::Configuration(
                "an in-memory SQLite database is not supported: give a file, e.g. sqlite://data/imgflush.db".into(),
            )));
        }
        let writer = Writer::start(file)?;
        Ok(SqliteStore { pool, writer, reader: Reader::new(file) })
    }

    /// A write through the pool goes in with this: a pool connection, then
    /// its turn at the write lock, after the writes queued in the writer (see
    /// `writer.rs`). Connection first: a turn taken while the pool is
    /// exhausted would keep the writer paused for as long as the wait.
    pub(super) async fn write_conn(&self) -> StoreResult<(PoolConnection<Sqlite>, Option<Turn>)> {
        let conn = self.pool.acquire().await?;
        Ok((conn, Some(self.writer.turn().await?)))
    }
}

/// How every connection to the database `url` names is made (creating the
/// file and its directory if need be); the store's and `server migrate`'s.
pub(crate) fn connect_options(url: &str) -> StoreResult<SqliteConnectOptions> {
    without_memory_statistics();
    if let Some(dir) = file_dir(url) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
    }
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a commit is on disk before anyone is told (a `201` survives a
        // power cut); the writer's group commit pays one fsync for many writes.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true))
}

/// SQLite counts every allocation for `sqlite3_memory_used()`, under a
/// process-wide mutex; nothing here reads those counts, and the writer's
/// thread spent about 8% of its time taking and releasing that mutex.
/// Effective only before SQLite's first connection in the process (SQLite
/// refuses it later, which leaves the counts on: harmless).
fn without_memory_statistics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: sqlite3_config with SQLITE_CONFIG_MEMSTATUS takes one int;
        // before initialisation it only sets a flag, after it returns SQLITE_MISUSE.
        unsafe {
            rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::os::raw::c_int);
        }
    });
}

fn file_dir(url: &str) -> Option<&std::path::Path> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    std::path::Path::new(path).parent().filter(|p| !p.as_os_str().is_empty())
}

#[async_trait]
impl Health for SqliteStore {
    fn dialect(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query(PING).execute(&self.pool).await?;
        Ok(())
    }

    fn record_batches(&self, metrics: BatchMetrics) {
        self.writer.sizes.set(metrics);
    }
}
