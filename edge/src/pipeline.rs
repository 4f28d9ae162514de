//! The image request: parse → sign check → params → cache lookup → (single
//! flight) fetch → tags → transform → store → respond. Each step lives in its own
//! module; this file only wires them.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures::FutureExt;
use imgflush::domain::proxies::FORWARDED_FOR;
use sha2::{Digest, Sha256};

use crate::cache::{DiskCache, Key, Meta, Object, Stored};
use crate::error::EdgeError;
use crate::metrics::Metrics;
use crate::negotiate;
use crate::params::Params;
use crate::request::{self, ImageRequest};
use crate::sign;
use crate::state::EdgeState;

const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

enum Source {
    Hit,
    Miss,
    Stale,
}

/// The peer address, when served with connect info (`Edge::serve` does).
type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

pub async fn image(
    State(edge): State<Arc<EdgeState>>,
    peer: Peer,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let forwarded = headers.get_all(FORWARDED_FOR).iter().filter_map(|v| v.to_str().ok());
    let client = edge.config.trusted_proxies.client(peer.map(|p| p.0 .0.ip()), forwarded);
    let res = handle(&edge, &method, &uri, &headers, client).await.unwrap_or_else(IntoResponse::into_response);
    edge.metrics.observe_latency(started.elapsed());
    res
}

async fn handle(
    edge: &Arc<EdgeState>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    client: Option<IpAddr>,
) -> Result<Response, EdgeError> {
    if !matches!(*method, Method::GET | Method::HEAD) {
        return Err(EdgeError::new(StatusCode::METHOD_NOT_ALLOWED, "method", "only GET and HEAD"));
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).or(uri.host());
    let projects = edge.settings.current();
    let ir = request::parse(host, uri.path(), uri.query(), &edge.config.host_names(), &projects)?;
    let pairs = sign::verify(&ir)?;
    let params = negotiate::apply(Params::parse(&pairs, edge.config.limits.max_output_side)?, &ir.project, headers);
    params.check_box(edge.config.limits.max_output_pixels)?;
    let key = Key { token: ir.token().to_owned(), path: ir.origin.as_str().to_owned(), variant: params.variant_key() };

    let epoch = edge.cache.epoch(ir.token());
    let (object, source) = match lookup(edge, &key).await {
        Some(obj) if obj.meta.is_fresh(unix_now()) => (obj, Source::Hit),
        Some(stale) => match fill(edge, key, &ir, &params, client).await {
            Ok(obj) => (obj, Source::Miss),
            // Unless a purge ran meanwhile: it may have removed this copy.
            Err(e) if (e.is_origin_failure() || e.is_rate_limited()) && edge.cache.epoch(ir.token()) == epoch => {
                (stale, Source::Stale)
            }
            Err(e) => return Err(e),
        },
        None => (fill(edge, key, &ir, &params, client).await?, Source::Miss),
    };
    // A purge since this request began may have been meant for these bytes,
    // and a CDN node purged before it got them would keep them: no shared
    // cache may store them (see `respond`).
    let shareable = edge.cache.epoch(ir.token()) == epoch;
    Ok(respond(edge, headers, &ir, &params, object, source, shareable))
}

/// Objects up to this size are read on the request's own thread, as nginx
/// does without aio: from the page cache that costs less than a hop to the
/// blocking pool. Larger ones go through `spawn_blocking`.
const INLINE_READ_MAX: u64 = 256 * 1024;

async fn lookup(edge: &Arc<EdgeState>, key: &Key) -> Option<Object> {
    let found = edge.cache.lookup(key)?;
    let meta = found.meta.clone();
    let body = if DiskCache::is_in_memory(&found) || meta.body_len <= INLINE_READ_MAX {
        edge.cache.read(&found)?
    } else {
        let cache = edge.cache.clone();
        tokio::task::spawn_blocking(move || cache.read(&found)).await.ok()??
    };
    Some(Object { meta, body })
}

/// Single flight: the first miss of a key spawns the work (so a client that
/// goes away does not cancel it for the others); later ones await it, unless
/// a purge ran since it started: its bytes may be the purged ones, so they
/// start their own. Only a request that starts the work draws from the miss
/// budgets: the others cost nothing.
pub(crate) async fn fill(
    edge: &Arc<EdgeState>,
    key: Key,
    ir: &ImageRequest,
    params: &Params,
    client: Option<IpAddr>,
) -> Result<Object, EdgeError> {
    let shared = {
        let mut inflight = edge.inflight.lock().unwrap_or_else(|e| e.into_inner());
        let epoch = edge.cache.epoch(&key.token);
        match inflight.get(&key) {
            Some((started, f)) if *started == epoch => f.clone(),
            _ => {
                edge.misses.take(ir.token(), client).inspect_err(|_| Metrics::inc(&edge.metrics.misses_refused, 1))?;
                let (edge2, key2, ir, params) = (edge.clone(), key.clone(), ir.clone(), params.clone());
                let task = tokio::spawn(async move { produce(&edge2, &key2, &ir, &params, epoch).await });
                let (edge2, key2) = (edge.clone(), key.clone());
                // Removed here, not in the task, so a panicking task cannot
                // leave its key behind; only its own entry, not a later fill's.
                let f = async move {
                    let r = task.await.unwrap_or_else(|_| Err(EdgeError::internal()));
                    let mut inflight = edge2.inflight.lock().unwrap_or_else(|e| e.into_inner());
                    if inflight.get(&key2).is_some_and(|(started, _)| *started == epoch) {
                        inflight.remove(&key2);
                    }
                    r
                }
                .boxed()
                .shared();
                inflight.insert(key, (epoch, f.clone()));
                f
            }
        }
    };
    shared.await
}

async fn produce(
    edge: &Arc<EdgeState>,
    key: &Key,
    ir: &ImageRequest,
    params: &Params,
    epoch: u64,
) -> Result<Object, EdgeError> {
    // From the shield when there is one (see `shield::fetch`), else the origin.
    let made = crate::shield::fetch::variant(edge, key, ir, params).await?;
    let body = made.body;
    let meta = Meta {
        token: key.token.clone(),
        path: key.path.clone(),
        variant: key.variant.clone(),
        status: made.status,
        content_type: made.content_type,
        etag: format!("\"{}\"", &hex::encode(Sha256::digest(&body))[..32]),
        stored_at: unix_now().saturating_sub(made.age),
        ttl: made.ttl,
        body_len: body.len() as u64,
        tags: made.tags,
    };
    let (cache, m, b) = (edge.cache.clone(), meta.clone(), body.clone());
    let store = move || if made.storable { cache.store(m, &b, epoch) } else { Ok(Stored::PurgedMeanwhile) };
    match tokio::task::spawn_blocking(store).await {
        Ok(Ok(Stored::Yes | Stored::PurgedMeanwhile)) => {}
        Ok(Ok(Stored::TooLarge)) => Metrics::inc(&edge.metrics.store_failures, 1),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cache store failed; serving without storing");
            Metrics::inc(&edge.metrics.store_failures, 1);
        }
        Err(_) => Metrics::inc(&edge.metrics.store_failures, 1),
    }
    Ok(Object { meta: Arc::new(meta), body })
}

fn respond(
    edge: &EdgeState,
    req_headers: &HeaderMap,
    ir: &ImageRequest,
    params: &Params,
    object: Object,
    source: Source,
    shareable: bool,
) -> Response {
    let meta = &object.meta;
    let project = &ir.project;
    let (max_age, s_maxage) = if meta.status == 404 {
        let s = edge.config.limits.not_found_ttl.as_secs();
        (s, s)
    } else {
        let c = params.ci_cache.map_or((project.max_age, project.s_maxage), |c| (c, c));
        (u64::from(c.0), u64::from(c.1))
    };
    let not_modified = meta.status == 200 && etag_matches(req_headers, &meta.etag);
    let status = if not_modified {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::from_u16(meta.status).unwrap_or(StatusCode::OK)
    };
    let body = if not_modified { Body::empty() } else { Body::from(object.body.clone()) };
    let mut res = Response::new(body);
    *res.status_mut() = status;
    // Built once per cached object (see `cache::Head`): the `xkey` and tag
    // digests are not made again on every hit.
    let head = edge.cache.head(meta, &project.tag_headers, max_age, s_maxage);
    let h = res.headers_mut();
    let mut put = |name: HeaderName, value: Option<HeaderValue>| {
        if let Some(v) = value {
            h.insert(name, v);
        }
    };
    if !not_modified {
        put(header::CONTENT_TYPE, head.content_type.clone());
        put(header::CONTENT_LENGTH, Some(head.content_length.clone()));
    }
    let cache_control =
        if shareable { head.cache_control.clone() } else { HeaderValue::from_static("private, no-store") };
    put(header::CACHE_CONTROL, Some(cache_control));
    put(header::ETAG, head.etag.clone());
    put(header::VARY, params.vary_accept.then_some(HeaderValue::from_static("Accept")));
    let age = if matches!(source, Source::Miss) { 0 } else { unix_now().saturating_sub(meta.stored_at) };
    put(header::AGE, Some(HeaderValue::from(age)));
    put(X_CACHE, Some(HeaderValue::from_static(if matches!(source, Source::Miss) { "MISS" } else { "HIT" })));
    // `xkey`, the project's CDN tag headers, the token and the path.
    for (name, value) in &head.keys {
        put(name.clone(), Some(value.clone()));
    }
    if matches!(source, Source::Stale) {
        put(header::WARNING, Some(HeaderValue::from_static("110 - \"Response is Stale\"")));
    }
    let m = &edge.metrics;
    match source {
        Source::Miss => Metrics::inc(&m.misses, 1),
        Source::Hit => Metrics::inc(&m.hits, 1),
        Source::Stale => {
            Metrics::inc(&m.hits, 1);
            Metrics::inc(&m.stale_served, 1);
        }
    }
    if !not_modified {
        Metrics::inc(&m.bytes_served, object.body.len() as u64);
    }
    res
}

fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|t| {
        let t = t.trim();
        t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag
    })
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
