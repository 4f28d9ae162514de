use leptos::prelude::*;

use crate::error::AppError;
use crate::model::Me;

#[server(prefix = "/sfn", endpoint = "me", output = crate::codec::Json)]
pub async fn get_me() -> Result<Me, AppError> {
    use crate::model::ProjectRef;
    use crate::ssr::{current_user, services};

    let user = current_user().await?;
    let memberships = services()?.projects.memberships(&user).await?;
    let projects =
        memberships.into_iter().map(|m| ProjectRef { token: m.project.token, name: m.project.name, role: m.role });
    Ok(Me { email: user.email, instance_role: user.instance_role, projects: projects.collect() })
}

/// What a form posted without JavaScript left for its page to show once
/// (an invitation link, a new key, a test's answer), removed as it is read.
/// Where users reach this console (`server.public_url` or the request's
/// host): the API reference's base URL. Nothing secret; signed-in users only.
#[server(prefix = "/sfn", endpoint = "console_base_url", output = crate::codec::Json)]
pub async fn console_base_url() -> Result<String, AppError> {
    crate::ssr::current_user().await?;
    Ok(crate::ssr::base_url().await)
}

#[server(prefix = "/sfn", endpoint = "take_flash", output = crate::codec::Json)]
pub async fn take_flash(key: String) -> Result<Option<String>, AppError> {
    use crate::ssr::{current_user, internal, UserSession};

    const KEYS: [&str; 14] = [
        "invite",
        "new_key",
        "project_created",
        "target_test",
        "hook_test",
        "target_add",
        "target_edit",
        "target_removed",
        "settings_answer",
        "member_changed",
        "key_revoked",
        "session_ended",
        "recovery_codes",
        "retry_queued",
    ];
    current_user().await?;
    if !KEYS.contains(&key.as_str()) {
        return Err(crate::ssr::answered(AppError::NotFound));
    }
    let session: tower_sessions::Session = leptos_axum::extract().await.map_err(internal)?;
    UserSession::new(session).take_flash(&key).await.map_err(internal)
}
