//! `server backup`: a consistent copy of a live SQLite database.
//!
//! `VACUUM INTO` reads one snapshot (a read transaction: in WAL mode the
//! console keeps committing meanwhile) and writes it, compacted, into a new
//! file. The copy is made a single self-contained file (rollback journal,
//! no WAL beside it), checked, flushed, and only then renamed to its name.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::error::DataError;
use super::file::{self, explain, Checked};
use super::steps::{same_file, Temp};
use super::url::sqlite_file;

/// A backup made and checked.
#[derive(Debug, Clone)]
pub struct Backup {
    pub source: PathBuf,
    pub checked: Checked,
    pub took: Duration,
}

/// Copies the SQLite database `url` names into `to` while other processes
/// keep using it. An existing `to` is refused unless `force`.
pub async fn backup_sqlite(url: &str, to: &Path, force: bool) -> Result<Backup, DataError> {
    let source = sqlite_file(url)?;
    let to = to.to_owned();
    tokio::task::spawn_blocking(move || backup(source, &to, force)).await.map_err(DataError::db("the backup thread"))?
}

fn backup(source: PathBuf, to: &Path, force: bool) -> Result<Backup, DataError> {
    let started = Instant::now();
    if !source.is_file() {
        return Err(DataError::Refused(format!(
            "there is no SQLite database at {} (database.url): nothing to back up",
            source.display()
        )));
    }
    if to.is_dir() {
        return Err(DataError::Refused(format!("--to {} is a directory: name the backup file", to.display())));
    }
    if same_file(&source, to) {
        return Err(DataError::Refused(format!("--to {} is the database itself", to.display())));
    }
    if to.exists() && !force {
        return Err(DataError::Refused(format!(
            "--to {} exists: give --force to replace it, or another file name",
            to.display()
        )));
    }
    let temp = Temp::beside(to)?;
    {
        // Read-write (never written): a read-only connection cannot always
        // join a WAL database whose index file another process made.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&source, flags).map_err(|e| explain(&source, e))?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(|e| explain(&source, e))?;
        let into = temp.path.to_string_lossy().into_owned();
        conn.execute("VACUUM INTO ?1", [&into]).map_err(|e| explain(&source, e))?;
    }
    let checked = self_contained_and_checked(&temp.path)?;
    temp.put_in_place(to)?;
    let checked = Checked { path: to.to_owned(), ..checked };
    Ok(Backup { source, checked, took: started.elapsed() })
}

/// Makes the file at `path` a rollback-journal database (nothing beside it
/// to copy along) and checks it ([`file::check`]).
pub(super) fn self_contained_and_checked(path: &Path) -> Result<Checked, DataError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| explain(path, e))?;
    conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get::<_, String>(0)).map_err(|e| explain(path, e))?;
    let checked = file::check(&conn, path)?;
    conn.close().map_err(|(_, e)| explain(path, e))?;
    Ok(checked)
}
