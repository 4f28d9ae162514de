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
    /// Canonical origin paths; empty for scopes `all` and `tag`.
    pub paths: Vec<String>,
    /// The cache tags of a scope `tag` invalidation; empty otherwise.
    pub tags: Vec<String>,
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
    /// Scheduled: no worker claims it before this time.
    #[schema(required = true)]
    pub not_before: Option<Timestamp>,
}

impl From<Invalidation> for InvalidationView {
    fn from(inv: Invalidation) -> Self {
        InvalidationView {
            id: inv.id.as_uuid(),
            status: StatusCode(inv.status),
            scope: ScopeCode(inv.scope),
            tags: if inv.scope == imgflush::domain::Scope::Tag { inv.paths.clone() } else { Vec::new() },
            paths: if inv.scope == imgflush::domain::Scope::Tag { Vec::new() } else { inv.paths },
            attempt: inv.attempt,
            submitted_by: inv.submitted_by,
            error: inv.error,
            created_at: Timestamp(inv.created),
            updated_at: Timestamp(inv.updated),
            finished_at: inv.finished.map(Timestamp),
            not_before: inv.not_before.map(Timestamp),
        }
    }
}

/// What one target would remove (`?dry_run=true`).
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetPreviewView {
    pub name: String,
    pub kind: TargetKindCode,
    /// `counted` (edges: exact figures from their index), `not_countable`
    /// (Varnish nodes, hooks and CDNs cannot say) or `failed` (the edge did
    /// not answer; `reason` says why).
    pub state: String,
    #[schema(required = true)]
    pub objects: Option<u64>,
    #[schema(required = true)]
    pub bytes: Option<u64>,
    #[schema(required = true)]
    pub reason: Option<String>,
}

/// Answer of `POST /api/v1/invalidations?dry_run=true`: what the purge
/// would remove, nothing removed and nothing stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewResponse {
    pub status: SuccessTag,
    /// Always `true`.
    pub dry_run: bool,
    pub scope: ScopeCode,
    /// The canonical paths, or the tags, as the purge would send them.
    pub items: Vec<String>,
    /// Cached objects and bytes the edges would remove (scope `all`: the
    /// cache to rebuild), summed over the edges that counted.
    pub objects: u64,
    pub bytes: u64,
    /// Every edge answered: the sums are exact.
    pub complete: bool,
    /// The figures in one sentence, e.g. `would remove 1,204 objects (83.0 MB) on the edges`.
    pub summary: String,
    /// Above the project's large-purge thresholds: submitting needs
    /// `confirm=true`; this says why.
    #[schema(required = true)]
    pub needs_confirmation: Option<String>,
    pub targets: Vec<TargetPreviewView>,
}

impl PreviewResponse {
    pub fn new(p: imgflush::domain::preview::Preview, needs_confirmation: Option<String>) -> Self {
        use imgflush::domain::preview::Count;
        let targets = p
            .targets
            .iter()
            .map(|t| {
                let (state, objects, bytes, reason) = match &t.count {
                    Count::Counted { objects, bytes } => ("counted", Some(*objects), Some(*bytes), None),
                    Count::NotCountable => ("not_countable", None, None, None),
                    Count::Failed { reason } => ("failed", None, None, Some(reason.clone())),
                };
                TargetPreviewView {
                    name: t.name.clone(),
                    kind: TargetKindCode(t.kind),
                    state: state.into(),
                    objects,
                    bytes,
                    reason,
                }
            })
            .collect();
        PreviewResponse {
            status: SuccessTag::Success,
            dry_run: true,
            scope: ScopeCode(p.scope),
            complete: p.complete(),
            summary: p.summary(),
            objects: p.objects,
            bytes: p.bytes,
            items: p.items,
            needs_confirmation,
            targets,
        }
    }
}

/// A `200` of create: an idempotent replay's invalidation, or (with
/// `dry_run=true`) the preview. Only the document names this type.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum CreateAnswer {
    Replayed(InvalidationResponse),
    Preview(PreviewResponse),
}

/// What one edge or Varnish node holds of the variant (`check=true`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CacheProbeView {
    pub name: String,
    pub kind: TargetKindCode,
    /// `cached`, `not_cached`, `not_probeable` (hooks and CDNs cannot be
    /// asked) or `failed` (`reason` says why).
    pub state: String,
    /// Seconds since the node stored its copy.
    #[schema(required = true)]
    pub age_secs: Option<u64>,
    /// Past its TTL (served while refetched).
    #[schema(required = true)]
    pub stale: Option<bool>,
    /// Its copy is older than the last DONE invalidation that covered it:
    /// it should not be there.
    pub older_than_last_purge: bool,
    #[schema(required = true)]
    pub reason: Option<String>,
}

/// Answer of `GET /api/v1/lookup`: "is this URL fresh?"
#[derive(Debug, Serialize, ToSchema)]
pub struct LookupResponse {
    pub status: SuccessTag,
    pub token: String,
    /// The canonical origin path the URL addresses.
    pub origin_path: String,
    /// The variant (the URL's raw query), if any.
    #[schema(required = true)]
    pub query: Option<String>,
    /// When the newest DONE invalidation covering it finished.
    #[schema(required = true)]
    pub last_done_at: Option<Timestamp>,
    /// The newest invalidations (at most 20) that covered it: scope `all`,
    /// `original` naming the path or a prefix of it, and (with
    /// `check=true`) `tag` naming one of the tags an edge reported.
    pub invalidations: Vec<InvalidationView>,
    /// With `check=true`: what every target holds, asked from its cache only.
    #[schema(required = true)]
    pub caches: Option<Vec<CacheProbeView>>,
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
