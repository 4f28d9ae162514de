//! Bodies of the native `/api/v1` endpoints.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use imgflush::backend::invalidations::Detail;
use imgflush::backend::store::{Invalidation, StatusEvent, TargetResult};

use super::shared::*;

/// One invalidation as the native API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Invalidation)]
pub struct InvalidationView {
    pub id: Uuid,
    pub status: StatusCode,
    pub scope: ScopeCode,
    /// Canonical origin paths; empty for scope `all`.
    pub paths: Vec<String>,
    /// 1, plus one per Retry.
    pub attempt: i32,
    /// Who submitted it: a user's e-mail or `API key <name>`.
    pub submitted_by: String,
    /// Why it failed, in an error status.
    #[schema(required = true)]
    pub error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When it reached its latest final status.
    #[schema(required = true)]
    pub finished_at: Option<Timestamp>,
}

impl From<Invalidation> for InvalidationView {
    fn from(inv: Invalidation) -> Self {
        InvalidationView {
            id: inv.id.as_uuid(),
            status: StatusCode(inv.status),
            scope: ScopeCode(inv.scope),
            paths: inv.paths,
            attempt: inv.attempt,
            submitted_by: inv.submitted_by,
            error: inv.error,
            created_at: Timestamp(inv.created),
            updated_at: Timestamp(inv.updated),
            finished_at: inv.finished.map(Timestamp),
        }
    }
}

/// Answer of create and retry.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvalidationResponse {
    pub status: SuccessTag,
    pub invalidation: InvalidationView,
}

impl From<Invalidation> for InvalidationResponse {
    fn from(inv: Invalidation) -> Self {
        InvalidationResponse { status: SuccessTag::Success, invalidation: inv.into() }
    }
}

/// One status transition.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = StatusEvent)]
pub struct StatusEventView {
    pub status: StatusCode,
    pub attempt: i32,
    #[schema(required = true)]
    pub note: Option<String>,
    pub at: Timestamp,
}

/// The latest result of one purge target.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TargetResult)]
pub struct TargetResultView {
    pub target_id: i64,
    pub kind: TargetKindCode,
    pub name: String,
    pub state: TargetStateCode,
    /// Calls made in the latest run.
    pub attempts: i32,
    /// What the target answered, or why it failed.
    #[schema(required = true)]
    pub detail: Option<String>,
    #[schema(required = true)]
    pub duration_ms: Option<i64>,
    pub updated_at: Timestamp,
}

/// Answer of `GET /api/v1/invalidations/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DetailResponse {
    pub status: SuccessTag,
    pub invalidation: InvalidationView,
    /// Every transition, oldest first.
    pub history: Vec<StatusEventView>,
    pub targets: Vec<TargetResultView>,
}

impl From<Detail> for DetailResponse {
    fn from(d: Detail) -> Self {
        let history = d
            .events
            .into_iter()
            .map(|e: StatusEvent| StatusEventView {
                status: StatusCode(e.status),
                attempt: e.attempt,
                note: e.note,
                at: Timestamp(e.at),
            })
            .collect();
        let targets = d
            .targets
            .into_iter()
            .map(|t: TargetResult| TargetResultView {
                target_id: t.target_id,
                kind: TargetKindCode(t.kind),
                name: t.name,
                state: TargetStateCode(t.state),
                attempts: t.attempts,
                detail: t.detail,
                duration_ms: t.duration_ms,
                updated_at: Timestamp(t.updated),
            })
            .collect();
        DetailResponse { status: SuccessTag::Success, invalidation: d.invalidation.into(), history, targets }
    }
}

/// Answer of `GET /api/v1/invalidations`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListResponse {
    pub status: SuccessTag,
    /// Newest first.
    pub invalidations: Vec<InvalidationView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<Uuid>,
}
