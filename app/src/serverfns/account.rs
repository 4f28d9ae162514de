use leptos::prelude::*;

use crate::error::AppError;
use crate::model::InviteView;

/// What an invitation link offers (its page asks for a new password or for
/// the account's own). A link that does not work answers `NotFound`.
#[server(prefix = "/sfn", endpoint = "invitation", output = crate::codec::Json)]
pub async fn invitation(token: String) -> Result<InviteView, AppError> {
    use crate::ssr::{request_meta, services};
    use imgflush::backend::store::InvitationKind;

    let link = services()?.team.invitation(&token, &request_meta().await).await?;
    Ok(InviteView {
        email: link.email,
        join: link.kind == InvitationKind::Join,
        project_name: link.project_name,
        role: link.role,
    })
}

/// An existing account accepts a link asking it to join a project: its own
/// password (under the sign-in throttle) makes it a member, and signs it in.
#[server(prefix = "/sfn", endpoint = "accept_join", output = crate::codec::Json)]
pub async fn accept_join(token: String, password: String) -> Result<(), AppError> {
    use crate::ssr::{internal, request_meta, services, UserSession};

    let services = services()?;
    let meta = request_meta().await;
    let joined = services.team.accept_join(&token, &password, &meta).await?;
    let project =
        services.projects.memberships(&joined.user).await?.into_iter().find(|m| m.project.id == joined.project_id);
    let next = project.map_or("/".to_owned(), |m| format!("/p/{}/invalidation", m.project.token));
    // The password was the account's own: its second step follows, if it has one.
    let parts: axum::http::request::Parts = leptos_axum::extract().await.map_err(internal)?;
    let device = crate::ssr::second_step::device_token(&parts.headers);
    let session: tower_sessions::Session = leptos_axum::extract().await.map_err(internal)?;
    let then =
        UserSession::new(session).after_password(&services, &joined.user, &meta, &next, device.as_deref()).await?;
    leptos_axum::redirect(&then.location());
    Ok(())
}

/// Sets the password of an invited user (the link works once, until it
/// expires) and signs them in.
#[server(prefix = "/sfn", endpoint = "accept_invitation", output = crate::codec::Json)]
pub async fn accept_invitation(token: String, password: String, confirm: String) -> Result<(), AppError> {
    use crate::ssr::{internal, request_meta, services, UserSession};

    if password != confirm {
        let differ = crate::error::FieldError::new("confirm", "the two passwords differ");
        return Err(crate::ssr::answered(AppError::Invalid(vec![differ])));
    }
    let services = services()?;
    let meta = request_meta().await;
    let user = services.team.accept_invitation(&token, &password, &meta).await?;
    let session: tower_sessions::Session = leptos_axum::extract().await.map_err(internal)?;
    // Straight to their project (the browser may follow this without a full
    // page load), or first to the second factor the policy requires.
    let first = services.projects.memberships(&user).await?.into_iter().next();
    let next = first.map_or("/".to_owned(), |m| format!("/p/{}/invalidation", m.project.token));
    let then = UserSession::new(session).after_password(&services, &user, &meta, &next, None).await?;
    leptos_axum::redirect(&then.location());
    Ok(())
}

/// The signed-in user changes their password; their other sessions end.
#[server(prefix = "/sfn", endpoint = "change_password", output = crate::codec::Json)]
pub async fn change_password(current_password: String, new_password: String, confirm: String) -> Result<(), AppError> {
    use crate::ssr::{current_user, internal, request_meta, services, UserSession};

    let user = current_user().await?;
    if new_password != confirm {
        let differ = crate::error::FieldError::new("confirm", "the two passwords differ");
        return Err(crate::ssr::answered(AppError::Invalid(vec![differ])));
    }
    let meta = request_meta().await;
    let services = services()?;
    let user = services.accounts.change_password(&user, &current_password, &new_password, &meta).await?;
    // Every session ended with the new epoch; this one carries on under it.
    let session: tower_sessions::Session = leptos_axum::extract().await.map_err(internal)?;
    UserSession::new(session).sign_in(&services, &user, &meta).await?;
    Ok(())
}

/// The signed-in user's sessions that have not ended, this one marked.
#[server(prefix = "/sfn", endpoint = "my_sessions", output = crate::codec::Json)]
pub async fn my_sessions() -> Result<Vec<crate::model::SessionView>, AppError> {
    use crate::ssr::{current_user, internal, services, UserSession};

    let user = current_user().await?;
    let session: tower_sessions::Session = leptos_axum::extract().await.map_err(internal)?;
    let current = UserSession::new(session).sign_in_id().await;
    let sessions = services()?.sessions.list(&user).await?;
    Ok(sessions
        .into_iter()
        .map(|s| crate::model::SessionView {
            current: current.as_deref() == Some(s.id.as_str()),
            device: imgflush::domain::device::describe(s.user_agent.as_deref().unwrap_or_default()),
            address: s.address,
            created: s.created.into(),
            last_seen: s.last_seen.into(),
            id: s.id,
        })
        .collect())
}

/// Ends one of the signed-in user's other sessions ("Sign out" in the list).
#[server(prefix = "/sfn", endpoint = "end_session", output = crate::codec::Json)]
pub async fn end_session(session_id: String) -> Result<(), AppError> {
    use crate::ssr::{request_meta, services};

    let (_, user) = super::user_writer().await?;
    services()?.sessions.end(&user, &session_id, &request_meta().await).await?;
    crate::ssr::flash_for_plain_form("session_ended", "one").await;
    Ok(())
}

/// Ends the signed-in user's sessions: every other one (`everywhere` unset),
/// or every one, this one too (then the browser goes to the sign-in page).
#[server(prefix = "/sfn", endpoint = "end_sessions", output = crate::codec::Json)]
pub async fn end_sessions(everywhere: Option<String>) -> Result<(), AppError> {
    use crate::ssr::{internal, request_meta, UserSession};

    let (services, user) = super::user_writer().await?;
    let session: tower_sessions::Session = leptos_axum::extract().await.map_err(internal)?;
    let session = UserSession::new(session);
    let meta = request_meta().await;
    if everywhere.is_some() {
        services.sessions.end_all(&user, None, &meta).await?;
        session.sign_out().await.map_err(internal)?;
        leptos_axum::redirect("/login");
        return Ok(());
    }
    let keep = session.sign_in_id().await;
    let user = services.sessions.end_all(&user, keep.as_deref(), &meta).await?;
    match keep {
        // Carries on under the account's new epoch, in its place in the list.
        Some(_) => session.renew(&user).await?,
        // Signed in before sessions were listed: a fresh sign-in, listed.
        None => session.sign_in(&services, &user, &meta).await?,
    }
    crate::ssr::flash_for_plain_form("session_ended", "others").await;
    Ok(())
}
