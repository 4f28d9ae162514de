#![allow(clippy::too_many_arguments)] // a form post: one argument per field
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{DetailView, FormStart, LogPage};

/// Submits an invalidation; on success the browser is sent to the log with
/// the new Invalidation ID (`?created=`), with or without JavaScript.
#[server(prefix = "/sfn", endpoint = "submit_invalidation", output = crate::codec::Json)]
pub async fn submit_invalidation(
    project: String,
    scope: String,
    urls: Option<String>,
    tags: Option<String>,
    confirm_all: Option<String>,
    confirm_large: Option<String>,
    not_before: Option<String>,
    tz_offset: Option<String>,
) -> Result<String, AppError> {
    use imgflush::backend::invalidations::{parse_local_not_before, Submission};

    let (services, actor) = match super::writer(&project).await {
        // The session ended while the form was open. Posted without
        // JavaScript: sign in again, then back to the form with the text kept.
        Err(AppError::Unauthorized) => {
            if crate::ssr::plain_form_post().await {
                let scope = imgflush::domain::Scope::parse(&scope).unwrap_or(imgflush::domain::Scope::Original);
                let typed = if scope == imgflush::domain::Scope::Tag { tags } else { urls };
                let next = typed_form_path(&project, scope, typed.as_deref().unwrap_or_default());
                leptos_axum::redirect(&format!(
                    "/login?error=expired&next={}",
                    imgflush::domain::url::query_value(&next)
                ));
            }
            return Err(AppError::Unauthorized);
        }
        other => other?,
    };
    let at = parse_local_not_before(not_before.as_deref(), tz_offset.as_deref())?;
    let sub = Submission::from_console(&scope, urls, tags, confirm_all.is_some())?
        .confirmed(confirm_large.is_some())
        .not_before(at);
    let created = services.invalidations.submit(&actor, sub).await?;
    let id = created.invalidation.id.to_string();
    // `#created`: the answer, with the log under it, at the top of the window.
    leptos_axum::redirect(&format!("/p/{project}/invalidation?created={id}#created"));
    Ok(id)
}

/// What the purge as typed would remove on each target (the dry run):
/// nothing is stored or purged.
#[server(prefix = "/sfn", endpoint = "preview_invalidation", output = crate::codec::Json)]
pub async fn preview_invalidation(
    project: String,
    scope: String,
    urls: Option<String>,
    tags: Option<String>,
) -> Result<imgflush::domain::preview::Preview, AppError> {
    use imgflush::backend::invalidations::Submission;

    let (services, actor) = super::writer(&project).await?;
    // A preview of All needs no confirmation: it removes nothing.
    let sub = Submission::from_console(&scope, urls, tags, true)?;
    Ok(services.invalidations.preview(&actor, &sub).await?)
}

#[server(prefix = "/sfn", endpoint = "list_invalidations", output = crate::codec::Json)]
pub async fn list_invalidations(
    project: String,
    status: Option<String>,
    q: Option<String>,
    before: Option<String>,
) -> Result<LogPage, AppError> {
    use imgflush::backend::invalidations::{next_cursor, ListParams};
    use imgflush::backend::store::ListQuery;

    let (services, actor) = crate::ssr::actor(&project).await?;
    let params = ListParams {
        status: status.as_deref(),
        search: q.as_deref(),
        cursor: before.as_deref(),
        cursor_field: "before",
        limit: None,
    };
    let query = ListQuery::parse(params, 20)?;
    let limit = query.limit;
    let rows = services.invalidations.list(&actor, query).await?;
    Ok(LogPage {
        next: next_cursor(&rows, limit).map(|id| id.to_string()),
        rows: rows.into_iter().map(Into::into).collect(),
        role: actor.role,
    })
}

#[server(prefix = "/sfn", endpoint = "invalidation_detail", output = crate::codec::Json)]
pub async fn invalidation_detail(project: String, id: String) -> Result<DetailView, AppError> {
    use imgflush::domain::InvalidationId;

    let (services, actor) = crate::ssr::actor(&project).await?;
    let id = InvalidationId::parse(&id).map_err(|_| crate::ssr::answered(AppError::NotFound))?;
    let detail = services.invalidations.detail(&actor, id).await?;
    let mut view = DetailView::new(detail, &actor);
    view.base_url = crate::ssr::base_url().await;
    if !actor.role.can_retry() {
        view.admins = services.team.admin_contacts(&actor).await?;
    }
    Ok(view)
}

/// What the Invalidation page's form starts with, in one call: the caller's
/// role in the project (the form for admins and editors, a read-only notice
/// for the others) and, for "Copy to new" (`copy`), an earlier invalidation's
/// scope and paths. Only these, not `invalidation_detail`'s view nor the whole
/// `get_me`: the Invalidation page's WASM then carries no decoder for those.
#[server(prefix = "/sfn", endpoint = "invalidation_form", output = crate::codec::Json)]
pub async fn invalidation_form(project: String, copy: Option<String>) -> Result<FormStart, AppError> {
    use imgflush::domain::InvalidationId;

    let (services, actor) = crate::ssr::actor(&project).await?;
    // An ID that is unknown or not this project's starts an empty form.
    let initial = match copy.as_deref().map(InvalidationId::parse) {
        Some(Ok(id)) => services.invalidations.get(&actor, id).await.ok().map(|i| (i.scope, i.paths)),
        _ => None,
    };
    let edge = &actor.project.edge;
    let confirm_above = (edge.confirm_above_objects.is_some() || edge.confirm_above_bytes.is_some())
        .then(|| (edge.confirm_above_objects, edge.confirm_above_bytes.map(|b| b >> 20)));
    Ok(FormStart { role: actor.role, initial, confirm_above, origin_hosts: actor.project.origin_hosts.clone() })
}

#[server(prefix = "/sfn", endpoint = "retry_invalidation", output = crate::codec::Json)]
/// Answers the attempt the retry will be ("Retry queued as attempt 2").
pub async fn retry_invalidation(project: String, id: String) -> Result<i32, AppError> {
    use imgflush::domain::InvalidationId;

    let (services, actor) = super::writer(&project).await?;
    let id = InvalidationId::parse(&id).map_err(|_| crate::ssr::answered(AppError::NotFound))?;
    let queued = services.invalidations.retry(&actor, id).await?;
    // Without JavaScript the browser comes back to the page: it says so there.
    crate::ssr::flash_for_plain_form("retry_queued", &queued.attempt.to_string()).await;
    Ok(queued.attempt)
}

/// The details page of the Invalidation ID in `q` (the ID, or a pasted URL
/// or text containing one), in whichever project holds it, if the caller may
/// see that project; otherwise the same `NotFound` as for an unknown ID.
#[server(prefix = "/sfn", endpoint = "locate_invalidation", output = crate::codec::Json)]
pub async fn locate_invalidation(q: String) -> Result<String, AppError> {
    use crate::ssr::{current_user, services};
    use imgflush::domain::InvalidationId;

    let user = current_user().await?;
    let id = InvalidationId::find_in(&q).ok_or_else(|| crate::ssr::answered(AppError::NotFound))?;
    let actor = services()?.projects.locate_invalidation(&user, id).await?;
    Ok(format!("/p/{}/invalidation/{id}", actor.project.token))
}

/// The two-person rule: another admin approves (`decision=approve`) or
/// rejects a scope All request awaiting approval.
#[server(prefix = "/sfn", endpoint = "decide_approval", output = crate::codec::Json)]
pub async fn decide_approval(project: String, id: String, decision: String) -> Result<(), AppError> {
    use imgflush::domain::InvalidationId;

    let (services, actor) = super::writer(&project).await?;
    let id = InvalidationId::parse(&id).map_err(|_| crate::ssr::answered(AppError::NotFound))?;
    let approved = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(AppError::from(imgflush::backend::ServiceError::field("decision", "approve or reject"))),
    };
    services.invalidations.decide(&actor, id, approved).await?;
    Ok(())
}

/// Cancels a `RECEIVED` invalidation no worker has claimed (409 afterwards).
#[server(prefix = "/sfn", endpoint = "cancel_invalidation", output = crate::codec::Json)]
pub async fn cancel_invalidation(project: String, id: String) -> Result<(), AppError> {
    use imgflush::domain::InvalidationId;

    let (services, actor) = super::writer(&project).await?;
    let id = InvalidationId::parse(&id).map_err(|_| crate::ssr::answered(AppError::NotFound))?;
    services.invalidations.cancel(&actor, id).await?;
    Ok(())
}

/// The Invalidation page's address with `typed` (the paths or tags) and
/// `scope` filled in: where signing in again comes back to. The entries are
/// joined with commas (the form's other separator): a line break, once
/// escaped twice on the way through the sign-in page, would not survive it.
pub fn typed_form_path(token: &str, scope: imgflush::domain::Scope, typed: &str) -> String {
    use imgflush::domain::url::query_value;
    let entries: Vec<&str> = typed.split(['\n', ',']).map(str::trim).filter(|e| !e.is_empty()).collect();
    format!("/p/{token}/invalidation?scope={}&urls={}", scope.as_str(), query_value(&entries.join(",")))
}
