//! Helpers every row type shares: corrupt values, JSON lists, search terms.

use uuid::Uuid;

use crate::backend::model::{ListQuery, Submitter};
use crate::backend::store::error::StoreError;
use crate::domain::{InvalidationId, OriginPath};

pub(super) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub(in crate::backend::store) fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// Lists are stored as JSON text in both dialects.
pub(in crate::backend::store) fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("strings serialise")
}

pub(in crate::backend::store) fn submitter_ids(submitter: &Submitter) -> (Option<i64>, Option<i64>) {
    match submitter {
        Submitter::User { id, .. } => (Some(*id), None),
        Submitter::ApiKey { id, .. } => (None, Some(*id)),
    }
}

/// The trimmed search text as a path-prefix range (canonicalised when it is a
/// valid path, so `/a b` finds `/a%20b`), and the invalidation id it may be.
pub(in crate::backend::store) fn search_terms(q: &ListQuery) -> (Option<(String, String)>, Option<Uuid>) {
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let range = search.map(|s| match OriginPath::parse(s) {
        Ok(p) if !s.ends_with('*') => prefix_range(p.as_str()),
        // Not a path: a tag (`paths` holds a tag invalidation's tags), exactly.
        _ if !s.starts_with('/') => exact_range(s),
        _ => prefix_range(s),
    });
    (range, search.and_then(|s| InvalidationId::parse(s).ok()).map(|id| id.0))
}

/// The range of paths starting with `prefix`: stored paths are ASCII
/// (percent-encoded), and both dialects compare them byte-wise, so no path
/// with the prefix sorts at or after `prefix` followed by U+10FFFF.
/// The range holding `value` alone: no stored entry has a control character.
fn exact_range(value: &str) -> (String, String) {
    (value.to_owned(), format!("{value}\u{1}"))
}

fn prefix_range(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}\u{10FFFF}"))
}
