//! The rusqlite side of SQLite (the writer's and the reader's connections):
//! statements written once for both dialects, run as SQLite numbers its
//! parameters, with errors mapped onto the pool's.

use std::borrow::Cow;

use rusqlite::{Connection, ToSql};

use super::error::sqlite_error;
use super::StoreResult;

/// `sql` written for both dialects (`$1`, `$2`…) as SQLite numbers its
/// parameters for positional binding (`?1`, `?2`…): SQLite reads `$1` as a
/// *named* parameter, numbered in order of first appearance.
pub(crate) fn numbered(sql: &str) -> Cow<'_, str> {
    if !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Runs one statement (dialect-neutral text, see [`numbered`]); rows changed.
pub(crate) fn execute(conn: &Connection, sql: &str, params: &[&dyn ToSql]) -> StoreResult<usize> {
    let mut stmt = conn.prepare_cached(&numbered(sql)).map_err(sqlite_error)?;
    stmt.execute(params).map_err(sqlite_error)
}

/// Runs one statement that returns at most one row, read by `read`.
pub(crate) fn query_opt<T>(
    conn: &Connection,
    sql: &str,
    params: &[&dyn ToSql],
    read: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Option<T>> {
    let mut stmt = conn.prepare_cached(&numbered(sql)).map_err(sqlite_error)?;
    let mut rows = stmt.query(params).map_err(sqlite_error)?;
    match rows.next().map_err(sqlite_error)? {
        Some(row) => read(row).map(Some).map_err(sqlite_error),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn parameters_keep_their_numbers() {
        assert_eq!(numbered("SELECT 1"), "SELECT 1");
        assert_eq!(numbered("VALUES ($1, $10, $2) WHERE a = $1"), "VALUES (?1, ?10, ?2) WHERE a = ?1");
        assert_eq!(numbered("SELECT '$' || $3"), "SELECT '$' || ?3");
    }
}
