//! What both API families share: the id in the path, the Idempotency-Key
//! header, and the submission itself.

use axum::http::HeaderMap;

use imgflush::backend::invalidations::{Created, Submission};
use imgflush::backend::{Actor, Services};
use imgflush::domain::InvalidationId;

use super::error::ApiError;
use super::schema::{InvalidationRequest, V1InvalidationRequest};

pub(super) fn parse_id(raw: &str) -> Result<InvalidationId, ApiError> {
    InvalidationId::parse(raw).map_err(|e| ApiError::field("id", e.to_string()))
}

const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Marks an answer that replays an earlier request with the same Idempotency-Key.
pub(super) const REPLAYED: (&str, &str) = ("idempotent-replayed", "true");

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(IDEMPOTENCY_KEY) else { return Ok(None) };
    let bad = || ApiError::field("Idempotency-Key", "use 1 to 255 visible ASCII characters, e.g. a UUID or a build id");
    let key = v.to_str().map_err(|_| bad())?.trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(Some(key.to_owned()))
}

/// The anchor's submission: its two scopes only.
pub(super) async fn submit(
    services: &Services,
    actor: &Actor,
    headers: &HeaderMap,
    req: InvalidationRequest,
) -> Result<Created, ApiError> {
    // The anchor's contract: its two scopes, its own message.
    match imgflush::domain::Scope::parse(&req.scope) {
        Ok(imgflush::domain::Scope::Tag) => {
            return Err(ApiError::field(
                "scope",
                "unknown scope \"tag\" in this API (the anchor's); use \"original\" or \"all\", or purge by tag with POST /api/v1/invalidations",
            ))
        }
        Err(e) => {
            let value: String = e.value.chars().take(120).collect();
            return Err(ApiError::field("scope", format!("unknown scope {value:?}; use \"original\" or \"all\"")));
        }
        Ok(_) => {}
    }
    let sub = Submission::from_api(&req.scope, req.urls, idempotency_key(headers)?)?;
    Ok(services.invalidations.submit(actor, sub).await?)
}

/// `/api/v1`'s submission, as built from its body and headers.
pub(super) fn v1_submission(headers: &HeaderMap, req: V1InvalidationRequest) -> Result<Submission, ApiError> {
    let not_before = imgflush::backend::invalidations::parse_not_before(req.not_before.as_deref())?;
    Ok(Submission::from_api_with_tags(&req.scope, req.urls, req.tags, idempotency_key(headers)?)?
        .not_before(not_before))
}
