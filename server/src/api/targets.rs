//! `/api/v1/targets`: the key's project's purge targets, listed by any key
//! (URLs by role) and managed by admin keys, with the Settings page's checks.
//! Secrets and credentials go in, never out.

use axum::extract::{Path, State};
use axum::http::StatusCode as Http;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use imgflush::backend::targets::{TargetBody, TargetDocument};
use imgflush::backend::Services;

use super::auth::{ApiJson, Caller};
use super::error::{ApiError, BodyErrors, ErrorBody, KeyErrors};
use super::schema::SuccessTag;

#[derive(Serialize, ToSchema)]
pub struct TargetsResponse {
    pub status: SuccessTag,
    pub targets: Vec<TargetDocument>,
}

#[derive(Serialize, ToSchema)]
pub struct TargetResponse {
    pub status: SuccessTag,
    pub target: TargetDocument,
}

#[derive(Serialize, ToSchema)]
pub struct TestResponse {
    pub status: SuccessTag,
    /// `ok: …` or `failed: …`, in the target's own words.
    pub answer: String,
}

fn answer(target: TargetDocument) -> Json<TargetResponse> {
    Json(TargetResponse { status: SuccessTag::Success, target })
}

/// The project's purge targets.
#[utoipa::path(
    get,
    path = "/api/v1/targets",
    tag = "v1",
    operation_id = "listTargets",
    responses((status = 200, description = "The targets", body = TargetsResponse), KeyErrors),
    security(("client_key" = []), ("bearer" = []))
)]
pub async fn list(Caller(actor): Caller, State(services): State<Services>) -> Result<Json<TargetsResponse>, ApiError> {
    let targets = services.targets.documents(&actor).await?;
    Ok(Json(TargetsResponse { status: SuccessTag::Success, targets }))
}

/// Add a purge target (admin keys without limits).
#[utoipa::path(
    post,
    path = "/api/v1/targets",
    tag = "v1",
    operation_id = "createTarget",
    request_body = TargetBody,
    responses(
        (status = 201, description = "Added", body = TargetResponse),
        (status = 400, description = "A value breaks a rule: `details` names each field", body = ErrorBody),
        (status = 403, description = "Not an admin key, or a key limited to paths, tags or scopes", body = ErrorBody),
        BodyErrors,
        KeyErrors,
    ),
    security(("client_key" = []), ("bearer" = []))
)]
pub async fn create(
    Caller(actor): Caller,
    State(services): State<Services>,
    ApiJson(body): ApiJson<TargetBody>,
) -> Result<(Http, Json<TargetResponse>), ApiError> {
    let target = services.targets.create(&actor, &body).await?;
    Ok((Http::CREATED, answer(target)))
}

/// One target, by ID or name.
#[utoipa::path(
    get,
    path = "/api/v1/targets/{target}",
    tag = "v1",
    operation_id = "getTarget",
    params(("target" = String, Path, description = "Target ID or name")),
    responses(
        (status = 200, description = "The target", body = TargetResponse),
        (status = 404, description = "No such target in the key's project", body = ErrorBody),
        KeyErrors,
    ),
    security(("client_key" = []), ("bearer" = []))
)]
pub async fn get(
    Caller(actor): Caller,
    State(services): State<Services>,
    Path(target): Path<String>,
) -> Result<Json<TargetResponse>, ApiError> {
    let t = services.targets.find(&actor, &target).await?;
    Ok(answer(TargetDocument::new(&t, actor.role)))
}

/// Change a target (admin keys without limits): what the body leaves out
/// stays; a secret or credential is replaced only when given.
#[utoipa::path(
    patch,
    path = "/api/v1/targets/{target}",
    tag = "v1",
    operation_id = "updateTarget",
    params(("target" = String, Path, description = "Target ID or name")),
    request_body = TargetBody,
    responses(
        (status = 200, description = "The target after the change", body = TargetResponse),
        (status = 400, description = "A value breaks a rule: `details` names each field", body = ErrorBody),
        (status = 403, description = "Not an admin key, or a key limited to paths, tags or scopes", body = ErrorBody),
        (status = 404, description = "No such target in the key's project", body = ErrorBody),
        BodyErrors,
        KeyErrors,
    ),
    security(("client_key" = []), ("bearer" = []))
)]
pub async fn update(
    Caller(actor): Caller,
    State(services): State<Services>,
    Path(target): Path<String>,
    ApiJson(body): ApiJson<TargetBody>,
) -> Result<Json<TargetResponse>, ApiError> {
    let t = services.targets.find(&actor, &target).await?;
    Ok(answer(services.targets.change(&actor, &t, &body).await?))
}

/// Remove a target (admin keys without limits).
#[utoipa::path(
    delete,
    path = "/api/v1/targets/{target}",
    tag = "v1",
    operation_id = "deleteTarget",
    params(("target" = String, Path, description = "Target ID or name")),
    responses(
        (status = 200, description = "Removed: the target as it was", body = TargetResponse),
        (status = 403, description = "Not an admin key, or a key limited to paths, tags or scopes", body = ErrorBody),
        (status = 404, description = "No such target in the key's project", body = ErrorBody),
        KeyErrors,
    ),
    security(("client_key" = []), ("bearer" = []))
)]
pub async fn delete(
    Caller(actor): Caller,
    State(services): State<Services>,
    Path(target): Path<String>,
) -> Result<Json<TargetResponse>, ApiError> {
    let t = services.targets.find(&actor, &target).await?;
    services.targets.delete(&actor, &t).await?;
    Ok(answer(TargetDocument::new(&t, actor.role)))
}

/// Test a target (admin keys): a harmless purge of a path no image has
/// (nodes, hooks) or an authenticated read (CDN providers).
#[utoipa::path(
    post,
    path = "/api/v1/targets/{target}/test",
    tag = "v1",
    operation_id = "testTarget",
    params(("target" = String, Path, description = "Target ID or name")),
    responses(
        (status = 200, description = "What the target answered", body = TestResponse),
        (status = 403, description = "Not an admin key", body = ErrorBody),
        (status = 404, description = "No such target in the key's project", body = ErrorBody),
        KeyErrors,
    ),
    security(("client_key" = []), ("bearer" = []))
)]
pub async fn test(
    Caller(actor): Caller,
    State(services): State<Services>,
    Path(target): Path<String>,
) -> Result<Json<TestResponse>, ApiError> {
    let t = services.targets.find(&actor, &target).await?;
    let answer = services.targets.test(&actor, t.id).await?;
    Ok(Json(TestResponse { status: SuccessTag::Success, answer }))
}
