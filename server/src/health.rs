use axum::extract::State;
use axum::http::StatusCode;

use imgflush::backend::Services;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(services): State<Services>) -> (StatusCode, &'static str) {
    match services.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
