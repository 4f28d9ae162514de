//! `POST /_purge` (also `/purge`) on the admin listener: the contract the
//! worker speaks. `Authorization: Bearer {project secret}`, body
//! `{"invalidation_id":"…","token":"demo","scope":"original"|"all","paths":[…]}`,
//! answer `{"removed": n, "urls": ["/host/a.jpg?w=300", …]}` (`urls`: up to
//! 20 of the removed variants as request paths, for the worker's verification).
//! The project secret is [`project_secret`] of the node secret and the
//! body's token, so a project admin who holds one can purge only that token.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use hmac::{Hmac, Mac};
use imgflush::domain::{OriginPath, Scope};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::EdgeError;
use crate::metrics::Metrics;
use crate::secret::Secret;
use crate::state::EdgeState;

pub use imgflush::domain::{PurgeAnswer as PurgeResponse, PurgeRequest};

pub async fn purge(
    State(edge): State<Arc<EdgeState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<PurgeResponse>, EdgeError> {
    let given = bearer(&headers)?;
    let req: PurgeRequest =
        serde_json::from_slice(&body).map_err(|e| EdgeError::bad_request("bad_purge", format!("purge body: {e}")))?;
    imgflush::domain::ProjectToken::parse(&req.token)
        .map_err(|e| EdgeError::bad_request("bad_purge", e.to_string()))?;
    authorize(given, &edge.config.purge_secret, &req.token)?;
    let paths = match req.scope {
        Scope::All => Vec::new(),
        Scope::Original => req
            .paths
            .iter()
            .map(|p| OriginPath::parse(p).map_err(|e| EdgeError::bad_request("bad_purge", e.to_string())))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let cache = edge.cache.clone();
    let token = req.token.clone();
    let (all, scope) = (req.scope == Scope::All, req.scope.as_str());
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

/// The purge secret of project `token` on a node whose secret is `node`:
/// HMAC-SHA256(node, token), hex. `server edge secret --token T` prints it.
pub fn project_secret(node: &Secret, token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(node.expose().as_bytes()).expect("HMAC takes a key of any length");
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn bearer(headers: &HeaderMap) -> Result<&str, EdgeError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| EdgeError::new(StatusCode::UNAUTHORIZED, "unauthorized", "missing bearer token"))
}

fn authorize(given: &str, node: &Secret, token: &str) -> Result<(), EdgeError> {
    // Equal-length digests, so the comparison time says nothing about the secret.
    let expected = project_secret(node, token);
    let (a, b) = (Sha256::digest(given.as_bytes()), Sha256::digest(expected.as_bytes()));
    if node.expose().is_empty() || !bool::from(a.ct_eq(&b)) {
        return Err(EdgeError::forbidden("forbidden", "wrong purge secret for this token"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_secrets_differ_per_token_and_node() {
        let node = Secret::new("node");
        let demo = project_secret(&node, "demo");
        assert_eq!(demo.len(), 64);
        assert_eq!(demo, project_secret(&Secret::new("node"), "demo"));
        assert_ne!(demo, project_secret(&node, "other"));
        assert_ne!(demo, project_secret(&Secret::new("node2"), "demo"));
        assert!(authorize(&demo, &node, "demo").is_ok());
        assert!(authorize(&demo, &node, "other").is_err());
        assert!(authorize("node", &node, "demo").is_err(), "the node secret itself is no project's secret");
        assert!(authorize(&project_secret(&Secret::new(""), "demo"), &Secret::new(""), "demo").is_err());
    }
}
