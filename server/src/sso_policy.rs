//! The require-single-sign-on policy at the password sign-in form: its own
//! file so the form's handler (`auth_routes`) and the single sign-on routes
//! do not import each other.

use axum::response::{IntoResponse, Redirect, Response};

use imgflush::backend::audit::RequestMeta;
use imgflush::backend::{ServiceError, Services};
use imgflush::domain::url::query_value;

/// Before a password is checked: refused (with a message to use single
/// sign-on) when the policy requires it for this e-mail.
pub async fn password_allowed(
    services: &Services,
    email: &str,
    meta: &RequestMeta,
    next: &str,
) -> Result<(), Response> {
    match services.sso.password_sign_in_allowed(email, meta).await {
        Ok(true) => Ok(()),
        Ok(false) => {
            Err(Redirect::to(&format!("/login?error=sso_required&next={}", query_value(next))).into_response())
        }
        Err(ServiceError::Unavailable) => Err(crate::security::unavailable()),
        Err(e) => Err(internal(e)),
    }
}

fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "the single sign-on policy could not be read");
    (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side. Please try again.")
        .into_response()
}
