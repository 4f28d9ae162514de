//! What the two front doors send, parsed once: a submission from the
//! console's form or the API's JSON, and a log page's status, search, cursor
//! and limit.

use crate::backend::model::{Invalidation, ListQuery};
use crate::backend::ServiceError;
use crate::domain::{
    parse_path_list_max, validate_paths, FieldError, InvalidationId, PathListError, Scope, Status, API_MAX_PATHS,
    CONSOLE_MAX_PATHS, MAX_LIST_BYTES, MAX_LIST_ERRORS,
};

/// The most rows a page of the log holds.
pub const MAX_PAGE: i64 = 100;
/// Longest log search (an Invalidation ID or a path prefix), in bytes.
pub const MAX_SEARCH_BYTES: usize = 512;

/// The paths as the console (one text, split on commas and line breaks) or
/// the API (a JSON array) sends them.
#[derive(Debug, Clone)]
pub enum PathsInput {
    Text(String),
    List(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Submission {
    pub scope: Scope,
    pub paths: PathsInput,
    pub max_paths: usize,
    pub idempotency_key: Option<String>,
}

impl Submission {
    /// The console's form: the scope, the textarea and the "All" confirmation.
    /// The textarea is still posted by a form without JavaScript; All ignores it.
    pub fn from_console(scope: &str, urls: Option<String>, confirm_all: bool) -> Result<Submission, ServiceError> {
        let scope = parse_scope(scope)?;
        let urls = match scope {
            Scope::All if !confirm_all => {
                return Err(ServiceError::field(
                    "confirm_all",
                    "scope All erases the whole cache of this token; tick the confirmation to go ahead",
                ))
            }
            Scope::All => String::new(),
            Scope::Original => urls.unwrap_or_default(),
        };
        Ok(Submission { scope, paths: PathsInput::Text(urls), max_paths: CONSOLE_MAX_PATHS, idempotency_key: None })
    }

    /// The API's JSON body (`{"scope": …, "urls": […]}`) and its `Idempotency-Key`.
    pub fn from_api(
        scope: &str,
        urls: Option<Vec<String>>,
        idempotency_key: Option<String>,
    ) -> Result<Submission, ServiceError> {
        Ok(Submission {
            scope: parse_scope(scope)?,
            paths: PathsInput::List(urls.unwrap_or_default()),
            max_paths: API_MAX_PATHS,
            idempotency_key,
        })
    }
}

fn parse_scope(scope: &str) -> Result<Scope, ServiceError> {
    Scope::parse(scope).map_err(|e| ServiceError::field("scope", e.to_string()))
}

fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

/// A log page as either front door asks for it, before parsing.
#[derive(Debug, Default, Clone)]
pub struct ListParams<'a> {
    pub status: Option<&'a str>,
    pub search: Option<&'a str>,
    /// The keyset cursor, and the name the caller's form gives it
    /// (`before` in the console, `cursor` in the API).
    pub cursor: Option<&'a str>,
    pub cursor_field: &'a str,
    pub limit: Option<&'a str>,
}

impl ListQuery {
    /// Parses what the console and the API both accept, naming the bad field.
    pub fn parse(p: ListParams<'_>, default_limit: i64) -> Result<ListQuery, ServiceError> {
        let limit = match present(p.limit) {
            None => default_limit,
            Some(l) => l.parse::<i64>().ok().filter(|n| (1..=MAX_PAGE).contains(n)).ok_or_else(|| {
                ServiceError::field(
                    "limit",
                    format!("limit must be a whole number from 1 to {MAX_PAGE} (default {default_limit})"),
                )
            })?,
        };
        let before = match present(p.cursor) {
            None => None,
            Some(c) => Some(InvalidationId::parse(c).map_err(|e| ServiceError::field(p.cursor_field, e.to_string()))?),
        };
        let status = match present(p.status) {
            None => None,
            Some(s) => Some(Status::parse(s).map_err(|e| ServiceError::field("status", e.to_string()))?),
        };
        let search = match present(p.search) {
            Some(q) if q.len() > MAX_SEARCH_BYTES => {
                return Err(ServiceError::field(
                    "q",
                    format!("search for an Invalidation ID or a path prefix of at most {MAX_SEARCH_BYTES} bytes"),
                ))
            }
            q => q.map(str::to_owned),
        };
        Ok(ListQuery { before, status, search, limit })
    }
}

/// Validates scope and paths with the shared domain rules; returns canonical paths.
pub fn validate_submission(sub: &Submission) -> Result<Vec<String>, ServiceError> {
    let field = "urls";
    if sub.scope == Scope::All {
        let empty = match &sub.paths {
            PathsInput::Text(t) => t.trim().is_empty(),
            PathsInput::List(l) => l.is_empty(),
        };
        return if empty {
            Ok(Vec::new())
        } else {
            Err(ServiceError::Invalid(vec![FieldError::new(
                field,
                "scope \"all\" flushes the whole token and takes no paths; remove the paths or use scope \"original\"",
            )]))
        };
    }
    let mut unchecked = 0;
    let parsed = match &sub.paths {
        PathsInput::Text(text) if text.len() > MAX_LIST_BYTES => {
            return Err(ServiceError::field(
                field,
                format!(
                    "paste at most {} KB of paths (this list is {} KB); an invalidation takes at most {} paths",
                    MAX_LIST_BYTES / 1024,
                    text.len().div_ceil(1024),
                    sub.max_paths
                ),
            ));
        }
        PathsInput::Text(text) => {
            let list = parse_path_list_max(text, sub.max_paths);
            unchecked = list.not_parsed;
            list.into_result(sub.max_paths)
        }
        PathsInput::List(items) => validate_paths(items, sub.max_paths),
    };
    match parsed {
        Ok(paths) => Ok(paths.into_iter().map(|p| p.as_str().to_owned()).collect()),
        Err(PathListError::Invalid(errors)) => {
            let mut errors: Vec<FieldError> = errors.iter().map(|e| FieldError::from_path(field, e)).collect();
            if unchecked > 0 {
                errors.push(FieldError::new(
                    field,
                    format!("only the first {MAX_LIST_ERRORS} problems are listed; fix them and submit again"),
                ));
            }
            Err(ServiceError::Invalid(errors))
        }
        Err(other) => Err(ServiceError::Invalid(vec![FieldError::new(field, other.to_string())])),
    }
}

/// Where a listing continues: the last row's id when the page was full.
pub fn next_cursor(rows: &[Invalidation], limit: i64) -> Option<InvalidationId> {
    (rows.len() as i64 >= limit).then(|| rows.last().map(|r| r.id)).flatten()
}
