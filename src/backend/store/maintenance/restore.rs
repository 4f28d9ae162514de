//! `server restore`: a backup put in place of the SQLite database, while no
//! process has that database open.
//!
//! Order: refuse what would lose data (a database in use, an existing one
//! without `force`), copy the backup beside the destination and check the
//! copy (integrity, an imgflush database this build can open), check again
//! that nothing opened the destination meanwhile, remove its WAL, WAL index
//! and journal (another database's would be read as the new one's), and
//! rename the copy over it. The migrations the backup lacks run when the
//! console next opens it.

use std::path::{Path, PathBuf};

use super::backup::self_contained_and_checked;
use super::error::DataError;
use super::file::{self, explain, Checked};
use super::steps::{remove_sidecars, same_file, Temp};
use super::url::sqlite_file;

/// A restore done.
#[derive(Debug, Clone)]
pub struct Restored {
    pub database: PathBuf,
    pub checked: Checked,
    /// Whether a database was there before (and is now replaced).
    pub replaced: bool,
    /// The old database's WAL, WAL index or journal, removed.
    pub removed: Vec<PathBuf>,
}

/// Puts the backup `from` in place of the SQLite database `url` names.
/// Refused while any process has that database open, and when it exists
/// unless `force`; nothing is replaced unless the copy checks out.
pub async fn restore_sqlite(from: &Path, url: &str, force: bool) -> Result<Restored, DataError> {
    let database = sqlite_file(url)?;
    let from = from.to_owned();
    tokio::task::spawn_blocking(move || restore(&from, database, force))
        .await
        .map_err(DataError::db("the restore thread"))?
}

fn restore(from: &Path, database: PathBuf, force: bool) -> Result<Restored, DataError> {
    if !from.is_file() {
        return Err(DataError::Refused(format!("--from {}: no such file", from.display())));
    }
    if same_file(from, &database) {
        return Err(DataError::Refused(format!("--from {} is the configured database itself", from.display())));
    }
    let replaced = database.exists();
    if replaced {
        refuse_in_use(&database)?;
        if !force {
            return Err(DataError::Refused(format!(
                "{} (database.url) exists: give --force to replace it (`server backup --to FILE` keeps a copy first)",
                database.display()
            )));
        }
    }
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(DataError::io(format!("creating {}", dir.display())))?;
    }
    // The backup as found, then the copy as it will be used.
    let source = file::open_read_only(from)?;
    file::check(&source, from)?;
    let temp = Temp::beside(&database)?;
    let into = temp.path.to_string_lossy().into_owned();
    source.execute("VACUUM INTO ?1", [&into]).map_err(|e| explain(from, e))?;
    drop(source);
    let checked = self_contained_and_checked(&temp.path)?;
    if database.exists() {
        refuse_in_use(&database)?;
    }
    let removed = remove_sidecars(&database)?;
    temp.put_in_place(&database)?;
    Ok(Restored { checked: Checked { path: database.clone(), ..checked }, database, replaced, removed })
}

fn refuse_in_use(database: &Path) -> Result<(), DataError> {
    if file::in_use(database)? {
        return Err(DataError::Refused(format!(
            "{} (database.url) is open in another process (a running console, worker or command): \
             stop it, then restore",
            database.display()
        )));
    }
    Ok(())
}
