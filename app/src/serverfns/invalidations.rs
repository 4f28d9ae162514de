use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{DetailView, LogPage};

/// Submits an invalidation; on success the browser is sent to the log with
/// the new Invalidation ID (`?created=`), with or without JavaScript.
#[server(prefix = "/sfn", endpoint = "submit_invalidation")]
pub async fn submit_invalidation(
    project: String,
    scope: String,
    urls: Option<String>,
    confirm_all: Option<String>,
) -> Result<String, AppError> {
    use imgflush::backend::invalidations::{PathsInput, Submission};
    use imgflush::domain::{FieldError, Role, Scope, CONSOLE_MAX_PATHS};

    let (services, actor) = crate::ssr::actor(&project, Role::can_submit).await?;
    let scope = Scope::parse(&scope).map_err(|e| AppError::Invalid(vec![FieldError::new("scope", e.to_string())]))?;
    let urls = match scope {
        Scope::All if confirm_all.is_none() => {
            return Err(AppError::Invalid(vec![FieldError::new(
                "confirm_all",
                "scope All erases the whole cache of this token; tick the confirmation to go ahead",
            )]))
        }
        // The textarea is still posted by a form without JavaScript; All ignores it.
        Scope::All => String::new(),
        Scope::Original => urls.unwrap_or_default(),
    };
    let sub = Submission { scope, paths: PathsInput::Text(urls), max_paths: CONSOLE_MAX_PATHS, idempotency_key: None };
    let created = services.invalidations.submit(&actor, sub).await?;
    let id = created.invalidation.id.to_string();
    leptos_axum::redirect(&format!("/p/{project}/invalidation?created={id}"));
    Ok(id)
}

#[server(prefix = "/sfn", endpoint = "list_invalidations")]
pub async fn list_invalidations(
    project: String,
    status: Option<String>,
    q: Option<String>,
    before: Option<String>,
) -> Result<LogPage, AppError> {
    use imgflush::backend::invalidations::next_cursor;
    use imgflush::backend::store::ListQuery;
    use imgflush::domain::{FieldError, InvalidationId, Role, Status};

    let (services, actor) = crate::ssr::actor(&project, Role::can_read).await?;
    let invalid = |field: &str, msg: String| AppError::Invalid(vec![FieldError::new(field, msg)]);
    let status = match status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(Status::parse(s).map_err(|e| invalid("status", e.to_string()))?),
        None => None,
    };
    let before = match before.as_deref().filter(|s| !s.is_empty()) {
        Some(b) => Some(InvalidationId::parse(b).map_err(|e| invalid("before", e.to_string()))?),
        None => None,
    };
    let limit = 20;
    let query = ListQuery { before, status, search: q, limit };
    let rows = services.invalidations.list(&actor, query).await?;
    Ok(LogPage {
        next: next_cursor(&rows, limit).map(|id| id.to_string()),
        rows: rows.into_iter().map(crate::ssr::log_row).collect(),
        role: actor.role,
    })
}

#[server(prefix = "/sfn", endpoint = "invalidation_detail")]
pub async fn invalidation_detail(project: String, id: String) -> Result<DetailView, AppError> {
    use imgflush::domain::{InvalidationId, Role};

    let (services, actor) = crate::ssr::actor(&project, Role::can_read).await?;
    let id = InvalidationId::parse(&id).map_err(|_| AppError::NotFound)?;
    let detail = services.invalidations.detail(&actor, id).await?;
    Ok(crate::ssr::detail_view(detail, actor.role))
}

#[server(prefix = "/sfn", endpoint = "retry_invalidation")]
pub async fn retry_invalidation(project: String, id: String) -> Result<(), AppError> {
    use imgflush::domain::{InvalidationId, Role};

    let (services, actor) = crate::ssr::actor(&project, Role::can_retry).await?;
    let id = InvalidationId::parse(&id).map_err(|_| AppError::NotFound)?;
    services.invalidations.retry(&actor, id).await?;
    Ok(())
}
