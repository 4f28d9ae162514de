//! The rusqlite side of SQLite (the writer's and the reader's connections):
//! statements written once for both dialects, run as SQLite numbers its
//! parameters, with errors mapped onto the pool's.

use std::borrow::Cow;

use rusqlite::{Connection, ToSql};

use crate::backend::store::error::sqlite_error;
use crate::backend::store::error::StoreResult;

/// `sql` written for both dialects (`$1`, `$2`…) as SQLite numbers its
/// parameters for positional binding (`?1`, `?2`…): SQLite reads `$1` as a
/// *named* parameter, numbered in order of first appearance.
pub(crate) fn numbered(sql: &str) -> Cow<'_, str> {
    // Runs for every statement the writer executes: whole slices between the
    // `$`s (found with memchr), not a push per character.
    let mut dollars = sql.match_indices('$').map(|(i, _)| i).peekable();
    if dollars.peek().is_none() {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    for i in dollars {
        if sql.as_bytes().get(i + 1).is_some_and(u8::is_ascii_digit) {
            out.push_str(&sql[copied..i]);
            out.push('?');
            copied = i + 1;
        }
    }
    out.push_str(&sql[copied..]);
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
        assert_eq!(numbered("SELECT 'é$' || $$1 || '$'"), "SELECT 'é$' || $?1 || '$'");
    }
}
