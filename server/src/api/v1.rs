//! The native API under `/api/v1`.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode as Http};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use imgflush::backend::invalidations::{self, next_cursor};
use imgflush::backend::store::ListQuery;
use imgflush::backend::Services;

use super::auth::{ApiJson, ApiQuery, Caller};
use super::error::{ApiError, BodyErrors, ErrorBody, KeyErrors};
use super::schema::{DetailResponse, InvalidationRequest, InvalidationResponse, ListResponse, StatusCode};
use super::shared::{parse_id, submit, REPLAYED};

pub const DEFAULT_PAGE: i64 = 20;
pub const MAX_WAIT_SECS: u64 = 60;

/// Submit an invalidation.
///
/// `201` with `Location` for a new invalidation. With an `Idempotency-Key`
/// already used for the same body: `200`, the earlier invalidation, and
/// `Idempotent-Replayed: true`; for another body: `409`.
#[utoipa::path(
    post,
    path = "/api/v1/invalidations",
    tag = "v1",
    operation_id = "createInvalidation",
    request_body = InvalidationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters; makes retries of this request safe")),
    responses(
        (status = 201, description = "Created", body = InvalidationResponse,
            headers(("Location" = String, description = "URL of the new invalidation"))),
        (status = 200, description = "Idempotent replay of an earlier request", body = InvalidationResponse,
            headers(("Idempotent-Replayed" = String, description = "`true`"))),
        (status = 400, description = "Bad scope, path, count, header or malformed JSON", body = ErrorBody),
        (status = 403, description = "Read-only (support) key", body = ErrorBody),
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
    let id = created.invalidation.id;
    let body = Json(InvalidationResponse::from(created.invalidation));
    if created.replayed {
        return Ok((Http::OK, [REPLAYED], body).into_response());
    }
    let location = HeaderValue::from_str(&format!("/api/v1/invalidations/{id}")).map_err(|e| ApiError::internal(&e))?;
    Ok((Http::CREATED, [(header::LOCATION, location)], body).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<uuid::Uuid>)]
    pub cursor: Option<String>,
    /// Only this status (API code, any letter case).
    #[param(value_type = Option<StatusCode>)]
    pub status: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// Search, as the console's log does: an Invalidation ID, or the start
    /// of a path (`/img/products/` finds every invalidation naming a path
    /// under it). At most 512 bytes.
    pub q: Option<String>,
}

/// List the project's invalidations, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/invalidations",
    tag = "v1",
    operation_id = "listInvalidations",
    params(ListParams),
    responses(
        (status = 200, description = "One page", body = ListResponse),
        (status = 400, description = "Bad cursor, status or limit", body = ErrorBody),
        KeyErrors,
    ),
    security(("client_key" = []), ("bearer" = []))
)]
pub async fn list(
    Caller(actor): Caller,
    State(services): State<Services>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<ListResponse>, ApiError> {
    let params = invalidations::ListParams {
        status: p.status.as_deref(),
        search: p.q.as_deref(),
        cursor: p.cursor.as_deref(),
        cursor_field: "cursor",
        limit: p.limit.as_deref(),
    };
    let query = ListQuery::parse(params, DEFAULT_PAGE)?;
    let limit = query.limit;
    let rows = services.invalidations.list(&actor, query).await?;
    let next = next_cursor(&rows, limit).map(|id| id.as_uuid());
    Ok(Json(ListResponse {
        status: Default::default(),
        invalidations: rows.into_iter().map(Into::into).collect(),
        next_cursor: next,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetParams {
    /// Long-poll: seconds to wait for a final status (DONE, ERROR,
    /// ERROR_CDN_NODE) before answering; at most 60 (larger values wait 60).
    /// The answer comes as soon as the status is final.
    #[param(value_type = Option<u64>)]
    pub wait: Option<String>,
}

/// One invalidation with its status history and per-target results.
#[utoipa::path(
    get,
    path = "/api/v1/invalidations/{id}",
    tag = "v1",
    operation_id = "getInvalidation",
    params(("id" = String, Path, description = "Invalidation ID"), GetParams),
    responses(
        (status = 200, description = "The invalidation (final, or as it stands when `wait` ran out)", body = DetailResponse),
        (status = 400, description = "Not an Invalidation ID, or a bad `wait`", body = ErrorBody),
        (status = 404, description = "Absent or another project's", body = ErrorBody),
        KeyErrors,
    ),
    security(("client_key" = []), ("bearer" = []))
)]
pub async fn get(
    Caller(actor): Caller,
    State(services): State<Services>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<GetParams>,
) -> Result<Json<DetailResponse>, ApiError> {
    let id = parse_id(&id)?;
    let wait = match p.wait.as_deref() {
        None => 0,
        Some(w) => w.trim().parse::<u64>().map_err(|_| {
            ApiError::field("wait", format!("wait is a number of seconds from 0 to {MAX_WAIT_SECS}, e.g. wait=30"))
        })?,
    };
    if wait > 0 {
        let timeout = Duration::from_secs(wait.min(MAX_WAIT_SECS));
        services.invalidations.wait_for_final(&actor, id, timeout).await?;
    }
    Ok(Json(services.invalidations.detail(&actor, id).await?.into()))
}

/// Retry an errored invalidation (ERROR or ERROR_CDN_NODE only).
///
/// Keeps the Invalidation ID, bumps `attempt` and re-runs only the targets
/// that have not succeeded.
#[utoipa::path(
    post,
    path = "/api/v1/invalidations/{id}/retry",
    tag = "v1",
    operation_id = "retryInvalidation",
    params(("id" = String, Path, description = "Invalidation ID")),
    responses(
        (status = 200, description = "Queued again", body = InvalidationResponse),
        (status = 400, description = "Not an Invalidation ID", body = ErrorBody),
        (status = 403, description = "Read-only (support) key", body = ErrorBody),
        (status = 404, description = "Absent or another project's", body = ErrorBody),
        (status = 409, description = "Not in an error status", body = ErrorBody),
        KeyErrors,
    ),
    security(("client_key" = []), ("bearer" = []))
)]
pub async fn retry(
    Caller(actor): Caller,
    State(services): State<Services>,
    Path(id): Path<String>,
) -> Result<Json<InvalidationResponse>, ApiError> {
    let inv = services.invalidations.retry(&actor, parse_id(&id)?).await?;
    Ok(Json(inv.into()))
}

/// Cancel an invalidation still `RECEIVED` that no worker has picked up.
///
/// It ends `CANCELLED` and nothing is purged; once a worker claimed it, 409.
#[utoipa::path(
    post,
    path = "/api/v1/invalidations/{id}/cancel",
    tag = "v1",
    operation_id = "cancelInvalidation",
    params(("id" = String, Path, description = "Invalidation ID")),
    responses(
        (status = 200, description = "Cancelled", body = InvalidationResponse),
        (status = 400, description = "Not an Invalidation ID", body = ErrorBody),
        (status = 403, description = "Read-only (support) key", body = ErrorBody),
        (status = 404, description = "Absent or another project's", body = ErrorBody),
        (status = 409, description = "Already claimed by a worker, or not RECEIVED", body = ErrorBody),
        KeyErrors,
    ),
    security(("client_key" = []), ("bearer" = []))
)]
pub async fn cancel(
    Caller(actor): Caller,
    State(services): State<Services>,
    Path(id): Path<String>,
) -> Result<Json<InvalidationResponse>, ApiError> {
    let inv = services.invalidations.cancel(&actor, parse_id(&id)?).await?;
    Ok(Json(inv.into()))
}
