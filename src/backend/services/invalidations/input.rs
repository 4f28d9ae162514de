//! What the two front doors send, parsed once: a submission from the
//! console's form or the API's JSON, and a log page's status, search, cursor
//! and limit.

use crate::backend::model::{Invalidation, ListQuery};
use crate::backend::ServiceError;
use crate::domain::tag::{split_tags, validate_tags, API_MAX_TAGS, CONSOLE_MAX_TAGS};
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
    /// The paths, or under scope Tag the tags.
    pub paths: PathsInput,
    /// At most this many paths (or tags).
    pub max_paths: usize,
    /// The field the paths or tags came in (errors name it).
    pub field: &'static str,
    pub idempotency_key: Option<String>,
    /// The submitter confirmed a purge above the project's thresholds
    /// (`confirm=true`, the console's confirmation box).
    pub confirmed: bool,
    /// Scheduled: no worker claims it before this time (Unix ms).
    pub not_before_ms: Option<i64>,
}

/// How far ahead an invalidation may be scheduled.
pub const MAX_SCHEDULE_DAYS: i64 = 365;

impl Submission {
    /// Marks a large purge as confirmed.
    pub fn confirmed(mut self, yes: bool) -> Self {
        self.confirmed = yes;
        self
    }

    /// Schedules it (`None`: at once).
    pub fn not_before(mut self, at: Option<chrono::DateTime<chrono::Utc>>) -> Self {
        self.not_before_ms = at.map(|t| t.timestamp_millis());
        self
    }
}

/// The API's `not_before`: an RFC 3339 time with its offset
/// (`2026-12-07T09:00:00+01:00`), at most a year ahead.
pub fn parse_not_before(raw: Option<&str>) -> Result<Option<chrono::DateTime<chrono::Utc>>, ServiceError> {
    let Some(raw) = present(raw) else { return Ok(None) };
    let at = chrono::DateTime::parse_from_rfc3339(raw).map_err(|_| {
        ServiceError::field(
            "not_before",
            "give a time with its offset, RFC 3339, e.g. 2026-12-07T09:00:00+01:00 or 2026-12-07T08:00:00Z",
        )
    })?;
    Ok(Some(at.with_timezone(&chrono::Utc)))
}

/// The console's date and time field (`2026-12-07T09:00`, the browser's
/// `datetime-local`) in the user's time zone, `offset_minutes` as
/// JavaScript's `getTimezoneOffset` gives it (UTC when absent).
pub fn parse_local_not_before(
    raw: Option<&str>,
    offset_minutes: Option<&str>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ServiceError> {
    let Some(raw) = present(raw) else { return Ok(None) };
    let bad = || ServiceError::field("not_before", "pick a date and a time, e.g. 2026-12-07 09:00");
    let local = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| bad())?;
    let offset = match present(offset_minutes) {
        None => 0,
        Some(o) => o.parse::<i64>().ok().filter(|o| o.abs() <= 14 * 60).ok_or_else(bad)?,
    };
    // getTimezoneOffset is UTC minus local, in minutes.
    Ok(Some((local + chrono::Duration::minutes(offset)).and_utc()))
}

impl Submission {
    /// The console's form: the scope, the paths' or the tags' textarea and
    /// the "All" confirmation. Both textareas are still posted by a form
    /// without JavaScript; each scope reads its own (All neither).
    pub fn from_console(
        scope: &str,
        urls: Option<String>,
        tags: Option<String>,
        confirm_all: bool,
    ) -> Result<Submission, ServiceError> {
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
            Scope::Tag => tags.unwrap_or_default(),
        };
        let (max_paths, field) =
            if scope == Scope::Tag { (CONSOLE_MAX_TAGS, "tags") } else { (CONSOLE_MAX_PATHS, "urls") };
        Ok(Submission {
            scope,
            paths: PathsInput::Text(urls),
            max_paths,
            field,
            idempotency_key: None,
            confirmed: false,
            not_before_ms: None,
        })
    }

    /// The anchor API's JSON body (`{"scope": …, "urls": […]}`) and its
    /// `Idempotency-Key`.
    pub fn from_api(
        scope: &str,
        urls: Option<Vec<String>>,
        idempotency_key: Option<String>,
    ) -> Result<Submission, ServiceError> {
        Self::from_api_with_tags(scope, urls, None, idempotency_key)
    }

    /// `/api/v1`'s body: also `"tags": […]` with scope `tag`.
    pub fn from_api_with_tags(
        scope: &str,
        urls: Option<Vec<String>>,
        tags: Option<Vec<String>>,
        idempotency_key: Option<String>,
    ) -> Result<Submission, ServiceError> {
        let scope = parse_scope(scope)?;
        let (urls, tags) = (urls.unwrap_or_default(), tags.unwrap_or_default());
        let (items, field, max_paths) = match scope {
            Scope::Tag if !urls.is_empty() => {
                return Err(ServiceError::field(
                    "urls",
                    "scope \"tag\" purges by tag: send the tags in \"tags\" and no \"urls\"",
                ))
            }
            Scope::Tag => (tags, "tags", API_MAX_TAGS),
            _ if !tags.is_empty() => {
                return Err(ServiceError::field(
                    "tags",
                    format!("\"tags\" go with scope \"tag\"; scope \"{scope}\" takes \"urls\""),
                ))
            }
            _ => (urls, "urls", API_MAX_PATHS),
        };
        Ok(Submission {
            scope,
            paths: PathsInput::List(items),
            max_paths,
            field,
            idempotency_key,
            confirmed: false,
            not_before_ms: None,
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

/// Validates scope and paths (or tags) with the shared domain rules;
/// returns canonical paths (or the tags).
pub fn validate_submission(sub: &Submission) -> Result<Vec<String>, ServiceError> {
    let field = sub.field;
    if sub.scope == Scope::Tag {
        let entries = match &sub.paths {
            PathsInput::Text(text) if text.len() > MAX_LIST_BYTES => {
                return Err(ServiceError::field(field, format!("paste at most {} tags", sub.max_paths)))
            }
            PathsInput::Text(text) => split_tags(text),
            PathsInput::List(items) => items.clone(),
        };
        return validate_tags(&entries, sub.max_paths, field)
            .map(|tags| tags.into_iter().map(String::from).collect())
            .map_err(ServiceError::Invalid);
    }
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
