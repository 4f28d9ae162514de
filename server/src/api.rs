//! The REST API (anchor-compatible `/invalidate` and native `/api/v1`).

use axum::Router;
use imgflush::backend::Services;

use crate::config::Config;

pub fn router(_config: &Config) -> Router<Services> {
    Router::new()
}
