//! The one HTTP error type of the edge: a status, a stable machine code (in
//! `X-Imgflush-Error`) and a one-line reason as the body. 5xx reasons are
//! generic; the cause is logged by whoever built the error.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

pub const ERROR_HEADER: &str = "x-imgflush-error";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdgeError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for `Retry-After` (429s).
    pub retry_after: Option<u64>,
}

impl EdgeError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        EdgeError { status, code, message: message.into(), retry_after: None }
    }

    pub fn retry_after(self, secs: u64) -> Self {
        EdgeError { retry_after: Some(secs), ..self }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn bad_gateway(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, code, message)
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }

    /// A refused miss (see `misses`): a stale copy may stand in for it too.
    pub fn is_rate_limited(&self) -> bool {
        self.code == "too_many_misses"
    }

    /// Whether a stale cached copy may stand in for this failure.
    pub fn is_origin_failure(&self) -> bool {
        matches!(self.code, "origin_unreachable" | "origin_timeout" | "origin_status")
    }
}

impl std::fmt::Display for EdgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for EdgeError {}

impl IntoResponse for EdgeError {
    fn into_response(self) -> Response {
        let mut res = (self.status, format!("{}\n", self.message)).into_response();
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(ERROR_HEADER, HeaderValue::from_static(self.code));
        if let Some(secs) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}
