use leptos::prelude::*;

use crate::error::AppError;
use crate::model::Me;

#[server(prefix = "/sfn", endpoint = "me")]
pub async fn get_me() -> Result<Me, AppError> {
    use crate::model::ProjectRef;
    use crate::ssr::{current_user, services};

    let user = current_user().await?;
    let memberships = services()?.projects.memberships(&user).await?;
    let projects =
        memberships.into_iter().map(|m| ProjectRef { token: m.project.token, name: m.project.name, role: m.role });
    Ok(Me { email: user.email, instance_role: user.instance_role, projects: projects.collect() })
}
