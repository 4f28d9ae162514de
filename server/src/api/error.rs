//! One error type for the whole API: a stable machine `code`, a message that
//! says how to fix the request, and per-field `details`. 5xx answers carry a
//! generic message; the cause goes to the log only.

use std::time::Duration;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

use imgflush::backend::{ServiceError, StoreError};
use imgflush::domain::FieldError;

/// Stable error codes; the HTTP status follows from the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: a value breaks a rule (path, scope, count, id, query parameter).
    InvalidInput,
    /// 400: the body is not syntactically valid JSON.
    MalformedJson,
    /// 401: no key, or an unknown, malformed or revoked key.
    Unauthorized,
    /// 401: the key (its whole secret matched) has expired.
    KeyExpired,
    /// 401: the key (its whole secret matched) is not accepted from the request's address.
    KeyAddressNotAllowed,
    /// 403: the key's role may not do this.
    Forbidden,
    /// 404: absent, or belongs to another project.
    NotFound,
    /// 405: the path exists, the method does not.
    MethodNotAllowed,
    /// 409: wrong state for the action, or an Idempotency-Key reused with another body.
    Conflict,
    /// 413: the body is larger than the configured limit.
    PayloadTooLarge,
    /// 415: the body is not sent as `application/json`.
    UnsupportedMediaType,
    /// 422: valid JSON of the wrong shape (missing field, wrong type).
    UnprocessableEntity,
    /// 429: the key's request budget is spent; see `Retry-After`.
    RateLimited,
    /// 500: our fault; the message is generic.
    Internal,
    /// 503: the database is unreachable for now; see `Retry-After`.
    Unavailable,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidInput | Self::MalformedJson => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::KeyExpired | Self::KeyAddressNotAllowed => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::UnprocessableEntity => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// Always `"error"` in an error body.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ErrorTag {
    Error,
}

/// One bad input field: what is wrong, the offending entry, and the fix.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = FieldError)]
pub struct FieldErrorBody {
    /// `scope`, `urls`, a query parameter or a header name.
    pub field: String,
    pub message: String,
    /// The entry as sent, when one entry of a list is at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// A corrected value, when one can be derived (e.g. `/sample.li/flat1.jpg`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl From<FieldError> for FieldErrorBody {
    fn from(e: FieldError) -> Self {
        FieldErrorBody { field: e.field, message: e.message, entry: e.entry, suggestion: e.suggestion }
    }
}

/// Every error the API returns.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub status: ErrorTag,
    pub code: ErrorCode,
    pub message: String,
    pub details: Vec<FieldErrorBody>,
}

#[derive(Debug)]
pub struct ApiError {
    body: ErrorBody,
    retry_after: Option<u64>,
    www_authenticate: bool,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            body: ErrorBody { status: ErrorTag::Error, code, message: message.into(), details: Vec::new() },
            retry_after: None,
            www_authenticate: false,
        }
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let message = match errors.as_slice() {
            [one] => one.to_string(),
            many => format!(
                "fix {} invalid inputs: {}",
                many.len(),
                many.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
            ),
        };
        let mut e = Self::new(ErrorCode::InvalidInput, message);
        e.body.details = errors.into_iter().map(FieldErrorBody::from).collect();
        e
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, message)])
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        ApiError { www_authenticate: true, ..Self::new(ErrorCode::Unauthorized, message) }
    }

    /// 401 for a key whose secret matched but which may not be used now or from here.
    pub fn key_refused(refusal: &imgflush::backend::services::key_rules::KeyRefusal) -> Self {
        use imgflush::backend::services::key_rules::KeyRefusal;
        let code = match refusal {
            KeyRefusal::Expired(_) => ErrorCode::KeyExpired,
            KeyRefusal::AddressNotAllowed(_) => ErrorCode::KeyAddressNotAllowed,
        };
        ApiError { www_authenticate: true, ..Self::new(code, refusal.to_string()) }
    }

    pub fn rate_limited(retry_after: Duration, per_minute: u32) -> Self {
        let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
        let msg = format!("this API key may send {per_minute} requests per minute; retry in {secs} s");
        ApiError { retry_after: Some(secs), ..Self::new(ErrorCode::RateLimited, msg) }
    }

    /// 503 with `Retry-After`: the database is away, the request may be repeated as is.
    pub fn unavailable() -> Self {
        let secs = ServiceError::RETRY_AFTER_SECS;
        let msg = format!("the database is unavailable; retry in {secs} s");
        ApiError { retry_after: Some(secs), ..Self::new(ErrorCode::Unavailable, msg) }
    }

    /// 429 for a budget other than the key's (the client address's).
    pub fn too_many_requests(retry_after: Duration, message: impl Into<String>) -> Self {
        let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
        ApiError { retry_after: Some(secs), ..Self::new(ErrorCode::RateLimited, message) }
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "no invalidation with this ID in the API key's project")
    }

    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "API request failed");
        Self::new(ErrorCode::Internal, "internal error; the server log has the details")
    }

    pub fn code(&self) -> ErrorCode {
        self.body.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.body.code.status(), Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.www_authenticate {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(errors) => Self::invalid(errors),
            ServiceError::Forbidden(role) => Self::new(
                ErrorCode::Forbidden,
                format!("this API key's role ({role}) is read-only; use an editor key to submit or retry"),
            ),
            ServiceError::OutsideKeyLimits(why) => Self::new(ErrorCode::Forbidden, why),
            ServiceError::NotFound => Self::not_found(),
            ServiceError::Conflict(msg) => Self::new(ErrorCode::Conflict, msg),
            ServiceError::Unavailable => Self::unavailable(),
            ServiceError::Store(e) => Self::internal(&e),
            ServiceError::Internal(e) => Self::internal(&e),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let code = match &r {
            JsonRejection::MissingJsonContentType(_) => ErrorCode::UnsupportedMediaType,
            JsonRejection::JsonSyntaxError(_) => ErrorCode::MalformedJson,
            JsonRejection::JsonDataError(_) => ErrorCode::UnprocessableEntity,
            _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            // The client went away or sent a broken body.
            _ => ErrorCode::MalformedJson,
        };
        let message = match code {
            ErrorCode::UnsupportedMediaType => "send the body as JSON with `Content-Type: application/json`".into(),
            ErrorCode::PayloadTooLarge => {
                "the request body is larger than this server accepts; an invalidation takes at most 15 paths".into()
            }
            _ => r.body_text(),
        };
        Self::new(code, message)
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::field("query", r.body_text())
    }
}

/// Answers every keyed endpoint may give, for the `responses(...)` of its path.
#[derive(IntoResponses)]
#[allow(dead_code)] // documentation only: ApiError builds these answers
pub enum KeyErrors {
    /// Missing, malformed, unknown or revoked key
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The key's or the client address's request budget is spent, or the address sent too many refused keys
    #[response(status = 429, headers(("Retry-After" = u64, description = "Seconds until the key may call again")))]
    RateLimited(ErrorBody),
    /// The database is unreachable for now; repeat the request after `Retry-After`
    #[response(status = 503, headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))]
    Unavailable(ErrorBody),
}

/// Answers about a JSON request body.
#[derive(IntoResponses)]
#[allow(dead_code)] // documentation only: ApiError builds these answers
pub enum BodyErrors {
    /// The body is larger than `api.max_body_bytes`
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not sent as `application/json`
    #[response(status = 415)]
    NotJson(ErrorBody),
    /// Valid JSON of the wrong shape (a missing `scope`, `urls` not an array of strings)
    #[response(status = 422)]
    WrongShape(ErrorBody),
}
