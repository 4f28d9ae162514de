//! One SQLite file, read directly (rusqlite, on a blocking thread): its
//! integrity, its migrations, what it holds, and whether a process has it
//! open.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::super::sqlite::lite::numbered;
use super::error::DataError;
use super::status::{applied, Applied, MigrationStatus, RECORDED, SQLITE};

const HAS_TABLE: &str = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1";
const TABLES: &str = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
const COUNTS: &str = "SELECT (SELECT COUNT(*) FROM projects), (SELECT COUNT(*) FROM invalidations), \
     (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM api_keys)";
const AUDIT_COUNT: &str = "SELECT COUNT(*) FROM audit_events";

/// What an imgflush database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub projects: i64,
    pub invalidations: i64,
    pub users: i64,
    pub api_keys: i64,
    /// `None` before migration 0009 made the audit trail.
    pub audit_events: Option<i64>,
}

/// An SQLite file found whole and an imgflush database this build can open.
#[derive(Debug, Clone)]
pub struct Checked {
    pub path: PathBuf,
    pub bytes: u64,
    pub counts: Counts,
    pub migrations: MigrationStatus,
}

/// Opens `path` for reading; it must exist.
pub(super) fn open_read_only(path: &Path) -> Result<Connection, DataError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| explain(path, e))?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(|e| explain(path, e))?;
    Ok(conn)
}

/// `_sqlx_migrations` (`None` when missing) and how many other tables there are.
pub(super) fn recorded(conn: &Connection, path: &Path) -> Result<(Option<Vec<Applied>>, i64), DataError> {
    let e = |e| explain(path, e);
    let has: i64 = conn.query_row(&numbered(HAS_TABLE), ["_sqlx_migrations"], |r| r.get(0)).map_err(e)?;
    let tables: i64 = conn.query_row(TABLES, [], |r| r.get(0)).map_err(e)?;
    if has == 0 {
        return Ok((None, tables));
    }
    let mut stmt = conn.prepare(RECORDED).map_err(e)?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))).map_err(e)?;
    let rows = rows.collect::<Result<Vec<_>, _>>().map_err(e)?;
    Ok((Some(rows.into_iter().map(applied).collect()), tables - 1))
}

/// `PRAGMA integrity_check`, then: an imgflush database (its
/// `_sqlx_migrations` holds no migration unknown to this build, none
/// modified, none failed), and what it holds.
pub(super) fn check(conn: &Connection, path: &Path) -> Result<Checked, DataError> {
    let e = |e| explain(path, e);
    let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(e)?;
    let found = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(e)?.collect::<Result<Vec<_>, _>>().map_err(e)?;
    if found != ["ok"] {
        let first: Vec<_> = found.into_iter().take(3).collect();
        return Err(DataError::Refused(format!(
            "{} is damaged: PRAGMA integrity_check found: {}",
            path.display(),
            first.join("; ")
        )));
    }
    let (recorded, tables) = recorded(conn, path)?;
    let migrations = MigrationStatus::new("sqlite", recorded, tables, &SQLITE);
    if migrations.recorded.is_none() {
        let why = migrations.problem().unwrap_or_else(|| "it is not an imgflush database: it is empty".into());
        return Err(DataError::Refused(format!("{}: {why}", path.display())));
    }
    if let Some(problem) = migrations.problem() {
        return Err(DataError::Refused(format!("{} cannot be used by this build: {problem}", path.display())));
    }
    let read = |r: &rusqlite::Row<'_>| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?));
    let (projects, invalidations, users, api_keys) = conn.query_row(COUNTS, [], read).map_err(e)?;
    let has_audit: i64 = conn.query_row(&numbered(HAS_TABLE), ["audit_events"], |r| r.get(0)).map_err(e)?;
    let audit_events = match has_audit {
        0 => None,
        _ => Some(conn.query_row(AUDIT_COUNT, [], |r| r.get(0)).map_err(e)?),
    };
    let bytes = std::fs::metadata(path).map_err(DataError::io(format!("reading {}", path.display())))?.len();
    let counts = Counts { projects, invalidations, users, api_keys, audit_events };
    Ok(Checked { path: path.to_owned(), bytes, counts, migrations })
}

/// Whether another connection (any process: a console, a worker, a CLI
/// command) has the database at `path` open. A WAL-mode connection holds a
/// shared lock on the file for as long as it is open, idle or not, so an
/// exclusive lock is refused while one exists (`BEGIN IMMEDIATE` would
/// only see one that is writing at that moment). False for a file that is
/// not a database: SQLite cannot have that open.
pub(super) fn in_use(path: &Path) -> Result<bool, DataError> {
    let e = |e| explain(path, e);
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(e)?;
    conn.busy_timeout(Duration::ZERO).map_err(e)?;
    conn.query_row("PRAGMA locking_mode = EXCLUSIVE", [], |r| r.get::<_, String>(0)).map_err(e)?;
    match conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;") {
        Ok(()) => Ok(false),
        Err(err) => match err.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Ok(true),
            Some(ErrorCode::NotADatabase) => Ok(false),
            _ => Err(e(err)),
        },
    }
}

/// A rusqlite error about `path`, in the operator's words where it says
/// what the file is.
pub(super) fn explain(path: &Path, e: rusqlite::Error) -> DataError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            DataError::Refused(format!("{} is not an SQLite database (SQLite: {e})", path.display()))
        }
        Some(ErrorCode::DatabaseCorrupt) => DataError::Refused(format!("{} is damaged (SQLite: {e})", path.display())),
        Some(ErrorCode::CannotOpen) => DataError::Refused(format!("cannot open {} (SQLite: {e})", path.display())),
        _ => DataError::Database { what: path.display().to_string(), cause: e.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A connection of this process counts as well as another process's:
    /// SQLite tracks the locks of every connection to one file.
    #[test]
    fn an_open_wal_connection_idle_or_not_makes_the_database_in_use() {
        let dir = std::env::temp_dir().join(format!("imgflush-in-use-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let console = Connection::open(&path).unwrap();
        console.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)).unwrap();
        console.execute_batch("CREATE TABLE t (a); INSERT INTO t VALUES (1);").unwrap();
        assert!(in_use(&path).unwrap(), "idle, after a write");
        drop(console);
        assert!(!in_use(&path).unwrap(), "closed");
        std::fs::write(dir.join("text.db"), "not a database").unwrap();
        assert!(!in_use(&dir.join("text.db")).unwrap(), "SQLite cannot have a text file open");
        let err = check(&open_read_only(&dir.join("text.db")).unwrap(), &dir.join("text.db")).unwrap_err();
        assert!(err.to_string().contains("is not an SQLite database"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
