//! The invalidation service: submit, list, inspect and retry, with the role
//! checks every caller (console, API) goes through.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use super::limits::Limits;
use super::store::*;
use super::{now_ms, Actor, ServiceError};
use crate::domain::{
    parse_path_list_max, validate_paths, FieldError, InvalidationId, PathListError, Role, Scope, Status, API_MAX_PATHS,
    CONSOLE_MAX_PATHS, MAX_LIST_BYTES, MAX_LIST_ERRORS,
};

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

pub struct Created {
    pub invalidation: Invalidation,
    /// True when an `Idempotency-Key` replay returned an earlier invalidation.
    pub replayed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Detail {
    pub invalidation: Invalidation,
    pub events: Vec<StatusEvent>,
    pub targets: Vec<TargetResult>,
}

#[derive(Clone)]
pub struct InvalidationService {
    store: DynStore,
    wake: Arc<Notify>,
    limits: Limits,
}

pub const MAX_PAGE: i64 = 100;
/// Longest log search (an Invalidation ID or a path prefix), in bytes.
pub const MAX_SEARCH_BYTES: usize = 512;

impl InvalidationService {
    pub fn new(store: DynStore, wake: Arc<Notify>, limits: Limits) -> Self {
        InvalidationService { store, wake, limits }
    }

    #[tracing::instrument(skip_all, fields(project = %actor.project.token, scope = ?sub.scope), err(level = "info"))]
    pub async fn submit(&self, actor: &Actor, sub: Submission) -> Result<Created, ServiceError> {
        actor.require(Role::can_submit)?;
        let paths = validate_submission(&sub)?;
        let request_hash = hash_request(sub.scope, &paths);
        if let Some(key) = &sub.idempotency_key {
            match self.store.invalidation_by_idempotency_key(actor.project.id, key).await {
                Ok(existing) => return replay(existing, &request_hash),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if sub.scope == Scope::All {
            // Counted only when a new one is stored (a replay is free).
            self.limits.scope_all(actor.project.id).await?;
        }
        let new = NewInvalidation {
            id: InvalidationId(uuid::Uuid::now_v7()),
            project_id: actor.project.id,
            scope: sub.scope,
            paths,
            submitter: actor.submitter.clone(),
            idempotency_key: sub.idempotency_key.clone(),
            request_hash: Some(request_hash.clone()),
            now_ms: now_ms(),
        };
        let invalidation = match self.store.insert_invalidation(&new).await {
            Ok(inv) => inv,
            // A concurrent request with the same key won the race.
            Err(StoreError::Conflict(_)) if sub.idempotency_key.is_some() => {
                let key = sub.idempotency_key.as_deref().unwrap_or_default();
                let existing = self.store.invalidation_by_idempotency_key(actor.project.id, key).await?;
                return replay(existing, &request_hash);
            }
            Err(e) => return Err(e.into()),
        };
        self.wake_workers().await;
        Ok(Created { invalidation, replayed: false })
    }

    pub async fn wake_workers(&self) {
        self.wake.notify_one();
        if let Err(e) = self.store.announce_job().await {
            tracing::warn!(error = %e, "could not announce the job to other instances");
        }
    }

    pub async fn list(&self, actor: &Actor, mut q: ListQuery) -> Result<Vec<Invalidation>, ServiceError> {
        actor.require(Role::can_read)?;
        q.limit = q.limit.clamp(1, MAX_PAGE);
        Ok(self.store.list_invalidations(actor.project.id, &q).await?)
    }

    pub async fn get(&self, actor: &Actor, id: InvalidationId) -> Result<Invalidation, ServiceError> {
        actor.require(Role::can_read)?;
        Ok(self.store.invalidation(actor.project.id, id).await?)
    }

    pub async fn detail(&self, actor: &Actor, id: InvalidationId) -> Result<Detail, ServiceError> {
        let invalidation = self.get(actor, id).await?;
        let mut targets = self.store.target_results(id).await?;
        // What a target answered (and which address was refused) is for
        // admins; the others see the status and the kind of failure.
        if !actor.role.can_manage() {
            for t in &mut targets {
                t.detail = t.detail.as_deref().map(super::purge::public_detail);
            }
        }
        Ok(Detail { events: self.store.events(id).await?, targets, invalidation })
    }

    /// Long-poll: re-reads the invalidation until it reaches a final status or
    /// `timeout` passes, and returns it as last seen. The worker may run in
    /// another process, so this polls the store: quickly at first (most
    /// invalidations finish in well under a second), then every 250 ms.
    pub async fn wait_for_final(
        &self,
        actor: &Actor,
        id: InvalidationId,
        timeout: std::time::Duration,
    ) -> Result<Invalidation, ServiceError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut pause = std::time::Duration::from_millis(25);
        loop {
            let inv = self.get(actor, id).await?;
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if inv.status.is_final() || left.is_zero() {
                return Ok(inv);
            }
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(250));
        }
    }

    #[tracing::instrument(skip_all, fields(project = %actor.project.token, id = %id), err(level = "info"))]
    pub async fn retry(&self, actor: &Actor, id: InvalidationId) -> Result<Invalidation, ServiceError> {
        actor.require(Role::can_retry)?;
        let inv = match self.store.requeue_for_retry(actor.project.id, id, &actor.submitter.label(), now_ms()).await {
            Err(StoreError::Conflict(_)) => {
                let current = self.store.invalidation(actor.project.id, id).await?;
                return Err(ServiceError::Conflict(format!(
                    "Retry is only possible for ERROR or ERROR_CDN_NODE; this invalidation is {}",
                    current.status.code()
                )));
            }
            other => other?,
        };
        self.wake_workers().await;
        Ok(inv)
    }
}

fn replay(existing: Invalidation, request_hash: &str) -> Result<Created, ServiceError> {
    if existing.request_hash.as_deref() == Some(request_hash) {
        Ok(Created { invalidation: existing, replayed: true })
    } else {
        Err(ServiceError::Conflict(
            "this Idempotency-Key was already used with a different request body; use a new key".into(),
        ))
    }
}

fn hash_request(scope: Scope, paths: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(scope.as_str());
    for p in paths {
        h.update([0u8]);
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
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
