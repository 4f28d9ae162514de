//! Purge drivers: one HTTP contract per target kind (documented in the README).

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::{Client, Method, Response};
use serde::Serialize;
use sha2::Sha256;

use super::network::{Disallowed, NetworkPolicy, PolicyResolver};
use super::store::Target;
use crate::domain::{cache_key, InvalidationId, OriginPath, Scope, TargetKind};

/// What to flush, as sent to every target.
#[derive(Debug, Clone, Serialize)]
pub struct PurgeRequest {
    pub invalidation_id: InvalidationId,
    pub token: String,
    pub scope: Scope,
    pub paths: Vec<String>,
    /// CDN nodes mark objects stale and refetch in the background (the
    /// project's soft purge); not part of the edge and webhook bodies.
    #[serde(skip)]
    pub soft: bool,
    /// CDN nodes (`varnish`) are purged a second time this long after the
    /// first purge succeeded; not part of any body. See [`varnish`].
    #[serde(skip)]
    pub repeat_after: Option<Duration>,
}

/// At most this much of a target's answer is read.
pub const MAX_RESPONSE_BYTES: usize = 4096;

/// The purge client: connects only to addresses `policy` permits (checked on
/// the resolved addresses, see [`PolicyResolver`]), ignores `HTTP(S)_PROXY`
/// (a proxy would connect on its own), follows no redirects.
pub fn client(timeout: Duration, policy: &NetworkPolicy) -> Client {
    Client::builder()
        .dns_resolver(Arc::new(PolicyResolver::new(policy.clone())))
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("imgflush/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client with a timeout builds")
}

/// What a target answered when it accepted a purge.
#[derive(Debug, Clone, PartialEq)]
pub struct PurgeReport {
    /// Objects the target says it removed, when it counts them.
    pub removed: Option<u64>,
    /// A short note for the details page.
    pub note: String,
    /// Removed variants the target named (`/host/a.jpg?w=300`; edges only),
    /// which verification asks the CDN nodes for.
    pub urls: Vec<String>,
}

impl PurgeReport {
    fn note(note: impl Into<String>) -> Self {
        PurgeReport { removed: None, note: note.into(), urls: Vec::new() }
    }

    fn removed(n: u64, note: String) -> Self {
        PurgeReport { removed: Some(n), note, urls: Vec::new() }
    }
}

/// Why a purge failed: never the secret, never the URL with its credentials.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PurgeError {
    #[error("timed out")]
    Timeout,
    #[error("connection refused or unreachable")]
    Unreachable,
    /// The target answered with a non-2xx status; `body` is a short snippet.
    #[error("HTTP {status}{}", snippet(.body))]
    Status { status: reqwest::StatusCode, body: String },
    /// The target's address is outside the operator's allowed networks: nothing was sent.
    #[error("refused: {0}")]
    NotAllowed(String),
    #[error("request failed: {0}")]
    Other(String),
}

/// A recorded target outcome (the `Display` of a [`PurgeReport`] note or a
/// [`PurgeError`]) as shown to members who are not admins: the status and the
/// kind of failure, never what the target answered nor which address was refused.
pub fn public_detail(detail: &str) -> String {
    if let Some((status, _body)) = detail.strip_prefix("HTTP ").and_then(|rest| rest.split_once(':')) {
        return format!("HTTP {status}");
    }
    if detail.starts_with("refused: ") {
        return "refused: the address is outside the allowed networks".to_owned();
    }
    if detail.starts_with("request failed: ") {
        return "request failed".to_owned();
    }
    detail.to_owned()
}

fn snippet(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

pub type PurgeResult = Result<PurgeReport, PurgeError>;

/// Purges `req` on `target` with the contract of its kind. A URL whose host
/// is an address literal is checked against `policy` here (the resolver is
/// not asked for literals); names are checked on their resolved addresses.
pub async fn purge(client: &Client, policy: &NetworkPolicy, target: &Target, req: &PurgeRequest) -> PurgeResult {
    let url = reqwest::Url::parse(&target.url).map_err(|_| PurgeError::Other("invalid URL".into()))?;
    policy.check_url(&url).map_err(PurgeError::NotAllowed)?;
    match target.kind {
        TargetKind::Edge => edge(client, target, req).await,
        TargetKind::Varnish => varnish(client, target, req).await,
        TargetKind::Webhook => webhook(client, target, req).await,
    }
}

async fn edge(client: &Client, target: &Target, req: &PurgeRequest) -> PurgeResult {
    let mut call = client.post(&target.url).json(req);
    if let Some(secret) = &target.secret {
        call = call.bearer_auth(secret);
    }
    let resp = success(call.send().await).await?;
    let body = read_bounded(resp).await.unwrap_or_default();
    let answer = serde_json::from_slice::<serde_json::Value>(&body).unwrap_or_default();
    Ok(match answer.get("removed").and_then(|r| r.as_u64()) {
        Some(n) => {
            let urls = answer.get("urls").and_then(|u| u.as_array()).map_or_else(Vec::new, |urls| {
                urls.iter().filter_map(|u| u.as_str()).filter(|u| u.starts_with('/')).map(str::to_owned).collect()
            });
            PurgeReport { urls, ..PurgeReport::removed(n, format!("removed {n} cached objects")) }
        }
        None => PurgeReport::note("purge accepted"),
    })
}

/// One `PURGE` per path, as the shipped VCL (`deploy/varnish/`) expects: a
/// path is purged by its surrogate key (every query-string variant, every
/// `vh`), a prefix by a ban on the objects' path header, scope All by the
/// token's key. Key purges answer how many objects they removed.
///
/// With `repeat_after`, the same purges go once more after that delay (the
/// answer counts the first pass). The edges are purged first, and an edge
/// marks anything a purge overtook uncacheable, but a response an edge sent
/// before its purge (a hit, or a fill that ended just before) may still be
/// on its way to a node when the node's purge runs: Varnish indexes an
/// object for `xkey` (and ages it against bans) only once its headers are
/// in, so the purge finds nothing and the object arrives after it, old
/// bytes kept for the whole TTL. That transit is normally a millisecond,
/// but a congested or distant edge-to-node link or a retransmission makes
/// it longer than the worker's path from the edge to the node; a second
/// purge a moment later removes such an object whatever the cause, for the
/// price of a job that takes that much longer.
async fn varnish(client: &Client, target: &Target, req: &PurgeRequest) -> PurgeResult {
    let report = varnish_once(client, target, req).await?;
    if let Some(after) = req.repeat_after {
        tokio::time::sleep(after).await;
        let again = varnish_once(client, target, req).await?;
        if again.removed.is_some_and(|n| n > 0) {
            tracing::info!(target = %target.name, removed = ?again.removed, "the repeated purge removed objects stored after the first");
        }
    }
    Ok(report)
}

async fn varnish_once(client: &Client, target: &Target, req: &PurgeRequest) -> PurgeResult {
    let method = Method::from_bytes(b"PURGE").expect("PURGE is a valid method");
    let selectors: Vec<(&str, String, Option<&str>)> = match req.scope {
        Scope::All => vec![("X-Purge-All", "1".to_owned(), None)],
        Scope::Original => req
            .paths
            .iter()
            .map(|p| match OriginPath::parse(p) {
                Ok(op) if op.is_prefix() => ("X-Purge-Prefix", op.base().to_owned(), None),
                _ => ("X-Purge-Key", cache_key::path_key(&req.token, p), Some(p.as_str())),
            })
            .collect(),
    };
    let (mut removed, mut bans) = (0u64, 0usize);
    for (header, value, path) in &selectors {
        let mut call = client
            .request(method.clone(), &target.url)
            .header("X-Purge-Token", &req.token)
            .header("X-Invalidation-Id", req.invalidation_id.to_string())
            .header(*header, value);
        if let Some(path) = path {
            call = call.header("X-Purge-Path", *path);
        }
        if req.soft && *header != "X-Purge-Prefix" {
            call = call.header("X-Purge-Soft", "1");
        }
        if let Some(secret) = &target.secret {
            call = call.header("X-Purge-Secret", secret);
        }
        let resp = success(call.send().await).await?;
        let body = read_bounded(resp).await.unwrap_or_default();
        match serde_json::from_slice::<serde_json::Value>(&body).ok().and_then(|v| v.get("removed")?.as_u64()) {
            Some(n) => removed += n,
            None => bans += 1,
        }
    }
    let keyed = selectors.len() - bans;
    let soft = if req.soft { " (soft)" } else { "" };
    Ok(match (keyed, bans) {
        (_, 0) => PurgeReport::removed(removed, format!("removed {removed} cached objects{soft}")),
        (0, b) => PurgeReport::note(format!("{b} ban(s) accepted")),
        (_, b) => PurgeReport::removed(removed, format!("removed {removed} cached objects{soft}; {b} ban(s) accepted")),
    })
}

/// The webhook signature: HMAC-SHA256 over `"{timestamp}.{body}"`, so a
/// captured request cannot be replayed outside the receiver's time window.
pub fn webhook_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn webhook(client: &Client, target: &Target, req: &PurgeRequest) -> PurgeResult {
    let body = serde_json::to_vec(req).expect("purge request serialises");
    let timestamp = chrono::Utc::now().timestamp();
    let mut call = client
        .post(&target.url)
        .header("Content-Type", "application/json")
        .header("X-Imgflush-Timestamp", timestamp.to_string())
        .body(body.clone());
    if let Some(secret) = &target.secret {
        call = call.header("X-Imgflush-Signature", webhook_signature(secret, timestamp, &body));
    }
    let resp = success(call.send().await).await?;
    Ok(PurgeReport::note(format!("HTTP {}", resp.status().as_u16())))
}

async fn success(sent: reqwest::Result<Response>) -> Result<Response, PurgeError> {
    let resp = sent.map_err(|e| describe(e.without_url()))?;
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status();
    let body = read_bounded(resp).await.unwrap_or_default();
    let body = String::from_utf8_lossy(&body);
    Err(PurgeError::Status { status, body: body.trim().chars().take(200).collect() })
}

/// At most [`MAX_RESPONSE_BYTES`] of the body: chunks are read until the
/// limit, and the rest is never received.
async fn read_bounded(mut resp: Response) -> reqwest::Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = MAX_RESPONSE_BYTES - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_RESPONSE_BYTES {
            break;
        }
    }
    Ok(body)
}

pub(super) fn describe(e: reqwest::Error) -> PurgeError {
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        if let Some(refused) = s.downcast_ref::<Disallowed>() {
            return PurgeError::NotAllowed(refused.0.clone());
        }
        source = s.source();
    }
    if e.is_timeout() {
        PurgeError::Timeout
    } else if e.is_connect() {
        PurgeError::Unreachable
    } else {
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            source = s.source();
        }
        PurgeError::Other(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_detail_keeps_the_status_and_kind_only() {
        let status = PurgeError::Status { status: reqwest::StatusCode::BAD_GATEWAY, body: "secret-ish page".into() };
        assert_eq!(status.to_string(), "HTTP 502 Bad Gateway: secret-ish page");
        assert_eq!(public_detail(&status.to_string()), "HTTP 502 Bad Gateway");
        let bare = PurgeError::Status { status: reqwest::StatusCode::NOT_FOUND, body: String::new() };
        assert_eq!(public_detail(&bare.to_string()), "HTTP 404 Not Found");
        let refused = PurgeError::NotAllowed("10.0.0.7 is a private address".into());
        assert!(!public_detail(&refused.to_string()).contains("10.0.0.7"));
        assert_eq!(public_detail(&PurgeError::Other("invalid HTTP version".into()).to_string()), "request failed");
        for kept in ["timed out", "connection refused or unreachable", "removed 3 cached objects", "HTTP 200"] {
            assert_eq!(public_detail(kept), kept);
        }
    }

    #[test]
    fn the_webhook_signature_covers_the_timestamp() {
        let a = webhook_signature("s", 1_700_000_000, b"{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_ne!(a, webhook_signature("s", 1_700_000_001, b"{}"), "a replay with a new timestamp fails");
        // HMAC-SHA256("s", "1700000000.{}"), computed independently.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s").unwrap();
        mac.update(b"1700000000.{}");
        assert_eq!(a, format!("sha256={}", hex::encode(mac.finalize().into_bytes())));
    }
}
