//! Server-only helpers for the server functions: the services from context,
//! the signed-in user, and the role check for one project.

use leptos::prelude::*;
use tower_sessions::Session;

use imgflush::backend::invalidations::{Actor, ServiceError};
use imgflush::backend::store::{Membership, StoreError, Submitter, User};
use imgflush::backend::Services;
use imgflush::domain::Role;

use crate::error::AppError;

pub const SESSION_USER_KEY: &str = "user_id";

pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| {
        tracing::error!("Services missing from the Leptos context");
        AppError::Internal
    })
}

pub async fn current_user() -> Result<User, AppError> {
    let session: Session = leptos_axum::extract().await.map_err(|_| AppError::Unauthorized)?;
    let user_id: Option<i64> = session.get(SESSION_USER_KEY).await.map_err(|e| {
        tracing::error!(error = %e, "session store failed");
        AppError::Internal
    })?;
    let user_id = user_id.ok_or(AppError::Unauthorized)?;
    match services()?.store.user_by_id(user_id).await {
        Ok(user) => Ok(user),
        Err(StoreError::NotFound) => Err(AppError::Unauthorized),
        Err(e) => Err(internal(e)),
    }
}

/// The caller as a member of `token`. Another project's token answers
/// `NotFound`, exactly like a token that does not exist.
pub async fn member(token: &str) -> Result<(Services, Membership, User), AppError> {
    let user = current_user().await?;
    let services = services()?;
    match services.store.membership(user.id, token).await {
        Ok(m) => Ok((services, m, user)),
        Err(StoreError::NotFound) => Err(AppError::NotFound),
        Err(e) => Err(internal(e)),
    }
}

/// Like [`member`], and fails with `Forbidden` unless `allowed(role)`.
pub async fn actor(token: &str, allowed: fn(&Role) -> bool) -> Result<(Services, Actor), AppError> {
    let (services, m, user) = member(token).await?;
    if !allowed(&m.role) {
        return Err(AppError::Forbidden);
    }
    let actor =
        Actor { project: m.project, role: m.role, submitter: Submitter::User { id: user.id, email: user.email } };
    Ok((services, actor))
}

pub fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!(error = %e, "server function failed");
    AppError::Internal
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(errors) => AppError::Invalid(errors),
            ServiceError::Forbidden(_) => AppError::Forbidden,
            ServiceError::NotFound => AppError::NotFound,
            ServiceError::Conflict(msg) => AppError::Conflict(msg),
            ServiceError::Store(e) => internal(e),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

pub fn log_row(inv: imgflush::backend::store::Invalidation) -> crate::model::LogRow {
    crate::model::LogRow {
        id: inv.id.to_string(),
        status: inv.status,
        scope: inv.scope,
        created: inv.created,
        paths: inv.paths,
        submitted_by: inv.submitted_by,
        attempt: inv.attempt,
    }
}

pub fn detail_view(d: imgflush::backend::invalidations::Detail, role: Role) -> crate::model::DetailView {
    use crate::model::{EventView, TargetResultView};
    crate::model::DetailView {
        error: d.invalidation.error.clone(),
        finished: d.invalidation.finished,
        events: d
            .events
            .into_iter()
            .map(|e| EventView { status: e.status, attempt: e.attempt, note: e.note, at: e.at })
            .collect(),
        targets: d
            .targets
            .into_iter()
            .map(|t| TargetResultView {
                name: t.name,
                kind: t.kind,
                state: t.state.as_str().to_owned(),
                attempts: t.attempts,
                detail: t.detail,
                duration_ms: t.duration_ms,
                updated: t.updated,
            })
            .collect(),
        row: log_row(d.invalidation),
        role,
    }
}
