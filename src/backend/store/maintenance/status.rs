//! This build's migrations, and a database's compared with them.

use std::time::Duration;

use sqlx::migrate::Migrator;

use super::url::is_postgres;

/// SQLite's migrations, as the store applies them when it opens.
pub(crate) static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
/// PostgreSQL's migrations, as the store applies them when it opens.
pub(crate) static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

/// The migrations this build applies in the dialect of `url`.
pub fn migrator(url: &str) -> &'static Migrator {
    if is_postgres(url) {
        &POSTGRES
    } else {
        &SQLITE
    }
}

pub(super) const RECORDED: &str =
    "SELECT version, description, success, checksum, execution_time FROM _sqlx_migrations ORDER BY version";

/// A migration this build knows.
#[derive(Debug, Clone, PartialEq)]
pub struct Known {
    pub version: i64,
    pub description: String,
}

/// A migration recorded in the database's `_sqlx_migrations`.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub version: i64,
    pub description: String,
    pub success: bool,
    pub checksum: Vec<u8>,
    /// How long it ran.
    pub took: Duration,
}

/// A database's migrations against this build's.
#[derive(Debug, Clone)]
pub struct MigrationStatus {
    pub dialect: &'static str,
    /// False: the SQLite file is not there yet (every migration is pending).
    pub exists: bool,
    /// `_sqlx_migrations`, oldest first; `None` when the table is missing.
    pub recorded: Option<Vec<Applied>>,
    /// Tables in the database besides `_sqlx_migrations`.
    pub tables: i64,
    /// How many migrations this build has.
    pub known: usize,
    /// Known and not applied: the next start (or `server migrate`) applies them.
    pub pending: Vec<Known>,
    /// Applied but unknown to this build: a newer version made the database.
    pub unknown: Vec<i64>,
    /// Applied with other contents than this build's file of that version.
    pub modified: Vec<i64>,
    /// Recorded as failed part-way.
    pub failed: Vec<i64>,
}

impl MigrationStatus {
    /// Compares what the database recorded with `migrator`'s list.
    pub(super) fn new(dialect: &'static str, recorded: Option<Vec<Applied>>, tables: i64, migrator: &Migrator) -> Self {
        let rows = recorded.as_deref().unwrap_or_default();
        let known: Vec<_> = migrator.iter().filter(|m| !m.migration_type.is_down_migration()).collect();
        let find = |v: i64| known.iter().find(|m| m.version == v);
        let pending = known
            .iter()
            .filter(|m| !rows.iter().any(|r| r.version == m.version))
            .map(|m| Known { version: m.version, description: m.description.to_string() })
            .collect();
        let unknown = rows.iter().filter(|r| find(r.version).is_none()).map(|r| r.version).collect();
        let modified = rows
            .iter()
            .filter(|r| find(r.version).is_some_and(|m| *m.checksum != *r.checksum))
            .map(|r| r.version)
            .collect();
        let failed = rows.iter().filter(|r| !r.success).map(|r| r.version).collect();
        let exists = true;
        MigrationStatus { dialect, exists, recorded, tables, known: known.len(), pending, unknown, modified, failed }
    }

    /// The migrations applied, oldest first.
    pub fn applied(&self) -> &[Applied] {
        self.recorded.as_deref().unwrap_or_default()
    }

    /// Why this build must not run on the database, in the operator's words.
    pub fn problem(&self) -> Option<String> {
        let list = |v: &[i64]| v.iter().map(|n| format!("{n:04}")).collect::<Vec<_>>().join(", ");
        let migrations = |v: &[i64]| if v.len() == 1 { "migration" } else { "migrations" };
        if self.recorded.is_none() && self.tables > 0 {
            return Some(format!(
                "it is not an imgflush database: it has {} and no _sqlx_migrations table",
                crate::domain::count(self.tables as u64, "table", "tables")
            ));
        }
        if !self.unknown.is_empty() {
            return Some(format!(
                "it has {} {} that this build does not know: a newer imgflush made it; \
                 run that version (or restore a backup this version made)",
                migrations(&self.unknown),
                list(&self.unknown)
            ));
        }
        if !self.modified.is_empty() {
            return Some(format!(
                "its {} {} {} applied from other contents than this build's migrations/{}/ files",
                migrations(&self.modified),
                list(&self.modified),
                if self.modified.len() == 1 { "was" } else { "were" },
                self.dialect
            ));
        }
        if !self.failed.is_empty() {
            return Some(format!(
                "{} {} failed part-way: restore the backup taken before the upgrade",
                migrations(&self.failed),
                list(&self.failed)
            ));
        }
        None
    }
}

/// A `_sqlx_migrations` row (execution_time is in nanoseconds).
pub(super) fn applied((version, description, success, checksum, nanos): (i64, String, bool, Vec<u8>, i64)) -> Applied {
    Applied { version, description, success, checksum, took: Duration::from_nanos(nanos.max(0) as u64) }
}
