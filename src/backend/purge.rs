//! Purge drivers: one HTTP contract per target kind (documented in the README).

use std::time::Duration;

use hmac::{Hmac, Mac};
use reqwest::{Client, Method, Response};
use serde::Serialize;
use sha2::Sha256;

use super::store::Target;
use crate::domain::{InvalidationId, OriginPath, Scope, TargetKind};

/// What to flush, as sent to every target.
#[derive(Debug, Clone, Serialize)]
pub struct PurgeRequest {
    pub invalidation_id: InvalidationId,
    pub token: String,
    pub scope: Scope,
    pub paths: Vec<String>,
}

pub fn client(timeout: Duration) -> Client {
    Client::builder()
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
}

impl PurgeReport {
    fn note(note: impl Into<String>) -> Self {
        PurgeReport { removed: None, note: note.into() }
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
    #[error("{0}")]
    Other(String),
}

fn snippet(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

pub type PurgeResult = Result<PurgeReport, PurgeError>;

/// Purges `req` on `target` with the contract of its kind.
pub async fn purge(client: &Client, target: &Target, req: &PurgeRequest) -> PurgeResult {
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
    let removed = resp.json::<serde_json::Value>().await.ok().and_then(|v| v.get("removed").and_then(|r| r.as_u64()));
    Ok(match removed {
        Some(n) => PurgeReport { removed: Some(n), note: format!("removed {n} cached objects") },
        None => PurgeReport::note("purge accepted"),
    })
}

/// One `BAN` per path: Varnish evaluates a ban per request, and the shipped
/// VCL turns these headers into a ban on every query-string variant.
async fn varnish(client: &Client, target: &Target, req: &PurgeRequest) -> PurgeResult {
    let ban = Method::from_bytes(b"BAN").expect("BAN is a valid method");
    let selectors: Vec<(&str, String)> = match req.scope {
        Scope::All => vec![("X-Purge-All", "1".to_owned())],
        Scope::Original => req
            .paths
            .iter()
            .map(|p| match OriginPath::parse(p) {
                Ok(op) if op.is_prefix() => ("X-Purge-Prefix", op.base().to_owned()),
                _ => ("X-Purge-Path", p.clone()),
            })
            .collect(),
    };
    for (header, value) in &selectors {
        let mut call = client
            .request(ban.clone(), &target.url)
            .header("X-Purge-Token", &req.token)
            .header("X-Invalidation-Id", req.invalidation_id.to_string())
            .header(*header, value);
        if let Some(secret) = &target.secret {
            call = call.header("X-Purge-Secret", secret);
        }
        success(call.send().await).await?;
    }
    Ok(PurgeReport::note(format!("{} ban(s) accepted", selectors.len())))
}

async fn webhook(client: &Client, target: &Target, req: &PurgeRequest) -> PurgeResult {
    let body = serde_json::to_vec(req).expect("purge request serialises");
    let mut call = client.post(&target.url).header("Content-Type", "application/json").body(body.clone());
    if let Some(secret) = &target.secret {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(&body);
        let sig = hex::encode(mac.finalize().into_bytes());
        call = call.header("X-Imgflush-Signature", format!("sha256={sig}"));
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
    let body = resp.text().await.unwrap_or_default();
    Err(PurgeError::Status { status, body: body.trim().chars().take(200).collect() })
}

fn describe(e: reqwest::Error) -> PurgeError {
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
