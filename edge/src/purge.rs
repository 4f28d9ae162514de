//! `POST /_purge` (also `/purge`) on the admin listener: the contract the
//! worker speaks ([`PurgeRequest`] → [`PurgeResponse`], declared once in
//! `imgflush::domain::purge`). `Authorization: Bearer {project secret}`, body
//! `{"invalidation_id":"…","token":"demo","scope":"original"|"all"|"tag",
//! "paths":[…],"tags":[…],"dry_run":false}`:
//!
//! - `original`: every variant of each path (`dir/*`: of every path under
//!   it); `tags` must be absent or empty;
//! - `all`: every object of the token (`paths` ignored, `tags` refused);
//! - `tag`: every variant carrying any of 1 to 15 `tags` (each a valid
//!   [`Tag`](imgflush::domain::Tag), as typed: the edge derives nothing from
//!   them but the lookup), and only those; `paths` must be absent or empty;
//! - `dry_run: true`: nothing removed, no purge counted in the metrics; the
//!   answer says what the same request would remove, exactly.
//!
//! Answer `{"removed": n, "bytes": b, "urls": ["/host/a.jpg?w=300", …],
//! "paths": […], "paths_complete": true}`: objects and stored bytes removed,
//! up to 20 of them as request paths (for the worker's verification), and for
//! scope `tag` the canonical paths that lost a variant (up to
//! `PurgeAnswer::MAX_PATHS`, `paths_complete` false when some were left out;
//! the answer stays under `PurgeAnswer::MAX_BYTES`). A bad body, path or tag
//! is a 400 `bad_purge` naming it.
//! The project secret is [`project_secret`] of the node secret and the
//! body's token, so a project admin who holds one can purge only that token.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use hmac::{Hmac, Mac};
use imgflush::domain::tag::{validate_tags, API_MAX_TAGS};
use imgflush::domain::{OriginPath, Scope};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::cache::Selection;
use crate::error::EdgeError;
use crate::metrics::Metrics;
use crate::secret::Secret;
use crate::state::EdgeState;

pub use imgflush::domain::probe::{ProbeAnswer, ProbeRequest};
pub use imgflush::domain::{PurgeAnswer as PurgeResponse, PurgeRequest};

pub async fn purge(
    State(edge): State<Arc<EdgeState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<PurgeResponse>, EdgeError> {
    let given = bearer(&headers)?;
    let req: PurgeRequest = serde_json::from_slice(&body).map_err(|e| bad(format!("purge body: {e}")))?;
    imgflush::domain::ProjectToken::parse(&req.token).map_err(|e| bad(e.to_string()))?;
    authorize(given, &edge.config.purge_secret, &req.token)?;
    let what = selection(&req)?;
    let (cache, token, dry_run) = (edge.cache.clone(), req.token.clone(), req.dry_run);
    let run = move || if dry_run { cache.count(&token, &what) } else { cache.purge(&token, &what) };
    let purged = tokio::task::spawn_blocking(run).await.map_err(|_| EdgeError::internal())?;
    if !dry_run {
        Metrics::inc(&edge.metrics.purges, 1);
        Metrics::inc(&edge.metrics.purged_objects, purged.removed);
    }
    let (id, scope, removed, bytes) = (req.invalidation_id, req.scope.as_str(), purged.removed, purged.bytes);
    let what = if dry_run { "purge dry run: nothing removed" } else { "purged" };
    tracing::info!(token = %req.token, scope, invalidation_id = ?id, removed, bytes, dry_run, "{what}");
    Ok(Json(purged.into()))
}

/// What the request selects, checked: paths only under `original`, tags
/// only under `tag`.
fn selection(req: &PurgeRequest) -> Result<Selection, EdgeError> {
    if req.scope != Scope::Tag && !req.tags.is_empty() {
        return Err(bad(format!(
            "tags: only a purge of scope \"tag\" names tags, not one of scope {:?}",
            req.scope.as_str()
        )));
    }
    match req.scope {
        Scope::All => Ok(Selection::Token),
        Scope::Original => req
            .paths
            .iter()
            .map(|p| OriginPath::parse(p).map_err(|e| bad(e.to_string())))
            .collect::<Result<Vec<_>, _>>()
            .map(Selection::Paths),
        Scope::Tag if !req.paths.is_empty() => {
            Err(bad("paths: a purge of scope \"tag\" names tags, not paths".to_owned()))
        }
        Scope::Tag => validate_tags(&req.tags, API_MAX_TAGS, "tags")
            .map(|tags| Selection::Tags(tags.into_iter().map(String::from).collect()))
            .map_err(|errors| bad(errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))),
    }
}

fn bad(message: String) -> EdgeError {
    EdgeError::bad_request("bad_purge", message)
}

/// The purge secret of project `token` on a node whose secret is `node`:
/// HMAC-SHA256(node, token), hex. `server edge secret --token T` prints it.
pub fn project_secret(node: &Secret, token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(node.expose().as_bytes()).expect("HMAC takes a key of any length");
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// `POST /_lookup` beside `/_purge` (same listener, same project secret):
/// whether this edge holds the variant `query` of `path`, from its index
/// only — nothing is fetched, stored or marked used. Body
/// `{"token":"demo","path":"/host/a.jpg","query":"w=300"}`, answer
/// `{"cached":true,"age":12,"ttl":2591988,"stale":false,"tags":["products"]}`
/// or `{"cached":false}`.
pub async fn lookup(
    State(edge): State<Arc<EdgeState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<ProbeAnswer>, EdgeError> {
    let given = bearer(&headers)?;
    let req: ProbeRequest = serde_json::from_slice(&body).map_err(|e| bad(format!("lookup body: {e}")))?;
    imgflush::domain::ProjectToken::parse(&req.token).map_err(|e| bad(e.to_string()))?;
    authorize(given, &edge.config.purge_secret, &req.token)?;
    let path = OriginPath::parse(&req.path).map_err(|e| bad(e.to_string()))?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(req.query.as_deref().unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let params = crate::params::Params::parse(&pairs, edge.config.limits.max_output_side)?;
    let key =
        crate::cache::Key { token: req.token.clone(), path: path.as_str().to_owned(), variant: params.variant_key() };
    let answer = match edge.cache.peek(&key) {
        None => ProbeAnswer::default(),
        Some(meta) => {
            let now = crate::pipeline::unix_now() as i64;
            let age = now - meta.stored_at as i64;
            let ttl = meta.stored_at as i64 + meta.ttl as i64 - now;
            ProbeAnswer { cached: true, age: Some(age), ttl: Some(ttl), stale: Some(ttl < 0), tags: meta.tags.clone() }
        }
    };
    Ok(Json(answer))
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

    fn request(json: serde_json::Value) -> PurgeRequest {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn tags_only_under_scope_tag_and_each_one_valid() {
        let ok =
            request(serde_json::json!({"token": "demo", "scope": "tag", "tags": ["products", " shoes ", "products"]}));
        assert_eq!(selection(&ok), Ok(Selection::Tags(vec!["products".into(), "shoes".into()])));
        let e = selection(&request(
            serde_json::json!({"token": "demo", "scope": "tag", "tags": ["ok", "bad tag", "imgflush-t-x"]}),
        ))
        .unwrap_err();
        assert_eq!((e.status, e.code), (StatusCode::BAD_REQUEST, "bad_purge"));
        assert!(e.message.contains("\"bad tag\"") && e.message.contains("\"imgflush-t-x\""), "{}", e.message);
        let sixteen: Vec<String> = (0..16).map(|i| format!("t{i}")).collect();
        for body in [
            serde_json::json!({"token": "demo", "scope": "tag"}),
            serde_json::json!({"token": "demo", "scope": "tag", "tags": sixteen}),
            serde_json::json!({"token": "demo", "scope": "tag", "tags": ["a"], "paths": ["/h/a.jpg"]}),
            serde_json::json!({"token": "demo", "scope": "original", "paths": ["/h/a.jpg"], "tags": ["a"]}),
            serde_json::json!({"token": "demo", "scope": "all", "tags": ["a"]}),
        ] {
            assert_eq!(selection(&request(body.clone())).map_err(|e| e.code), Err("bad_purge"), "{body}");
        }
        assert_eq!(
            selection(&request(serde_json::json!({"token": "demo", "scope": "all", "paths": ["x"]}))),
            Ok(Selection::Token)
        );
    }
}
