//! Request and response bodies of both API families, with their OpenAPI
//! schemas. Domain enums are wrapped so their schema lists exactly the values
//! the domain type serialises to.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use imgflush::backend::invalidations::Detail;
use imgflush::backend::store::{Invalidation, StatusEvent, TargetResult, TargetState};
use imgflush::domain::{Scope, Status, TargetKind, API_MAX_PATHS};

/// A domain enum as a named string schema whose values are its serde form.
macro_rules! string_enum {
    ($wrapper:ident($inner:ty), $name:literal, $doc:literal, $values:expr) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, Serialize)]
        #[serde(transparent)]
        pub struct $wrapper(pub $inner);

        impl PartialSchema for $wrapper {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new().schema_type(Type::String).description(Some($doc)).enum_values(Some($values)).into()
            }
        }

        impl ToSchema for $wrapper {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

string_enum!(StatusCode(Status), "Status", "Pipeline status (API code).", Status::ALL.map(|s| s.code()));
string_enum!(
    ScopeCode(Scope),
    "Scope",
    "`original`: the listed paths, every variant; `all`: everything cached for the project.",
    Scope::ALL.map(|s| s.as_str())
);
string_enum!(TargetKindCode(TargetKind), "TargetKind", "Kind of purge target.", TargetKind::ALL.map(|k| k.as_str()));
string_enum!(
    TargetStateCode(TargetState),
    "TargetState",
    "Result of one purge target.",
    [TargetState::Pending, TargetState::Ok, TargetState::Error, TargetState::Skipped].map(|s| s.as_str())
);

/// RFC 3339 in UTC with milliseconds, e.g. `2025-01-31T09:15:02.123Z`.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(pub DateTime<Utc>);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("RFC 3339 in UTC with milliseconds, e.g. `2025-01-31T09:15:02.123Z`."))
            .into()
    }
}

impl ToSchema for Timestamp {}

/// Always `"success"` in a successful response.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SuccessTag {
    #[default]
    Success,
}

/// Body of `POST /invalidate` and `POST /api/v1/invalidations`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InvalidationRequest {
    /// `original` or `all` (any letter case). An unknown value answers 400.
    #[schema(value_type = ScopeCode)]
    pub scope: String,
    /// Origin paths such as `/sample.li/flat1.jpg` (a trailing `*` flushes a
    /// prefix); 1 to 15 for scope `original`, none for `all`.
    #[schema(max_items = 15)]
    pub urls: Option<Vec<String>>,
}

const _: () = assert!(API_MAX_PATHS == 15, "update the `max_items` of InvalidationRequest::urls");

// ---- anchor-compatible ----------------------------------------------------

/// `POST /invalidate` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnchorCreated {
    pub status: SuccessTag,
    /// `Your invalidation request has been received`
    pub msg: String,
    pub invalidation: AnchorReceipt,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnchorReceipt {
    pub status: StatusCode,
    pub uuid: Uuid,
    pub added_at: Timestamp,
}

/// `GET /invalidate/{uuid}` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnchorStatus {
    pub status: SuccessTag,
    pub invalidation: AnchorInvalidation,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnchorInvalidation {
    pub status: StatusCode,
    pub uuid: Uuid,
    pub added_at: Timestamp,
    pub scope: ScopeCode,
    pub urls: AnchorUrls,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnchorUrls {
    /// The paths as submitted (canonical form); empty for scope `all`.
    pub received: Vec<String>,
    /// All paths once the status is `DONE`, else empty.
    pub invalidated: Vec<String>,
    /// All paths in `ERROR` or `ERROR_CDN_NODE`, else empty.
    pub failed: Vec<String>,
}

impl AnchorCreated {
    pub fn new(inv: &Invalidation) -> Self {
        AnchorCreated {
            status: SuccessTag::Success,
            msg: "Your invalidation request has been received".into(),
            invalidation: AnchorReceipt {
                status: StatusCode(inv.status),
                uuid: inv.id.as_uuid(),
                added_at: Timestamp(inv.created),
            },
        }
    }
}

impl From<Invalidation> for AnchorStatus {
    fn from(inv: Invalidation) -> Self {
        let all_if = |cond: bool| if cond { inv.paths.clone() } else { Vec::new() };
        let urls = AnchorUrls {
            invalidated: all_if(inv.status == Status::Done),
            failed: all_if(inv.status.is_error()),
            received: inv.paths.clone(),
        };
        AnchorStatus {
            status: SuccessTag::Success,
            invalidation: AnchorInvalidation {
                status: StatusCode(inv.status),
                uuid: inv.id.as_uuid(),
                added_at: Timestamp(inv.created),
                scope: ScopeCode(inv.scope),
                urls,
            },
        }
    }
}

// ---- native /api/v1 -------------------------------------------------------

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
