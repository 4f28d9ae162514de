//! What every purge driver shares: the request sent, the answer kept, the
//! errors as members see them, and the HTTP client that reaches only the
//! allowed networks.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, Response};

use crate::backend::network::{Disallowed, NetworkPolicy, PolicyResolver};
use crate::domain::PurgeRequest;

/// One purge as the drivers receive it: the request every target gets
/// (the edges' and hooks' body), and how this project and job want it done.
#[derive(Debug, Clone)]
pub struct PurgeCall {
    pub request: PurgeRequest,
    /// The job's attempt (1 for the first run; Retry adds one): providers that
    /// deduplicate by a caller reference (CloudFront) get the same reference
    /// for the same attempt, so a resumed job never purges twice.
    pub attempt: i32,
    /// CDN nodes mark objects stale and refetch in the background (the
    /// project's soft purge); not part of the edge and webhook bodies.
    pub soft: bool,
    /// CDN nodes (`varnish`) are purged a second time this long after the
    /// first purge succeeded; not part of any body. See `purge/varnish.rs`.
    pub repeat_after: Option<Duration>,
    /// The project's public host names (its custom host): where a CDN
    /// serves its images, for prefix purges by URL.
    pub public_hosts: Vec<String>,
    /// The project's origin hosts: the first segment of every path it
    /// purges (`/{host}/…`), for providers that purge by path only.
    pub origin_hosts: Vec<String>,
    /// Scope Tag: the canonical paths the edges reported as carrying the
    /// tags, for providers without tag purge (CloudFront). `None` when not
    /// known in full (no edge, an edge that did not say, more than
    /// [`PurgeAnswer::MAX_PATHS`](crate::domain::PurgeAnswer::MAX_PATHS),
    /// or a resumed job whose edges were purged by an earlier run): such a
    /// provider then purges more (the project's origin hosts), never less.
    pub tag_paths: Option<Vec<String>>,
}

impl PurgeCall {
    /// A call outside any job (a target's Test, a preview, the drivers'
    /// tests): the first attempt, a hard purge, no repeat, no public host,
    /// no tagged paths known.
    pub fn one_off(request: PurgeRequest, origin_hosts: Vec<String>) -> Self {
        PurgeCall {
            request,
            attempt: 1,
            soft: false,
            repeat_after: None,
            public_hosts: Vec::new(),
            origin_hosts,
            tag_paths: None,
        }
    }
}

impl std::ops::Deref for PurgeCall {
    type Target = PurgeRequest;
    fn deref(&self) -> &PurgeRequest {
        &self.request
    }
}

impl PurgeCall {
    /// The invalidation's ID as text (`-` for a hand-made request).
    pub fn id_text(&self) -> String {
        self.request.invalidation_id.map_or_else(|| "-".to_owned(), |id| id.to_string())
    }
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
    /// The provider's IDs of purges it accepted but has not finished
    /// (CloudFront invalidations): the worker polls them until done.
    pub pending: Vec<String>,
    /// Scope Tag on an edge: every canonical path that carried the tags
    /// (`None`: the edge did not say, or there were too many to list).
    pub tag_paths: Option<Vec<String>>,
}

impl PurgeReport {
    pub fn note(note: impl Into<String>) -> Self {
        PurgeReport { removed: None, note: note.into(), urls: Vec::new(), pending: Vec::new(), tag_paths: None }
    }

    pub fn removed(n: u64, note: String) -> Self {
        PurgeReport { removed: Some(n), ..PurgeReport::note(note) }
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
    /// The provider refused the call for a reason a retry cannot fix (a
    /// wrong credential, an unknown zone, a missing permission): its own
    /// message, then what to do.
    #[error("HTTP {status}: {message}")]
    Refused { status: u16, message: String },
    /// The target's stored credentials cannot be used (no key, wrong key).
    #[error("credentials unusable: {0}")]
    Credentials(String),
    /// The provider's rate limit (its `429`, or the account's call rate)
    /// outlasts the time a call may wait; for this long, when known.
    #[error("rate limited by the provider; it runs again later")]
    RateLimited(Option<Duration>),
}

impl PurgeError {
    /// Retrying the same call cannot succeed: the target ends in error at once.
    pub fn is_final(&self) -> bool {
        matches!(self, PurgeError::Refused { .. } | PurgeError::Credentials(_) | PurgeError::NotAllowed(_))
    }
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
    if detail.starts_with("credentials unusable: ") {
        return "credentials unusable: an admin must check this target on Settings".to_owned();
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

/// A 2xx answer, or the status with a snippet of the body.
pub(super) async fn accepted(resp: Response) -> Result<Response, PurgeError> {
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
pub(super) async fn read_bounded(resp: Response) -> reqwest::Result<Vec<u8>> {
    read_at_most(resp, MAX_RESPONSE_BYTES).await
}

/// At most `max` bytes of `resp`'s body.
pub(super) async fn read_at_most(mut resp: Response, max: usize) -> reqwest::Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = max - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= max {
            break;
        }
    }
    Ok(body)
}

pub(crate) fn describe(e: reqwest::Error) -> PurgeError {
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
}
