//! The REST API: anchor-compatible `/invalidate` and native `/api/v1`, both
//! authenticated by project API keys (never cookies), with JSON errors.

mod anchor;
mod auth;
pub mod error;
mod openapi;
mod project;
pub mod ratelimit;
pub mod schema;
mod shared;
mod targets;
mod v1;

use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, post};
use axum::Router;

use imgflush::backend::Services;

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
        .route("/api/v1/lookup", get(v1::lookup))
        .route("/api/v1/project", get(project::get).patch(project::update))
        .route("/api/v1/targets", get(targets::list).post(targets::create))
        .route("/api/v1/targets/{target}", get(targets::get).patch(targets::update).delete(targets::delete))
        .route("/api/v1/targets/{target}/test", post(targets::test))
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
