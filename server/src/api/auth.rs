//! Key authentication: `X-Client-Key: imf_…` (as the anchor) or
//! `Authorization: Bearer imf_…`. The key resolves to one project and role;
//! no cookie or session is ever read or written.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use imgflush::backend::audit::RequestMeta;
use imgflush::backend::{Actor, ServiceError, Services};

use super::error::ApiError;
use super::ratelimit;
use crate::client_ip::ClientIp;

/// The authenticated caller of an API request.
pub struct Caller(pub Actor);

impl FromRequestParts<Services> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, services: &Services) -> Result<Self, ApiError> {
        let source = parts.extensions.get::<ClientIp>().and_then(|c| c.0);
        ratelimit::before_key(services, source).await?;
        let presented = match presented_key(&parts.headers) {
            Ok(p) => p,
            Err(e) => {
                ratelimit::key_refused(services, source).await;
                return Err(e);
            }
        };
        let caller = match services.keys.authenticate(presented).await {
            Ok(c) => c,
            Err(ServiceError::NotFound) => {
                ratelimit::key_refused(services, source).await;
                return Err(ApiError::unauthorized("the API key is unknown, malformed or revoked"));
            }
            Err(other) => return Err(other.into()),
        };
        // Told only now that the whole secret matched: who does not hold
        // the key learns nothing about its expiry or networks.
        if let Err(refusal) = services.keys.admit(&caller.key, source) {
            ratelimit::key_refused(services, source).await;
            tracing::info!(key = %caller.key.prefix, %refusal, "API key refused");
            return Err(ApiError::key_refused(&refusal));
        }
        ratelimit::per_key(services, caller.key.id).await?;
        if let Err(e) = services.keys.touch(&caller.key, source).await {
            tracing::warn!(key = %caller.key.prefix, error = %e, "could not record the key's last use");
        }
        let ua = parts.headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok());
        Ok(Caller(caller.actor.from_request(RequestMeta::new(source, ua))))
    }
}

fn presented_key(headers: &HeaderMap) -> Result<&str, ApiError> {
    if let Some(v) = headers.get("x-client-key") {
        return v.to_str().map_err(|_| ApiError::unauthorized("the X-Client-Key header is not valid text"));
    }
    let Some(auth) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "send the project's API key in `X-Client-Key: imf_…` or `Authorization: Bearer imf_…`",
        ));
    };
    let auth = auth.to_str().unwrap_or_default();
    match auth.split_once(' ') {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => Ok(key.trim()),
        _ => Err(ApiError::unauthorized("use `Authorization: Bearer imf_…` with the project's API key")),
    }
}

/// `axum::Json` with its rejections answered as API errors (400/413/415/422).
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query` with its rejections answered as API errors (400).
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);
