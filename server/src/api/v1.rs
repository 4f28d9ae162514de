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
use super::schema::{
    CacheProbeView, CreateAnswer, DetailResponse, InvalidationResponse, ListResponse, LookupResponse, PreviewResponse,
    StatusCode, V1InvalidationRequest,
};
use super::shared::{parse_id, v1_submission, REPLAYED};

pub const DEFAULT_PAGE: i64 = 20;
pub const MAX_WAIT_SECS: u64 = 60;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreateParams {
    /// `true`: store nothing and purge nothing; answer what the purge would
    /// remove on each target (`PreviewResponse`).
    #[param(value_type = Option<bool>)]
    pub dry_run: Option<String>,
    /// `true`: go ahead with a purge above the project's large-purge
    /// thresholds (without it, such a purge answers 400 naming `confirm`
    /// with the preview's figures).
    #[param(value_type = Option<bool>)]
    pub confirm: Option<String>,
}

fn flag(field: &str, value: Option<&str>) -> Result<bool, ApiError> {
    match value.map(str::trim) {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(ApiError::field(field, format!("{field} is true or false"))),
    }
}

/// Submit an invalidation, or preview it.
///
/// `201` with `Location` for a new invalidation. With an `Idempotency-Key`
/// already used for the same body: `200`, the earlier invalidation, and
/// `Idempotent-Replayed: true`; for another body: `409`. With
/// `dry_run=true`: `200` and what the purge would remove on each target
/// (edges count exactly; Varnish nodes and CDNs are `not_countable`),
/// nothing stored. Scope `tag` purges every object carrying one of `tags`.
#[utoipa::path(
    post,
    path = "/api/v1/invalidations",
    tag = "v1",
    operation_id = "createInvalidation",
    request_body = V1InvalidationRequest,
    params(CreateParams, ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters; makes retries of this request safe")),
    responses(
        (status = 201, description = "Created", body = InvalidationResponse,
            headers(("Location" = String, description = "URL of the new invalidation"))),

        (status = 200, description = "Idempotent replay of an earlier request (`InvalidationResponse`), or with `dry_run=true` what the purge would remove (`PreviewResponse`)", body = CreateAnswer,
            headers(("Idempotent-Replayed" = String, description = "`true`"))),
        (status = 400, description = "Bad scope, path, tag, count, header or malformed JSON; or `confirm` missing for a purge above the project's thresholds", body = ErrorBody),
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
    ApiQuery(q): ApiQuery<CreateParams>,
    ApiJson(req): ApiJson<V1InvalidationRequest>,
) -> Result<Response, ApiError> {
    let sub = v1_submission(&headers, req)?.confirmed(flag("confirm", q.confirm.as_deref())?);
    if flag("dry_run", q.dry_run.as_deref())? {
        let preview = services.invalidations.preview(&actor, &sub).await?;
        let edge = &actor.project.edge;
        let over = preview.over(edge.confirm_above_objects, edge.confirm_above_bytes);
        return Ok(Json(PreviewResponse::new(preview, over)).into_response());
    }
    let created = services.invalidations.submit(&actor, sub).await?;
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
        (status = 403, description = "Read-only (support) key, or a key limited to path prefixes, tags or scopes asked for more: the message names the first path or tag outside its limits", body = ErrorBody),
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
        (status = 403, description = "Read-only (support) key, or a key limited to path prefixes, tags or scopes cancelling an invalidation outside them", body = ErrorBody),
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupParams {
    /// An image URL as a customer would paste it, in any of the edge's forms
    /// (path `/{token}/{host}/{path}`, host label, custom host, `/v7/`), with
    /// its query (the variant). It must address the key's own project.
    pub url: Option<String>,
    /// `true`: also ask every edge and Varnish node whether it holds the
    /// variant and since when, from its cache only (nothing is fetched).
    #[param(value_type = Option<bool>)]
    pub check: Option<String>,
}

/// Is this URL fresh? The project path an image URL maps to, the
/// invalidations that covered it and (with `check=true`) what each cache holds.
#[utoipa::path(
    get,
    path = "/api/v1/lookup",
    tag = "v1",
    operation_id = "lookupUrl",
    params(LookupParams),
    responses(
        (status = 200, description = "The URL's path, its covering invalidations and, with check=true, the caches", body = LookupResponse),
        (status = 400, description = "No `url`, or a URL that names no image of the key's project", body = ErrorBody),
        KeyErrors,
    ),
    security(("client_key" = []), ("bearer" = []))
)]
pub async fn lookup(
    Caller(actor): Caller,
    State(services): State<Services>,
    ApiQuery(p): ApiQuery<LookupParams>,
) -> Result<Json<LookupResponse>, ApiError> {
    use imgflush::domain::probe::Probe;

    let url = p.url.as_deref().map(str::trim).filter(|u| !u.is_empty()).ok_or_else(|| {
        ApiError::field(
            "url",
            "give the image URL, e.g. ?url=https://demo.img.example.net/sample.li/flat1.jpg%3Fw%3D500",
        )
    })?;
    let located = services.projects.locate_url_in(&actor, url)?;
    let probes =
        if flag("check", p.check.as_deref())? { Some(services.targets.probe(&actor, &located).await?) } else { None };
    let fresh = services.invalidations.freshness(&actor, &located.origin, probes).await?;
    let caches = fresh.probes.map(|list| {
        list.into_iter()
            .map(|(p, older_than_last_purge)| {
                let (state, age_secs, stale, reason) = match p.state {
                    Probe::Cached { age_secs, stale, .. } => ("cached", Some(age_secs), Some(stale), None),
                    Probe::NotCached => ("not_cached", None, None, None),
                    Probe::NotProbeable => ("not_probeable", None, None, None),
                    Probe::Failed { reason } => ("failed", None, None, Some(reason)),
                };
                CacheProbeView {
                    name: p.name,
                    kind: super::schema::TargetKindCode(p.kind),
                    state: state.into(),
                    age_secs,
                    stale,
                    older_than_last_purge,
                    reason,
                }
            })
            .collect()
    });
    Ok(Json(LookupResponse {
        status: Default::default(),
        token: actor.project.token.clone(),
        origin_path: located.origin.as_str().to_owned(),
        query: located.query,
        last_done_at: fresh.last_done.map(super::schema::Timestamp),
        invalidations: fresh.covering.into_iter().map(Into::into).collect(),
        caches,
    }))
}
