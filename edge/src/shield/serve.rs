//! The shield's side. A request carrying [`SHIELD_HEADER`] is a child's
//! internal request: answered only when it comes from a `shield_children`
//! address (the peer itself, never `X-Forwarded-For`) with a valid
//! credential, else refused (403 `shield_refused`, the same for either
//! fault). An internal request names the canonical variant, needs no
//! `ci_sign`/`ci_seal` (the child checked its client's), does not draw
//! from the per-client miss budget, and its answer carries the object's
//! tags and TTL. Every other request is the public pipeline's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::wire::{self, SHIELD_HEADER, TAGS_HEADER, TTL_HEADER};
use crate::cache::{Key, Object};
use crate::error::EdgeError;
use crate::metrics::Metrics;
use crate::params::Params;
use crate::pipeline::{self, unix_now};
use crate::request;
use crate::state::EdgeState;

type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

/// The image port's handler: internal requests here, the rest to the pipeline.
pub async fn image(
    State(edge): State<Arc<EdgeState>>,
    peer: Peer,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if !headers.contains_key(SHIELD_HEADER) {
        return pipeline::image(State(edge), peer, method, uri, headers).await;
    }
    let started = Instant::now();
    let res = serve_child(&edge, peer.map(|p| p.0 .0), &method, &uri, &headers)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    edge.metrics.observe_latency(started.elapsed());
    res
}

fn is_child(edge: &EdgeState, peer: Option<SocketAddr>, uri: &Uri, headers: &HeaderMap) -> bool {
    let (Some(peer), Some(secret)) = (peer, &edge.config.shield_secret) else { return false };
    let given = headers.get(SHIELD_HEADER).map_or(&b""[..], HeaderValue::as_bytes);
    let signed = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    edge.config.shield_children.iter().any(|c| c.contains(peer.ip())) && wire::verify(secret, signed, given)
}

async fn serve_child(
    edge: &Arc<EdgeState>,
    peer: Option<SocketAddr>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Response, EdgeError> {
    if !is_child(edge, peer, uri, headers) {
        Metrics::inc(&edge.metrics.shield_refused, 1);
        tracing::warn!(peer = ?peer, "internal shield request refused: not a child, or a wrong credential");
        return Err(EdgeError::forbidden(wire::REFUSED, "not a child edge of this shield"));
    }
    if *method != Method::GET {
        return Err(EdgeError::new(StatusCode::METHOD_NOT_ALLOWED, "method", "only GET"));
    }
    Metrics::inc(&edge.metrics.shield_requests, 1);
    // The path form only: the shield's own host name names no project.
    let projects = edge.settings.current();
    let ir = request::parse(None, uri.path(), uri.query(), &edge.config.host_names(), &projects)?;
    let pairs: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let params = Params::parse(&pairs, edge.config.limits.max_output_side)?;
    params.check_box(edge.config.limits.max_output_pixels)?;
    let key = Key { token: ir.token().to_owned(), path: ir.origin.as_str().to_owned(), variant: params.variant_key() };
    let epoch = edge.cache.epoch(ir.token());
    let (object, hit) = match cached(edge, &key).await {
        Some(obj) if obj.meta.is_fresh(unix_now()) => (obj, true),
        Some(stale) => match pipeline::fill(edge, key, &ir, &params, None).await {
            Ok(obj) => (obj, false),
            Err(e) if (e.is_origin_failure() || e.is_rate_limited()) && edge.cache.epoch(ir.token()) == epoch => {
                Metrics::inc(&edge.metrics.stale_served, 1);
                (stale, true)
            }
            Err(e) => return Err(e),
        },
        None => (pipeline::fill(edge, key, &ir, &params, None).await?, false),
    };
    let shareable = edge.cache.epoch(ir.token()) == epoch;
    Ok(answer(edge, object, hit, shareable))
}

async fn cached(edge: &Arc<EdgeState>, key: &Key) -> Option<Object> {
    let found = edge.cache.lookup(key)?;
    let meta = found.meta.clone();
    let cache = edge.cache.clone();
    let body = tokio::task::spawn_blocking(move || cache.read(&found)).await.ok()??;
    Some(Object { meta, body })
}

/// The object for a child: never for a shared cache (`private`), and
/// `no-store` when a purge ran during the request (the child serves it once).
fn answer(edge: &EdgeState, object: Object, hit: bool, shareable: bool) -> Response {
    let meta = &object.meta;
    let m = &edge.metrics;
    Metrics::inc(if hit { &m.hits } else { &m.misses }, 1);
    Metrics::inc(&m.bytes_served, object.body.len() as u64);
    let mut res = Response::new(axum::body::Body::from(object.body.clone()));
    *res.status_mut() = StatusCode::from_u16(meta.status).unwrap_or(StatusCode::OK);
    let h = res.headers_mut();
    let text = |v: &str| HeaderValue::from_str(v).ok();
    let mut put = |name: HeaderName, value: Option<HeaderValue>| {
        if let Some(v) = value {
            h.insert(name, v);
        }
    };
    put(header::CONTENT_TYPE, text(&meta.content_type));
    put(header::CACHE_CONTROL, Some(HeaderValue::from_static(if shareable { "private" } else { "no-store" })));
    put(header::ETAG, text(&meta.etag));
    put(header::AGE, Some(HeaderValue::from(unix_now().saturating_sub(meta.stored_at))));
    put(HeaderName::from_static(TTL_HEADER), Some(HeaderValue::from(meta.ttl)));
    put(HeaderName::from_static(TAGS_HEADER), text(&meta.tags.join(" ")));
    put(HeaderName::from_static("x-cache"), Some(HeaderValue::from_static(if hit { "HIT" } else { "MISS" })));
    res
}
