//! The pieces both API families' bodies use: domain enums as string
//! schemas, the two timestamp forms, the success tag and the request body.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use imgflush::backend::store::TargetState;
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
    "`original`: the listed paths, every variant; `all`: everything cached for the project; `tag` (`/api/v1` only): every object carrying one of the listed cache tags.",
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

/// The anchor's own timestamp form, `2020-08-01 09:57:37.310344`: UTC,
/// microseconds, no zone, so scripts written for the anchor parse it.
#[derive(Debug, Clone, Copy)]
pub struct AnchorTimestamp(pub DateTime<Utc>);

impl Serialize for AnchorTimestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.format("%Y-%m-%d %H:%M:%S%.6f").to_string())
    }
}

impl PartialSchema for AnchorTimestamp {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$"))
            .description(Some(
                "UTC with microseconds and no zone, as the anchor answers, e.g. `2020-08-01 09:57:37.310344`.",
            ))
            .into()
    }
}

impl ToSchema for AnchorTimestamp {}

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

/// Body of `POST /api/v1/invalidations`: the anchor's, plus tags.
#[derive(Debug, Deserialize, ToSchema)]
pub struct V1InvalidationRequest {
    /// `original`, `all` or `tag` (any letter case). An unknown value answers 400.
    #[schema(value_type = ScopeCode)]
    pub scope: String,
    /// Origin paths such as `/sample.li/flat1.jpg` (a trailing `*` flushes a
    /// prefix); 1 to 15 for scope `original`, none for `all` and `tag`.
    #[schema(max_items = 15)]
    pub urls: Option<Vec<String>>,
    /// Cache tags (scope `tag` only, 1 to 15): every object the origin
    /// labelled with one (`Surrogate-Key`, `Cache-Tag`, `xkey` headers, as
    /// the project's settings name them) or a tag rule gave its path. 1 to
    /// 128 visible ASCII characters each, no comma, not starting with `/`
    /// or `imgflush-`.
    #[schema(max_items = 15)]
    pub tags: Option<Vec<String>>,
    /// Schedule it: RFC 3339 with an offset (`2026-12-07T09:00:00+01:00`),
    /// at most 365 days ahead. It is stored at once (with its ID, shown as
    /// scheduled) and no worker claims it earlier; it can be cancelled
    /// until then. A time already past runs at once.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub not_before: Option<String>,
}

const _: () =
    assert!(imgflush::domain::tag::API_MAX_TAGS == 15, "update the `max_items` of V1InvalidationRequest::tags");
