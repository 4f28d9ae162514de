use leptos::prelude::*;

use crate::error::AppError;
use crate::model::HooksView;

#[server(prefix = "/sfn", endpoint = "list_hooks", output = crate::codec::Json)]
pub async fn list_hooks(project: String) -> Result<HooksView, AppError> {
    let (services, actor) = crate::ssr::actor(&project).await?;
    let hooks = services.notify.list(&actor).await?;
    let hooks = hooks
        .into_iter()
        .map(|h| crate::model::HookView {
            id: h.id,
            name: h.name,
            url: h.url,
            has_secret: h.secret.is_some(),
            every_final: h.every_final,
            last_result: h.last_result,
            last_at: h.last_at.map(Into::into),
        })
        .collect();
    Ok(HooksView { hooks, role: actor.role })
}

/// Adds a hook (admins). The checkbox arrives only when ticked.
#[server(prefix = "/sfn", endpoint = "add_hook", output = crate::codec::Json)]
pub async fn add_hook(
    project: String,
    name: String,
    url: String,
    secret: Option<String>,
    every_final: Option<String>,
) -> Result<(), AppError> {
    use imgflush::backend::notify::HookInput;

    let (services, actor) = super::writer(&project).await?;
    let input = HookInput { name, url, secret, every_final: every_final.is_some() };
    services.notify.add(&actor, &input).await?;
    Ok(())
}

#[server(prefix = "/sfn", endpoint = "remove_hook", output = crate::codec::Json)]
pub async fn remove_hook(project: String, hook_id: i64) -> Result<(), AppError> {
    let (services, actor) = super::writer(&project).await?;
    services.notify.remove(&actor, hook_id).await?;
    Ok(())
}

/// Sends the hook a signed `test` event; answers what it said (admins).
#[server(prefix = "/sfn", endpoint = "test_hook", output = crate::codec::Json)]
pub async fn test_hook(project: String, hook_id: i64) -> Result<String, AppError> {
    let (services, actor) = super::writer(&project).await?;
    let answer = services.notify.test(&actor, hook_id).await?;
    crate::ssr::flash_for_plain_form("hook_test", &answer).await;
    Ok(answer)
}

/// Sends the purge target a harmless purge; answers what it said (admins).
#[server(prefix = "/sfn", endpoint = "test_target", output = crate::codec::Json)]
pub async fn test_target(project: String, target_id: i64) -> Result<crate::model::TargetTestAnswer, AppError> {
    let (services, actor) = super::writer(&project).await?;
    let answer = services.targets.test(&actor, target_id).await?;
    let answer = crate::model::TargetTestAnswer { target_id, answer };
    if let Ok(json) = serde_json::to_string(&answer) {
        crate::ssr::flash_for_plain_form("target_test", &json).await;
    }
    Ok(answer)
}
