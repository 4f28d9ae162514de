//! Which database a URL names.

use std::path::PathBuf;
use std::str::FromStr;

use super::error::DataError;

/// Whether `url` names a PostgreSQL database (else SQLite).
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The file a `sqlite:` URL names; refused for PostgreSQL and in-memory URLs.
pub fn sqlite_file(url: &str) -> Result<PathBuf, DataError> {
    if is_postgres(url) {
        return Err(DataError::Refused("database.url names a PostgreSQL database, not an SQLite file".into()));
    }
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
        .map_err(|e| DataError::Refused(format!("database.url is not a valid sqlite: URL ({e})")))?;
    let file = options.get_filename();
    // sqlx names an in-memory database `file:sqlx-in-memory-N`.
    let memory = file.to_string_lossy().starts_with("file:sqlx-in-memory") || url.contains("mode=memory");
    if file.as_os_str().is_empty() || memory {
        return Err(DataError::Refused(
            "database.url names an in-memory SQLite database: give a file, e.g. sqlite://data/imgflush.db".into(),
        ));
    }
    Ok(file.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_sqlite_file_is_a_sqlite_file() {
        assert_eq!(sqlite_file("sqlite://data/imgflush.db").unwrap(), PathBuf::from("data/imgflush.db"));
        assert_eq!(
            sqlite_file("sqlite:///var/lib/imgflush.db?mode=rwc").unwrap(),
            PathBuf::from("/var/lib/imgflush.db")
        );
        for url in ["sqlite::memory:", "sqlite://x.db?mode=memory", "postgres://u@h/d"] {
            assert!(matches!(sqlite_file(url), Err(DataError::Refused(_))), "{url}");
        }
    }
}
