//! The anchor-compatible endpoints: a script written for the anchor's
//! Invalidation API works by changing the host.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use imgflush::backend::Services;

use super::auth::{ApiJson, Caller};
use super::error::{ApiError, BodyErrors, ErrorBody, KeyErrors};
use super::schema::{AnchorCreated, AnchorStatus, InvalidationRequest};
use super::shared::{parse_id, submit, REPLAYED};

/// Submit an invalidation (anchor format).
///
/// `201` for a new invalidation; `200` when an `Idempotency-Key` replays an
/// earlier one (its current status is shown).
#[utoipa::path(
    post,
    path = "/invalidate",
    tag = "anchor",
    operation_id = "anchorCreate",
    request_body = InvalidationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Same key and body: the earlier invalidation is returned")),
    responses(
        (status = 201, description = "Received", body = AnchorCreated),
        (status = 200, description = "Idempotent replay of an earlier request", body = AnchorCreated,
            headers(("Idempotent-Replayed" = String, description = "`true`"))),
        (status = 400, description = "Bad scope, path, count or malformed JSON", body = ErrorBody),
        (status = 403, description = "Read-only (support) key, or a key limited to path prefixes, tags or scopes asked for more: the message names the first path or tag outside its limits", body = ErrorBody),
        (status = 409, description = "Idempotency-Key reused with another body, or scope all beyond the project's hourly limit (the message says when to retry)", body = ErrorBody),
        BodyErrors,
        KeyErrors,
    ),
    security(("client_key" = []), ("bearer" = []))
)]
pub async fn create(
    Caller(actor): Caller,
    State(services): State<Services>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<InvalidationRequest>,
) -> Result<Response, ApiError> {
    let created = submit(&services, &actor, &headers, req).await?;
    let body = Json(AnchorCreated::new(&created.invalidation));
    Ok(if created.replayed {
        (StatusCode::OK, [REPLAYED], body).into_response()
    } else {
        (StatusCode::CREATED, body).into_response()
    })
}

/// Status of one invalidation (anchor format).
#[utoipa::path(
    get,
    path = "/invalidate/{uuid}",
    tag = "anchor",
    operation_id = "anchorStatus",
    params(("uuid" = String, Path, description = "Invalidation ID")),
    responses(
        (status = 200, description = "The invalidation", body = AnchorStatus),
        (status = 400, description = "Not an Invalidation ID", body = ErrorBody),
        (status = 404, description = "Absent or another project's", body = ErrorBody),
        KeyErrors,
    ),
    security(("client_key" = []), ("bearer" = []))
)]
pub async fn status(
    Caller(actor): Caller,
    State(services): State<Services>,
    Path(uuid): Path<String>,
) -> Result<Json<AnchorStatus>, ApiError> {
    let inv = services.invalidations.get(&actor, parse_id(&uuid)?).await?;
    Ok(Json(inv.into()))
}
