#![allow(clippy::too_many_arguments)] // a form post: one argument per field
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{CreatedKey, KeysView};

#[server(prefix = "/sfn", endpoint = "list_keys", output = crate::codec::Json)]
pub async fn list_keys(project: String) -> Result<KeysView, AppError> {
    let (services, actor) = crate::ssr::actor(&project).await?;
    let keys = services.keys.list(&actor).await?;
    Ok(KeysView { keys: keys.into_iter().map(Into::into).collect(), role: actor.role })
}

/// Creates a key (admins), optionally limited to path prefixes, tags and
/// scopes (a checkbox per scope; none ticked: any), with an expiry (a number
/// of days or a date) and the networks it is accepted from.
#[server(prefix = "/sfn", endpoint = "create_key", output = crate::codec::Json)]
pub async fn create_key(
    project: String,
    name: String,
    role: String,
    limit_prefixes: Option<String>,
    limit_tags: Option<String>,
    scope_original: Option<String>,
    scope_tag: Option<String>,
    scope_all: Option<String>,
    expires_in_days: Option<String>,
    expires_at: Option<String>,
    allowed_ips: Option<String>,
) -> Result<CreatedKey, AppError> {
    use imgflush::backend::key_rules::KeyRules;
    use imgflush::domain::key_limits::KeyLimits;

    let (services, actor) = super::writer(&project).await?;
    let scopes: Vec<String> = [("original", scope_original), ("tag", scope_tag), ("all", scope_all)]
        .into_iter()
        .filter(|(_, ticked)| ticked.is_some())
        .map(|(s, _)| s.to_owned())
        .collect();
    let limits = KeyLimits::parse(
        limit_prefixes.as_deref().unwrap_or_default(),
        limit_tags.as_deref().unwrap_or_default(),
        &scopes,
    )
    .map_err(|e| AppError::from(imgflush::backend::ServiceError::Invalid(e)))?;
    let rules = KeyRules::parse(
        expires_in_days.as_deref(),
        expires_at.as_deref(),
        allowed_ips.as_deref().unwrap_or_default(),
        chrono::Utc::now(),
    )
    .map_err(|e| AppError::from(imgflush::backend::ServiceError::Invalid(e)))?;
    let (key, secret) = services.keys.create_with(&actor, &name, &role, limits, rules).await?;
    let created = CreatedKey { name: key.name, secret, replaces: None };
    if let Ok(json) = serde_json::to_string(&created) {
        crate::ssr::flash_for_plain_form("new_key", &json).await;
    }
    Ok(created)
}

#[server(prefix = "/sfn", endpoint = "revoke_key", output = crate::codec::Json)]
pub async fn revoke_key(project: String, key_id: i64) -> Result<String, AppError> {
    let (services, actor) = super::writer(&project).await?;
    let name = services.keys.revoke(&actor, key_id).await?;
    crate::ssr::flash_for_plain_form("key_revoked", &name).await;
    Ok(name)
}

/// Rolls a key (admins): a successor with the same role, limits, networks
/// and lifetime; the old key stays valid for `grace_hours`.
#[server(prefix = "/sfn", endpoint = "roll_key", output = crate::codec::Json)]
pub async fn roll_key(project: String, key_id: i64, grace_hours: i64) -> Result<CreatedKey, AppError> {
    let (services, actor) = super::writer(&project).await?;
    let (key, secret) = services.keys.roll(&actor, key_id, grace_hours).await?;
    let old = services.keys.list(&actor).await?.into_iter().find(|k| k.id == key_id);
    let replaces = old.and_then(|k| Some((k.prefix, k.expires?.into())));
    let created = CreatedKey { name: key.name, secret, replaces };
    if let Ok(json) = serde_json::to_string(&created) {
        crate::ssr::flash_for_plain_form("new_key", &json).await;
    }
    Ok(created)
}
