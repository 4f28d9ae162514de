//! Sign-in and sign-out as plain form posts (they work without JavaScript).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use app::ssr::UserSession;
use imgflush::backend::auth::AuthError;
use imgflush::backend::Services;
use imgflush::domain::url::query_value;

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// Only same-site paths: never `//host` or a full URL (no open redirect).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && !n.starts_with("/login") => n,
        _ => "/",
    }
}

fn client_ip(parts: &Parts) -> Option<std::net::IpAddr> {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
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
    match services.accounts.sign_in(&form.email, &form.password, ip).await {
        Ok(user) => {
            if let Err(e) = UserSession::new(session).sign_in(&user).await {
                return internal(e);
            }
            tracing::info!(user_id = user.id, "signed in");
            Redirect::to(&next).into_response()
        }
        Err(AuthError::Throttled(secs)) => {
            tracing::warn!(?ip, retry_after = secs, "login throttled");
            back("throttled")
        }
        Err(AuthError::InvalidCredentials) => back("invalid"),
        Err(e) => internal(e),
    }
}

pub async fn logout(session: Session) -> Response {
    if let Err(e) = UserSession::new(session).sign_out().await {
        return internal(e);
    }
    Redirect::to("/login").into_response()
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "sign-in failed");
    (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Please try again.")
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_always_a_local_path() {
        assert_eq!(safe_next(Some("/p/demo/invalidation")), "/p/demo/invalidation");
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "evil", "/login?x"] {
            assert_eq!(safe_next(Some(bad)), "/");
        }
    }
}
