//! `POST /_purge` (also `/purge`): the contract the worker speaks.
//! `Authorization: Bearer {secret}`, body
//! `{"invalidation_id":"…","token":"demo","scope":"original"|"all","paths":[…]}`,
//! answer `{"removed": n, "urls": ["/host/a.jpg?w=300", …]}` (`urls`: up to
//! 20 of the removed variants as request paths, for the worker's verification).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use imgflush::domain::OriginPath;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::EdgeError;
use crate::metrics::Metrics;
use crate::state::EdgeState;

#[derive(Debug, Deserialize)]
pub struct PurgeRequest {
    #[serde(default)]
    pub invalidation_id: Option<String>,
    pub token: String,
    pub scope: String,
    #[serde(default)]
    pub paths: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PurgeResponse {
    pub removed: u64,
    #[serde(default)]
    pub urls: Vec<String>,
}

pub async fn purge(
    State(edge): State<Arc<EdgeState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<PurgeResponse>, EdgeError> {
    authorize(&headers, edge.config.purge_secret.expose())?;
    let req: PurgeRequest =
        serde_json::from_slice(&body).map_err(|e| EdgeError::bad_request("bad_purge", format!("purge body: {e}")))?;
    imgflush::domain::ProjectToken::parse(&req.token)
        .map_err(|e| EdgeError::bad_request("bad_purge", e.to_string()))?;
    let scope = req.scope.as_str();
    let paths = match scope {
        "all" => Vec::new(),
        "original" => req
            .paths
            .iter()
            .map(|p| OriginPath::parse(p).map_err(|e| EdgeError::bad_request("bad_purge", e.to_string())))
            .collect::<Result<Vec<_>, _>>()?,
        other => return Err(EdgeError::bad_request("bad_purge", format!("scope {other:?} is not original or all"))),
    };
    let cache = edge.cache.clone();
    let token = req.token.clone();
    let all = scope == "all";
    let purged =
        tokio::task::spawn_blocking(
            move || {
                if all {
                    cache.purge_token(&token)
                } else {
                    cache.purge_paths(&token, &paths)
                }
            },
        )
        .await
        .map_err(|_| EdgeError::internal())?;
    let removed = purged.removed;
    Metrics::inc(&edge.metrics.purges, 1);
    Metrics::inc(&edge.metrics.purged_objects, removed);
    tracing::info!(token = %req.token, scope, invalidation_id = ?req.invalidation_id, removed, "purged");
    Ok(Json(PurgeResponse { removed, urls: purged.urls }))
}

fn authorize(headers: &HeaderMap, secret: &str) -> Result<(), EdgeError> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| EdgeError::new(StatusCode::UNAUTHORIZED, "unauthorized", "missing bearer token"))?;
    // Equal-length digests, so the comparison time says nothing about the secret.
    let (a, b) = (Sha256::digest(given.as_bytes()), Sha256::digest(secret.as_bytes()));
    if secret.is_empty() || !bool::from(a.ct_eq(&b)) {
        return Err(EdgeError::forbidden("forbidden", "wrong purge secret"));
    }
    Ok(())
}
