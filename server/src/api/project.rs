//! `/api/v1/project`: the key's project settings, read by any key and
//! changed by admin keys, with the Settings page's checks.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use imgflush::backend::projects::{SettingsDocument, SettingsPatch};
use imgflush::backend::Services;

use super::auth::{ApiJson, Caller};
use super::error::{ApiError, BodyErrors, ErrorBody, KeyErrors};
use super::schema::SuccessTag;

#[derive(Serialize, ToSchema)]
pub struct ProjectResponse {
    pub status: SuccessTag,
    pub project: SettingsDocument,
}

/// The key's project: every setting (the signing salt only as `signing`).
#[utoipa::path(
    get,
    path = "/api/v1/project",
    tag = "v1",
    operation_id = "getProject",
    responses((status = 200, description = "The settings", body = ProjectResponse), KeyErrors),
    security(("client_key" = []), ("bearer" = []))
)]
pub async fn get(Caller(actor): Caller, State(services): State<Services>) -> Result<Json<ProjectResponse>, ApiError> {
    let project = services.projects.document(&actor).await?;
    Ok(Json(ProjectResponse { status: SuccessTag::Success, project }))
}

/// Change settings (admin keys without limits): only the fields given
/// change, checked as the console's Settings page checks them, every bad
/// field named at once; nothing changes when one is bad. `null` clears a
/// field that may be empty. `allow_private_origins` and
/// `private_origins_allowed` belong to the instance's owners (the CLI).
#[utoipa::path(
    patch,
    path = "/api/v1/project",
    tag = "v1",
    operation_id = "updateProject",
    request_body = SettingsPatch,
    responses(
        (status = 200, description = "The settings after the change", body = ProjectResponse),
        (status = 400, description = "A value breaks a rule, or an owner-only field was given: `details` names each field", body = ErrorBody),
        (status = 403, description = "Not an admin key, or a key limited to paths, tags or scopes", body = ErrorBody),
        BodyErrors,
        KeyErrors,
    ),
    security(("client_key" = []), ("bearer" = []))
)]
pub async fn update(
    Caller(actor): Caller,
    State(services): State<Services>,
    ApiJson(patch): ApiJson<SettingsPatch>,
) -> Result<Json<ProjectResponse>, ApiError> {
    let project = services.projects.patch_settings(&actor, &patch).await?;
    Ok(Json(ProjectResponse { status: SuccessTag::Success, project }))
}
