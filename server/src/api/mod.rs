//! The REST API: anchor-compatible `/invalidate` and native `/api/v1`, both
//! authenticated by project API keys (never cookies), with JSON errors.

mod anchor;
mod auth;
pub mod error;
mod openapi;
pub mod ratelimit;
pub mod schema;
mod v1;

use axum::extract::DefaultBodyLimit;
use axum::http::HeaderMap;
use axum::routing::{any, get, post};
use axum::Router;

use imgflush::backend::invalidations::{Created, Submission};
use imgflush::backend::{Actor, Services};
use imgflush::domain::InvalidationId;

use crate::config::Config;
use error::{ApiError, ErrorCode};

pub use openapi::document as openapi;

pub fn router(config: &Config) -> Router<Services> {
    Router::new()
        .route("/invalidate", post(anchor::create))
        .route("/invalidate/{uuid}", get(anchor::status))
        .route("/api/v1/invalidations", post(v1::create).get(v1::list))
        .route("/api/v1/invalidations/{id}", get(v1::get))
        .route("/api/v1/invalidations/{id}/retry", post(v1::retry))
        .route("/api/v1/invalidations/{id}/cancel", post(v1::cancel))
        .route("/api/v1/openapi.json", get(openapi::serve))
        .route("/api/v1", any(unknown_route))
        .route("/api/v1/{*rest}", any(unknown_route))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(config.api.max_body_bytes))
}

async fn unknown_route() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such API endpoint; see /api/v1/openapi.json")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "this endpoint does not take this method; see /api/v1/openapi.json")
}

fn parse_id(raw: &str) -> Result<InvalidationId, ApiError> {
    InvalidationId::parse(raw).map_err(|e| ApiError::field("id", e.to_string()))
}

const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Marks an answer that replays an earlier request with the same Idempotency-Key.
const REPLAYED: (&str, &str) = ("idempotent-replayed", "true");

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(IDEMPOTENCY_KEY) else { return Ok(None) };
    let bad = || ApiError::field("Idempotency-Key", "use 1 to 255 visible ASCII characters, e.g. a UUID or a build id");
    let key = v.to_str().map_err(|_| bad())?.trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(Some(key.to_owned()))
}

/// The submission both API families share.
async fn submit(
    services: &Services,
    actor: &Actor,
    headers: &HeaderMap,
    req: schema::InvalidationRequest,
) -> Result<Created, ApiError> {
    let sub = Submission::from_api(&req.scope, req.urls, idempotency_key(headers)?)?;
    Ok(services.invalidations.submit(actor, sub).await?)
}
