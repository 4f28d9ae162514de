//! Single sign-on's two legs as plain GETs, so the sign-in page's links work
//! without JavaScript: `/login/sso/{id}` leaves for the identity provider
//! (the flow's `state`, `nonce` and PKCE verifier kept in the session),
//! `/login/sso/callback` comes back, and signs in under a fresh session id.
//! Every refusal goes back to the sign-in page with `error=sso_{reason}`.

use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use serde::Deserialize;
use tower_sessions::Session;

use crate::auth_routes::safe_next;
use crate::client_ip::ClientIp;
use app::ssr::{PublicUrl, UserSession};
use imgflush::backend::audit::RequestMeta;
use imgflush::backend::services::sso::{Callback, Pending, Refusal};
use imgflush::backend::{ServiceError, Services};
use imgflush::domain::url::query_value;

/// The session key of the sign-in under way (one at a time per browser).
const PENDING: &str = "sso.pending";

#[derive(Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    next: Option<String>,
    /// Passed on for the provider to pre-fill (OpenID Connect's `login_hint`).
    #[serde(default)]
    login_hint: Option<String>,
}

fn meta(parts: &Parts) -> RequestMeta {
    let ip = parts.extensions.get::<ClientIp>().and_then(|c| c.0);
    let ua = parts.headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok());
    RequestMeta::new(ip, ua)
}

/// This console's callback URL: `server.public_url`, else the scheme and
/// host the request came to. The provider only redirects to URLs
/// registered for the client, so a forged `Host` gains nothing.
fn callback_url(parts: &Parts, public: &PublicUrl) -> String {
    if let Some(url) = &public.0 {
        return format!("{url}/login/sso/callback");
    }
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let host = header("host").filter(|h| !h.is_empty() && !h.contains(['/', ' ', '@'])).unwrap_or("localhost");
    let https = header("x-forwarded-proto").and_then(|p| p.split(',').next()).map(str::trim) == Some("https");
    format!("{}://{host}/login/sso/callback", if https { "https" } else { "http" })
}

fn to_login(reason: &str, next: &str) -> Response {
    Redirect::to(&format!("/login?error=sso_{reason}&next={}", query_value(next))).into_response()
}

pub async fn start(
    State(services): State<Services>,
    Extension(public): Extension<PublicUrl>,
    parts: Parts,
    session: Session,
    Path(id): Path<i64>,
    Query(q): Query<StartQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref()).to_owned();
    let redirect = callback_url(&parts, &public);
    match services.sso.start(id, &redirect, &next, q.login_hint.as_deref()).await {
        Ok(started) => match session.insert(PENDING, started.pending).await {
            Ok(()) => Redirect::to(&started.url).into_response(),
            Err(e) => internal(e),
        },
        Err(Refusal::Internal(ServiceError::NotFound)) => {
            (axum::http::StatusCode::NOT_FOUND, "No such single sign-on provider.").into_response()
        }
        Err(refusal) => refused(refusal, &next),
    }
}

pub async fn callback(
    State(services): State<Services>,
    Extension(public): Extension<PublicUrl>,
    parts: Parts,
    session: Session,
    Query(callback): Query<Callback>,
) -> Response {
    let meta = meta(&parts);
    // Taken out as it is read: a replayed callback finds nothing.
    let pending = session.remove::<Pending>(PENDING).await.ok().flatten();
    let Some(pending) = pending else {
        services.sso.stale_callback(&meta).await;
        return to_login(Refusal::State.code(), "/");
    };
    let redirect = callback_url(&parts, &public);
    match services.sso.finish(&pending, &callback, &redirect, &meta).await {
        Ok(user) => {
            if let Err(e) = UserSession::new(session).sign_in(&services, &user, &meta).await {
                return internal(e);
            }
            tracing::info!(user_id = user.id, provider = pending.provider_id, "signed in with single sign-on");
            Redirect::to(safe_next(Some(&pending.next))).into_response()
        }
        Err(refusal) => refused(refusal, &pending.next),
    }
}

fn refused(refusal: Refusal, next: &str) -> Response {
    match refusal {
        Refusal::Internal(ServiceError::Unavailable) => crate::security::unavailable(),
        Refusal::Internal(e) => {
            tracing::error!(error = %e, "single sign-on failed on our side");
            to_login("internal", next)
        }
        other => {
            tracing::warn!(reason = other.code(), error = %other, "single sign-on refused");
            to_login(other.code(), next)
        }
    }
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "single sign-on failed");
    (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Please try again.")
        .into_response()
}
