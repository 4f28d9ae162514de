//! The database as a whole, for the operator's commands: which migrations it
//! has and which this build would apply (`server migrate`), and SQLite's
//! online backup and its restore (`server backup`, `server restore`).
//!
//! Nothing here opens the store: reading the migrations applies none, a
//! backup reads a snapshot beside a running console, and a restore writes
//! only a file that no process has open.

mod backup;
mod error;
mod file;
mod migrations;
mod restore;
mod status;
mod steps;
mod url;

pub use backup::{backup_sqlite, Backup};
pub use error::DataError;
pub use file::{Checked, Counts};
pub use migrations::{apply_migrations, migration_status};
pub use restore::{restore_sqlite, Restored};
pub use status::{migrator, Applied, Known, MigrationStatus};
pub(super) use status::{POSTGRES as POSTGRES_MIGRATIONS, SQLITE as SQLITE_MIGRATIONS};
pub use url::{is_postgres, sqlite_file};
