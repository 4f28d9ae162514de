//! The sign-in's second step and the authenticator set-up as plain form
//! posts (they work without JavaScript): the one-time code after the
//! password, and the first code that turns two-step sign-in on.

use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;
use tower_sessions::Session;

use app::ssr::second_step::device_cookie;
use app::ssr::UserSession;
use imgflush::backend::auth::AuthError;
use imgflush::backend::services::second_factor::How;
use imgflush::backend::{ServiceError, Services, StoreError};

use crate::auth_routes::{internal, request_meta};

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
    /// The checkbox "Remember this browser": present when ticked.
    #[serde(default)]
    remember: Option<String>,
}

#[derive(Deserialize)]
pub struct SetupForm {
    code: String,
}

/// `POST /login/code`: the one-time code (or a recovery code) completes a
/// pending sign-in. Five wrong codes, or ten minutes, and the password is
/// asked again.
pub async fn code(
    State(services): State<Services>,
    parts: Parts,
    session: Session,
    Form(form): Form<CodeForm>,
) -> Response {
    let meta = request_meta(&parts);
    let us = UserSession::new(session);
    let (pending, user) = match us.pending(&services).await {
        Ok(Some((p, _))) if p.enrol => return Redirect::to("/account/two-step").into_response(),
        Ok(Some(found)) => found,
        Ok(None) => return Redirect::to("/login?error=expired_step").into_response(),
        Err(e) => return internal(e),
    };
    let next = pending.next.clone();
    match services.second_factor.verify(&user, &form.code, &meta).await {
        Ok(how) => {
            if let Err(e) = us.complete(&services, &user, &meta, how).await {
                return internal(e);
            }
            let mut resp = Redirect::to(&next).into_response();
            if form.remember.is_some() {
                match services.second_factor.remember(&user).await {
                    Ok(Some((token, days))) => {
                        if let Ok(v) = HeaderValue::from_str(&device_cookie(&token, days)) {
                            resp.headers_mut().append(header::SET_COOKIE, v);
                        }
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "could not remember the browser"),
                }
            }
            resp
        }
        Err(AuthError::Throttled(_)) => Redirect::to("/login/code?error=throttled").into_response(),
        Err(AuthError::InvalidCredentials) => match us.wrong_code(pending).await {
            Ok(true) => Redirect::to("/login/code?error=invalid").into_response(),
            Ok(false) => Redirect::to("/login?error=too_many_codes").into_response(),
            Err(e) => internal(e),
        },
        Err(AuthError::Store(StoreError::Unavailable(_))) => crate::security::unavailable(),
        Err(e) => internal(e),
    }
}

/// `POST /account/two-step`: the app's first code turns two-step sign-in
/// on, for the signed-in user or for a sign-in the policy holds until it is
/// set up (which it then completes). The recovery codes are shown once, on
/// the account page.
pub async fn set_up(
    State(services): State<Services>,
    parts: Parts,
    session: Session,
    Form(form): Form<SetupForm>,
) -> Response {
    let meta = request_meta(&parts);
    let us = UserSession::new(session);
    let (user, pending) = match us.pending(&services).await {
        Ok(Some((p, user))) if p.enrol => (user, Some(p)),
        Ok(_) => match us.user_with(&services, &meta).await {
            Ok(Some(user)) => (user, None),
            Ok(None) => return Redirect::to("/login?next=%2Faccount%2Ftwo-step").into_response(),
            Err(e) => return internal(e),
        },
        Err(e) => return internal(e),
    };
    let codes = match services.second_factor.confirm(&user, &form.code, &meta).await {
        Ok(codes) => codes,
        Err(ServiceError::Invalid(errors)) => {
            if let Some(p) = pending {
                match us.wrong_code(p).await {
                    Ok(true) => {}
                    Ok(false) => return Redirect::to("/login?error=too_many_codes").into_response(),
                    Err(e) => return internal(e),
                }
            }
            let message = errors.first().map(|e| e.message.as_str()).unwrap_or("wrong code");
            let target = format!("/account/two-step?error={}", imgflush::domain::url::query_value(message));
            return Redirect::to(&target).into_response();
        }
        Err(ServiceError::Conflict(_)) => return Redirect::to("/account").into_response(),
        Err(ServiceError::Unavailable) => return crate::security::unavailable(),
        Err(e) => return internal(e),
    };
    if pending.is_some() {
        if let Err(e) = us.complete(&services, &user, &meta, How::Enrolled).await {
            return internal(e);
        }
    }
    if let Err(e) = us.set_flash("recovery_codes", &codes.join("\n")).await {
        return internal(e);
    }
    Redirect::to("/account#two-step").into_response()
}
