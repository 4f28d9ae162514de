//! The rows of the invalidation log and the worker's queue: an
//! invalidation, a claim, a status event, a target's result.

use sqlx::FromRow;
use uuid::Uuid;

use super::convert::corrupt;
use crate::backend::model::{from_ms, Invalidation, StatusEvent, TargetResult, TargetState};
use crate::backend::store::error::StoreError;
use crate::domain::{InvalidationId, Scope, Status, TargetKind};

#[derive(FromRow)]
pub(in crate::backend::store) struct InvalidationRow {
    pub(in crate::backend::store) id: Uuid,
    project_id: i64,
    scope: String,
    paths: String,
    status: String,
    attempt: i32,
    submitted_by: String,
    error: Option<String>,
    created_ms: i64,
    updated_ms: i64,
    finished_ms: Option<i64>,
    request_hash: Option<String>,
    not_before_ms: Option<i64>,
}

impl TryFrom<InvalidationRow> for Invalidation {
    type Error = StoreError;
    fn try_from(r: InvalidationRow) -> Result<Self, StoreError> {
        Ok(Invalidation {
            id: InvalidationId(r.id),
            project_id: r.project_id,
            scope: Scope::parse(&r.scope).map_err(corrupt)?,
            paths: serde_json::from_str(&r.paths).map_err(corrupt)?,
            status: Status::parse(&r.status).map_err(corrupt)?,
            attempt: r.attempt,
            submitted_by: r.submitted_by,
            error: r.error,
            created: from_ms(r.created_ms),
            updated: from_ms(r.updated_ms),
            finished: r.finished_ms.map(from_ms),
            request_hash: r.request_hash,
            not_before: r.not_before_ms.map(from_ms),
        })
    }
}

impl InvalidationRow {
    /// The columns `INSERT … RETURNING` and the claim list, in their order,
    /// as the SQLite writer's own connection reads them.
    pub(in crate::backend::store) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(InvalidationRow {
            id: r.get(0)?,
            project_id: r.get(1)?,
            scope: r.get(2)?,
            paths: r.get(3)?,
            status: r.get(4)?,
            attempt: r.get(5)?,
            submitted_by: r.get(6)?,
            error: r.get(7)?,
            created_ms: r.get(8)?,
            updated_ms: r.get(9)?,
            finished_ms: r.get(10)?,
            request_hash: r.get(11)?,
            not_before_ms: r.get(12)?,
        })
    }
}

/// What a claim returns: the job, how often this attempt was claimed and its
/// project's setup version.
#[derive(FromRow)]
pub(in crate::backend::store) struct ClaimRow {
    #[sqlx(flatten)]
    pub(in crate::backend::store) job: InvalidationRow,
    pub(in crate::backend::store) claims: i32,
    pub(in crate::backend::store) setup_version: Option<i64>,
}

impl ClaimRow {
    pub(in crate::backend::store) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(ClaimRow { job: InvalidationRow::from_sqlite(r)?, claims: r.get(13)?, setup_version: r.get(14)? })
    }
}

#[derive(FromRow)]
pub(in crate::backend::store) struct EventRow {
    status: String,
    attempt: i32,
    note: Option<String>,
    at_ms: i64,
}

impl TryFrom<EventRow> for StatusEvent {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<Self, StoreError> {
        Ok(StatusEvent {
            status: Status::parse(&r.status).map_err(corrupt)?,
            attempt: r.attempt,
            note: r.note,
            at: from_ms(r.at_ms),
        })
    }
}

#[derive(FromRow)]
pub(in crate::backend::store) struct TargetResultRow {
    target_id: i64,
    kind: String,
    name: String,
    state: String,
    attempts: i32,
    detail: Option<String>,
    duration_ms: Option<i64>,
    updated_ms: i64,
    verified: Option<bool>,
    verify_note: Option<String>,
}

impl TryFrom<TargetResultRow> for TargetResult {
    type Error = StoreError;
    fn try_from(r: TargetResultRow) -> Result<Self, StoreError> {
        Ok(TargetResult {
            target_id: r.target_id,
            kind: TargetKind::parse(&r.kind).map_err(corrupt)?,
            name: r.name,
            state: TargetState::parse(&r.state).ok_or_else(|| corrupt(&r.state))?,
            attempts: r.attempts,
            detail: r.detail,
            duration_ms: r.duration_ms,
            updated: from_ms(r.updated_ms),
            verified: r.verified,
            verify_note: r.verify_note,
        })
    }
}
