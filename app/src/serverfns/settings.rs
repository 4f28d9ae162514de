use leptos::prelude::*;

use crate::error::AppError;
use crate::model::SettingsView;

#[server(prefix = "/sfn", endpoint = "project_settings")]
pub async fn project_settings(project: String) -> Result<SettingsView, AppError> {
    use imgflush::backend::targets::redact_url;
    use imgflush::domain::Role;

    use crate::model::TargetView;

    let (services, actor) = crate::ssr::actor(&project, Role::can_read).await?;
    let targets = services.store.list_targets(actor.project.id).await?;
    let p = actor.project;
    Ok(SettingsView {
        targets: targets
            .into_iter()
            .map(|t| TargetView {
                id: t.id,
                kind: t.kind,
                url: redact_url(&t.url),
                name: t.name,
                has_secret: t.secret.is_some(),
            })
            .collect(),
        token: p.token,
        name: p.name,
        origin_hosts: p.origin_hosts,
        max_age_secs: p.max_age_secs,
        s_maxage_secs: p.s_maxage_secs,
        role: actor.role,
    })
}

#[server(prefix = "/sfn", endpoint = "add_target")]
pub async fn add_target(
    project: String,
    kind: String,
    name: String,
    url: String,
    secret: Option<String>,
) -> Result<(), AppError> {
    use imgflush::backend::targets::{add, TargetInput};
    use imgflush::domain::Role;

    let (services, actor) = crate::ssr::actor(&project, Role::can_manage).await?;
    add(&services.store, actor.project.id, &TargetInput { kind, name, url, secret }).await?;
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "remove_target")]
pub async fn remove_target(project: String, target_id: i64) -> Result<(), AppError> {
    use imgflush::domain::Role;

    let (services, actor) = crate::ssr::actor(&project, Role::can_manage).await?;
    services.store.remove_target(actor.project.id, target_id).await?;
    Ok(())
}
