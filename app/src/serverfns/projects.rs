use leptos::prelude::*;

use crate::error::AppError;
use crate::model::ProjectSummaryView;

/// Every project at a glance (owners and staff).
#[server(prefix = "/sfn", endpoint = "projects_overview", output = crate::codec::Json)]
pub async fn projects_overview() -> Result<Vec<ProjectSummaryView>, AppError> {
    use crate::ssr::{current_user, services};

    let user = current_user().await?;
    let rows = services()?.projects.overview(&user).await?;
    Ok(rows
        .into_iter()
        .map(|r| ProjectSummaryView {
            token: r.project.token,
            name: r.project.name,
            origin_hosts: r.project.origin_hosts,
            max_age_secs: r.project.max_age_secs,
            s_maxage_secs: r.project.s_maxage_secs,
            last_invalidation: r.last_invalidation.map(Into::into),
            invalidations: r.invalidations,
            errors: r.errors,
        })
        .collect())
}

/// Creates a project (owners); answers its token.
#[server(prefix = "/sfn", endpoint = "create_project", output = crate::codec::Json)]
pub async fn create_project(
    token: String,
    name: String,
    origin_hosts: String,
    max_age_secs: String,
    s_maxage_secs: String,
) -> Result<String, AppError> {
    use crate::ssr::request_meta;
    use imgflush::backend::projects::NewProjectInput;

    let (services, user) = super::user_writer().await?;
    let input = NewProjectInput { token, name, origin_hosts, max_age_secs, s_maxage_secs };
    let project = services.projects.create_by(&user, &input, &request_meta().await).await?;
    crate::ssr::flash_for_plain_form("project_created", &project.token).await;
    Ok(project.token)
}
