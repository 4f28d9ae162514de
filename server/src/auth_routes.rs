//! Sign-in and sign-out as plain form posts (they work without JavaScript).

use axum::extract::State;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use crate::client_ip::ClientIp;
use app::ssr::UserSession;
use imgflush::backend::audit::RequestMeta;
use imgflush::backend::auth::AuthError;
use imgflush::backend::Services;
use imgflush::backend::StoreError;
use imgflush::domain::url::query_value;

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

pub(crate) use app::ssr::next::safe_next;

/// The sign-in form is small; a bigger body is refused (413) before it is read
/// into memory or an e-mail from it becomes a throttle key.
pub const MAX_FORM_BYTES: usize = 8 * 1024;

fn client_ip(parts: &Parts) -> Option<std::net::IpAddr> {
    parts.extensions.get::<ClientIp>().and_then(|c| c.0)
}

/// Where a form post came from (address and User-Agent), for the audit
/// trail and the sign-in limits.
pub(crate) fn request_meta(parts: &Parts) -> RequestMeta {
    let ua = parts.headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok());
    RequestMeta::new(client_ip(parts), ua)
}

pub async fn login(
    State(services): State<Services>,
    parts: Parts,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Response {
    let ip = client_ip(&parts);
    let next = safe_next(form.next.as_deref()).to_owned();
    let back = |error: &str| Redirect::to(&format!("/login?error={error}&next={}", query_value(&next))).into_response();
    let meta = request_meta(&parts);
    if let Err(refused) = crate::sso_policy::password_allowed(&services, &form.email, &meta, &next).await {
        return refused;
    }
    match services.accounts.sign_in_from(&form.email, &form.password, &meta).await {
        Ok(user) => {
            // Signed in, or on to the one-time code or the set-up the policy requires.
            let device = app::ssr::second_step::device_token(&parts.headers);
            match UserSession::new(session).after_password(&services, &user, &meta, &next, device.as_deref()).await {
                Ok(then) => {
                    tracing::info!(user_id = user.id, "password accepted");
                    Redirect::to(&then.location()).into_response()
                }
                Err(e) => internal(e),
            }
        }
        Err(AuthError::Throttled(secs)) => {
            tracing::warn!(?ip, retry_after = secs, "login throttled");
            back("throttled")
        }
        Err(AuthError::InvalidCredentials) => back("invalid"),
        Err(AuthError::Store(StoreError::Unavailable(e))) => {
            tracing::warn!(error = %e, "sign-in while the database is unavailable");
            crate::security::unavailable()
        }
        Err(e) => internal(e),
    }
}

pub async fn logout(State(services): State<Services>, parts: Parts, session: Session) -> Response {
    let meta = request_meta(&parts);
    if let Err(e) = UserSession::new(session).sign_out_recorded(&services, &meta).await {
        return internal(e);
    }
    Redirect::to("/login").into_response()
}

pub(crate) fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "sign-in failed");
    (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Please try again.")
        .into_response()
}
