//! SQLite's hot point reads, run on the caller's thread.
//!
//! A read through the pool is a round trip to one of sqlx's connection
//! threads: two thread wake-ups for a lookup that takes SQLite a few
//! microseconds. The reads every API call makes (its key, with its project)
//! run here instead, on a connection of their own, inline: in WAL mode a
//! reader never waits for the writer, so the call stays short enough for the
//! async runtime. Connections are opened read-only, on demand, and the idle
//! ones kept for the next read.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::backend::store::error::sqlite_error;
use crate::backend::store::error::StoreResult;

/// Idle connections kept (one per runtime thread is what a busy API uses).
const MAX_IDLE: usize = 8;
/// Prepared statements kept by each connection.
const STATEMENT_CACHE: usize = 16;

pub(crate) struct Reader {
    file: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Reader {
    pub(crate) fn new(file: &Path) -> Self {
        Reader { file: file.to_owned(), idle: Mutex::new(Vec::new()) }
    }

    /// Runs `f` on an idle read-only connection (opening one when none is idle).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = f(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        result
    }

    fn open(&self) -> StoreResult<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.file, flags).map_err(sqlite_error)?;
        // A WAL reader waits only in rare cases (a writer's recovery); never long.
        conn.busy_timeout(Duration::from_millis(250)).map_err(sqlite_error)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }
}
