use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{CreatedKey, KeysView};

#[server(prefix = "/sfn", endpoint = "list_keys", output = crate::codec::Json)]
pub async fn list_keys(project: String) -> Result<KeysView, AppError> {
    let (services, actor) = crate::ssr::actor(&project).await?;
    let keys = services.keys.list(&actor).await?;
    Ok(KeysView { keys: keys.into_iter().map(Into::into).collect(), role: actor.role })
}

#[server(prefix = "/sfn", endpoint = "create_key", output = crate::codec::Json)]
pub async fn create_key(project: String, name: String, role: String) -> Result<CreatedKey, AppError> {
    let (services, actor) = super::writer(&project).await?;
    let (key, secret) = services.keys.create(&actor, &name, &role).await?;
    let created = CreatedKey { name: key.name, secret };
    if let Ok(json) = serde_json::to_string(&created) {
        crate::ssr::flash_for_plain_form("new_key", &json).await;
    }
    Ok(created)
}

#[server(prefix = "/sfn", endpoint = "revoke_key", output = crate::codec::Json)]
pub async fn revoke_key(project: String, key_id: i64) -> Result<(), AppError> {
    let (services, actor) = super::writer(&project).await?;
    services.keys.revoke(&actor, key_id).await?;
    Ok(())
}
