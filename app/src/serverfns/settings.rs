use leptos::prelude::*;

use crate::error::AppError;
use crate::model::SettingsView;

#[server(prefix = "/sfn", endpoint = "project_settings")]
pub async fn project_settings(project: String) -> Result<SettingsView, AppError> {
    let (services, actor) = crate::ssr::actor(&project).await?;
    let p = services.projects.settings(&actor).await?;
    let targets = services.targets.list(&actor).await?;
    Ok(SettingsView {
        targets: targets.into_iter().map(Into::into).collect(),
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
    use imgflush::backend::targets::TargetInput;

    let (services, actor) = super::writer(&project).await?;
    services.targets.add(&actor, &TargetInput { kind, name, url, secret }).await?;
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "remove_target")]
pub async fn remove_target(project: String, target_id: i64) -> Result<(), AppError> {
    let (services, actor) = super::writer(&project).await?;
    services.targets.remove(&actor, target_id).await?;
    Ok(())
}
