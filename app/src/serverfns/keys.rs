use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{CreatedKey, KeysView};

#[server(prefix = "/sfn", endpoint = "list_keys")]
pub async fn list_keys(project: String) -> Result<KeysView, AppError> {
    use imgflush::domain::Role;

    use crate::model::KeyView;

    let (services, actor) = crate::ssr::actor(&project, Role::can_manage).await?;
    let keys = services.store.list_api_keys(actor.project.id).await?;
    Ok(KeysView {
        keys: keys
            .into_iter()
            .map(|k| KeyView {
                id: k.id,
                name: k.name,
                prefix: k.prefix,
                role: k.role,
                created: k.created,
                last_used: k.last_used,
                revoked: k.revoked,
            })
            .collect(),
        role: actor.role,
    })
}

#[server(prefix = "/sfn", endpoint = "create_key")]
pub async fn create_key(project: String, name: String, role: String) -> Result<CreatedKey, AppError> {
    use imgflush::domain::Role;

    let (services, actor) = crate::ssr::actor(&project, Role::can_manage).await?;
    let created = imgflush::backend::keys::create(&services.store, actor.project.id, &name, &role).await?;
    Ok(CreatedKey { name: created.0.name, secret: created.1 })
}

#[server(prefix = "/sfn", endpoint = "revoke_key")]
pub async fn revoke_key(project: String, key_id: i64) -> Result<(), AppError> {
    use imgflush::domain::Role;

    let (services, actor) = crate::ssr::actor(&project, Role::can_manage).await?;
    services.store.revoke_api_key(actor.project.id, key_id, imgflush::backend::now_ms()).await?;
    Ok(())
}
