use leptos::prelude::*;

use crate::error::AppError;
use crate::model::UsersView;

/// Every user of the instance (owners; staff read).
#[server(prefix = "/sfn", endpoint = "list_users", output = crate::codec::Json)]
pub async fn list_users() -> Result<UsersView, AppError> {
    use crate::model::UserRow;
    use crate::ssr::{current_user, services};

    let me = current_user().await?;
    let users = services()?.directory.list(&me).await?;
    let users = users
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            email: u.email,
            instance_role: u.instance_role,
            last_sign_in: u.last_sign_in.map(Into::into),
            projects: u.projects,
            two_step: u.two_step,
        })
        .collect();
    Ok(UsersView { users, me: me.id, owner: me.instance_role == Some(imgflush::domain::InstanceRole::Owner) })
}

/// `owner`, `staff` or `none` (owners; the last owner stays one).
#[server(prefix = "/sfn", endpoint = "set_instance_role", output = crate::codec::Json)]
pub async fn set_instance_role(user_id: i64, instance_role: String) -> Result<(), AppError> {
    let (services, me) = super::user_writer().await?;
    services.directory.set_instance_role(&me, user_id, &instance_role, &crate::ssr::request_meta().await).await?;
    Ok(())
}

/// Removes a user from the instance (owners; not oneself, not a project's only admin).
#[server(prefix = "/sfn", endpoint = "remove_user", output = crate::codec::Json)]
pub async fn remove_user(user_id: i64) -> Result<(), AppError> {
    let (services, me) = super::user_writer().await?;
    services.directory.remove(&me, user_id, &crate::ssr::request_meta().await).await?;
    Ok(())
}

/// Ends every session of a user (owners): a lost laptop, a leaver.
#[server(prefix = "/sfn", endpoint = "end_user_sessions", output = crate::codec::Json)]
pub async fn end_user_sessions(user_id: i64) -> Result<u64, AppError> {
    let (services, me) = super::user_writer().await?;
    Ok(services.sessions.end_for(&me, user_id, &crate::ssr::request_meta().await).await?)
}
