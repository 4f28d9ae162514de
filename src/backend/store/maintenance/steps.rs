//! File steps of a backup and a restore: a temporary file beside the
//! destination, flushed to disk, then renamed over it (a reader of the
//! destination sees the old file or the new one, never a half-written one).

use std::fs::File;
use std::path::{Path, PathBuf};

use super::error::DataError;

/// A file beside `dest` (same directory, so the rename is atomic), removed
/// when dropped unless [`Temp::put_in_place`] moved it.
pub(super) struct Temp {
    pub(super) path: PathBuf,
    placed: bool,
}

impl Temp {
    /// `.NAME.PID.NANOS.tmp` beside `dest`; the directory must exist.
    pub(super) fn beside(dest: &Path) -> Result<Temp, DataError> {
        let dir = parent(dest);
        if !dir.is_dir() {
            return Err(DataError::Refused(format!("the directory {} does not exist: create it first", dir.display())));
        }
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let path = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
        Ok(Temp { path, placed: false })
    }

    /// Flushes the file, renames it to `dest` and flushes the directory, so
    /// that the new name survives a power cut.
    pub(super) fn put_in_place(mut self, dest: &Path) -> Result<(), DataError> {
        let flush = DataError::io(format!("flushing {}", self.path.display()));
        File::open(&self.path).and_then(|f| f.sync_all()).map_err(flush)?;
        let what = format!("renaming {} to {}", self.path.display(), dest.display());
        std::fs::rename(&self.path, dest).map_err(DataError::io(what))?;
        self.placed = true;
        let dir = parent(dest);
        File::open(dir).and_then(|d| d.sync_all()).map_err(DataError::io(format!("flushing {}", dir.display())))
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if self.placed {
            return;
        }
        let _ = std::fs::remove_file(&self.path);
        for side in sidecars(&self.path) {
            let _ = std::fs::remove_file(side);
        }
    }
}

/// The directory `path` is in (`.` for a bare file name).
pub(super) fn parent(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// The files SQLite keeps beside a database: its WAL, the WAL's index and
/// the rollback journal. Another database's would be read as this one's.
pub(super) fn sidecars(db: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [with("-wal"), with("-shm"), with("-journal")]
}

/// Removes `db`'s sidecars that exist; answers which.
pub(super) fn remove_sidecars(db: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut removed = Vec::new();
    for side in sidecars(db) {
        match std::fs::remove_file(&side) {
            Ok(()) => removed.push(side),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(DataError::io(format!("removing {}", side.display()))(e)),
        }
    }
    Ok(removed)
}

/// Whether `a` and `b` are the same file (both existing).
pub(super) fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
