#![allow(clippy::too_many_arguments)] // a form post: one argument per field
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::SettingsView;

#[server(prefix = "/sfn", endpoint = "project_settings", output = crate::codec::Json)]
pub async fn project_settings(project: String) -> Result<SettingsView, AppError> {
    let (services, actor) = crate::ssr::actor(&project).await?;
    let p = services.projects.settings(&actor).await?;
    let targets = services.targets.list(&actor).await?;
    let retention_days = services.projects.retention(&actor).await?;
    Ok(SettingsView {
        retention_days,
        targets: targets.into_iter().map(|t| crate::model::TargetView::new(t, actor.role)).collect(),
        token: p.token,
        name: p.name,
        origin_hosts: p.origin_hosts,
        max_age_secs: p.max_age_secs,
        s_maxage_secs: p.s_maxage_secs,
        origin_scheme: p.edge.origin_scheme.as_str().to_owned(),
        custom_host: p.edge.custom_host,
        custom_host_pending: p.edge.custom_host_pending,
        allow_private_origins: p.edge.allow_private_origins,
        private_origins_allowed: p.edge.private_origins_allowed,
        owner: actor.instance == Some(imgflush::domain::InstanceRole::Owner),
        signing: p.edge.sign_salt.is_some(),
        sign_length: p.edge.sign_length.unwrap_or(18),
        sealed: p.edge.sealed,
        strict_seal: p.edge.strict_seal,
        no_upscale: p.edge.no_upscale,
        soft_purge: p.edge.soft_purge,
        verify: p.edge.verify,
        role: actor.role,
    })
}

/// Saves the project form (admins). Checkboxes arrive only when ticked.
#[server(prefix = "/sfn", endpoint = "save_settings", output = crate::codec::Json)]

pub async fn save_settings(
    project: String,
    name: String,
    origin_hosts: String,
    max_age_secs: String,
    s_maxage_secs: String,
    origin_scheme: String,
    custom_host: String,
    sign_salt: Option<String>,
    clear_sign_salt: Option<String>,
    sign_length: String,
    sealed: Option<String>,
    strict_seal: Option<String>,
    no_upscale: Option<String>,
    soft_purge: Option<String>,
    verify: Option<String>,
    allow_private_origins: Option<String>,
    private_origins_allowed: Option<String>,
) -> Result<(), AppError> {
    use imgflush::backend::projects::SettingsInput;

    let (services, actor) = super::writer(&project).await?;
    let input = SettingsInput {
        name,
        origin_hosts,
        max_age_secs,
        s_maxage_secs,
        origin_scheme,
        custom_host,
        sign_salt: sign_salt.unwrap_or_default(),
        clear_sign_salt: clear_sign_salt.is_some(),
        sign_length,
        sealed: sealed.is_some(),
        strict_seal: strict_seal.is_some(),
        no_upscale: no_upscale.is_some(),
        soft_purge: soft_purge.is_some(),
        verify: verify.is_some(),
        allow_private_origins: allow_private_origins.is_some(),
        private_origins_allowed: private_origins_allowed.unwrap_or_default(),
    };
    services.projects.update_settings(&actor, &input).await?;
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "add_target", output = crate::codec::Json)]
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

#[server(prefix = "/sfn", endpoint = "remove_target", output = crate::codec::Json)]
pub async fn remove_target(project: String, target_id: i64) -> Result<(), AppError> {
    let (services, actor) = super::writer(&project).await?;
    services.targets.remove(&actor, target_id).await?;
    Ok(())
}

/// How many days the project keeps its invalidations (admins).
#[server(prefix = "/sfn", endpoint = "save_retention", output = crate::codec::Json)]
pub async fn save_retention(project: String, retention_days: String) -> Result<i64, AppError> {
    let (services, actor) = super::writer(&project).await?;
    Ok(services.projects.set_retention(&actor, &retention_days).await?)
}
