//! Key authentication: `X-Client-Key: imf_…` (as the anchor) or
//! `Authorization: Bearer imf_…`. The key resolves to one project and role;
//! no cookie or session is ever read or written.

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use imgflush::backend::{Actor, ServiceError, Services};

use super::error::ApiError;
use super::ratelimit::RateLimiter;

/// The authenticated caller of an API request.
pub struct Caller(pub Actor);

impl FromRequestParts<Services> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, services: &Services) -> Result<Self, ApiError> {
        let presented = presented_key(&parts.headers)?;
        let caller = services.keys.authenticate(presented).await.map_err(|e| match e {
            ServiceError::NotFound => ApiError::unauthorized("the API key is unknown, malformed or revoked"),
            other => other.into(),
        })?;
        if let Some(limiter) = parts.extensions.get::<Arc<RateLimiter>>() {
            limiter.check(caller.key.id).map_err(|wait| ApiError::rate_limited(wait, limiter.per_minute()))?;
        }
        if let Err(e) = services.keys.touch(&caller.key).await {
            tracing::warn!(key = %caller.key.prefix, error = %e, "could not record the key's last use");
        }
        Ok(Caller(caller.actor))
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
