#![allow(clippy::too_many_arguments)] // a form post: one argument per field
use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::SettingsView;

#[server(prefix = "/sfn", endpoint = "project_settings", output = crate::codec::Json)]
pub async fn project_settings(project: String) -> Result<SettingsView, AppError> {
    let (services, actor) = crate::ssr::actor(&project).await?;
    let p = services.projects.settings(&actor).await?;
    let targets = services.targets.list_with_usage(&actor).await?;
    let retention_days = services.projects.retention(&actor).await?;
    let (tag_sources, tag_rules) =
        (p.edge.tag_sources().join(" "), imgflush::domain::tag::format_tag_rules(&p.edge.tag_rules));
    Ok(SettingsView {
        retention_days,
        targets: targets
            .into_iter()
            .map(|(t, paths)| crate::model::TargetView {
                paths_this_month: paths,
                ..crate::model::TargetView::new(t, actor.role)
            })
            .collect(),
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
        auto_format: p.edge.auto_format,
        linear_light: p.edge.linear_light,
        soft_purge: p.edge.soft_purge,
        verify: p.edge.verify,
        tag_sources,
        tag_rules,
        confirm_above_objects: p.edge.confirm_above_objects,
        confirm_above_mb: p.edge.confirm_above_bytes.map(|b| b >> 20),
        approval_for_all: p.edge.approval_for_all,
        approval_hours: p.edge.approval_hours.unwrap_or(imgflush::backend::store::DEFAULT_APPROVAL_HOURS),
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
    auto_format: Option<String>,
    linear_light: Option<String>,
    soft_purge: Option<String>,
    verify: Option<String>,
    allow_private_origins: Option<String>,
    private_origins_allowed: Option<String>,
    tag_sources: Option<String>,
    tag_rules: Option<String>,
    confirm_above_objects: Option<String>,
    confirm_above_mb: Option<String>,
    approval_for_all: Option<String>,
    approval_hours: Option<String>,
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
        auto_format: auto_format.is_some(),
        linear_light: linear_light.is_some(),
        soft_purge: soft_purge.is_some(),
        verify: verify.is_some(),
        allow_private_origins: allow_private_origins.is_some(),
        private_origins_allowed: private_origins_allowed.unwrap_or_default(),
        tag_sources,
        tag_rules,
        confirm_above_objects,
        confirm_above_mb,
        // The form always posts the hours field; the box arrives only when ticked.
        approval_for_all: approval_hours.as_ref().map(|_| approval_for_all.is_some()),
        approval_hours,
    };
    services.projects.update_settings(&actor, &input).await?;
    crate::ssr::flash_for_plain_form("settings_answer", "settings_saved").await;
    Ok(())
}

/// The form's per-kind settings: `settings[cloudflare][zone_id]=…`. Without
/// JavaScript every kind's fields are posted; only the chosen kind's count.
pub type KindSettings = BTreeMap<String, BTreeMap<String, String>>;

/// The chosen kind's settings out of the form's map (the kind named as the
/// form posts it, or by its label).
#[cfg(feature = "ssr")]
fn settings_of(kind: &str, settings: Option<KindSettings>) -> BTreeMap<String, String> {
    let mut settings = settings.unwrap_or_default();
    let name = imgflush::domain::TargetKind::parse(kind).map(|k| k.as_str().to_owned()).unwrap_or_default();
    settings.remove(&name).unwrap_or_default()
}

/// Adds a purge target (admins) with its kind's settings and credentials.
#[server(prefix = "/sfn", endpoint = "add_target", output = crate::codec::Json)]
pub async fn add_target(
    project: String,
    kind: String,
    name: String,
    url: String,
    secret: Option<String>,
    settings: Option<KindSettings>,
) -> Result<(), AppError> {
    use imgflush::backend::targets::TargetInput;

    let (services, actor) = super::writer(&project).await?;
    let settings = settings_of(&kind, settings);
    let input = TargetInput { kind, name, url, secret, settings };
    if let Err(e) = services.targets.add(&actor, &input).await {
        // Without JavaScript the page shows this kind's fields again, with the errors.
        crate::ssr::flash_for_plain_form("target_add", &input.kind).await;
        return Err(e.into());
    }
    crate::ssr::flash_for_plain_form("settings_answer", "target_added").await;
    Ok(())
}

/// Changes a purge target (admins): everything but its kind. Credentials and
/// the secret left empty are kept.
#[server(prefix = "/sfn", endpoint = "edit_target", output = crate::codec::Json)]
pub async fn edit_target(
    project: String,
    target_id: i64,
    kind: String,
    name: String,
    url: String,
    secret: Option<String>,
    settings: Option<KindSettings>,
) -> Result<(), AppError> {
    use imgflush::backend::targets::TargetInput;

    let (services, actor) = super::writer(&project).await?;
    let settings = settings_of(&kind, settings);
    let input = TargetInput { kind, name, url, secret, settings };
    if let Err(e) = services.targets.edit(&actor, target_id, &input).await {
        // Without JavaScript the page shows the errors beside this target's form.
        crate::ssr::flash_for_plain_form("target_edit", &target_id.to_string()).await;
        return Err(e.into());
    }
    crate::ssr::flash_for_plain_form("settings_answer", "target_saved").await;
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "remove_target", output = crate::codec::Json)]
pub async fn remove_target(project: String, target_id: i64) -> Result<crate::model::TargetRemoved, AppError> {
    let (services, actor) = super::writer(&project).await?;
    let name = services.targets.remove(&actor, target_id).await?;
    crate::ssr::flash_for_plain_form("target_removed", &name).await;
    Ok(crate::model::TargetRemoved { name })
}

/// How many days the project keeps its invalidations (admins).
#[server(prefix = "/sfn", endpoint = "save_retention", output = crate::codec::Json)]
pub async fn save_retention(project: String, retention_days: String) -> Result<i64, AppError> {
    let (services, actor) = super::writer(&project).await?;
    let days = services.projects.set_retention(&actor, &retention_days).await?;
    crate::ssr::flash_for_plain_form("settings_answer", &format!("retention:{days}")).await;
    Ok(days)
}
