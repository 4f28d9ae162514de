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

/// Purges `req` on `target`. `Ok` carries a short note for the log, `Err` the
/// reason it failed (never the secret, never the URL with its credentials).
pub async fn purge(client: &Client, target: &Target, req: &PurgeRequest) -> Result<String, String> {
    match target.kind {
        TargetKind::Edge => edge(client, target, req).await,
        TargetKind::Varnish => varnish(client, target, req).await,
        TargetKind::Webhook => webhook(client, target, req).await,
    }
}

async fn edge(client: &Client, target: &Target, req: &PurgeRequest) -> Result<String, String> {
    let mut call = client.post(&target.url).json(req);
    if let Some(secret) = &target.secret {
        call = call.bearer_auth(secret);
    }
    let resp = success(call.send().await).await?;
    let removed = resp.json::<serde_json::Value>().await.ok().and_then(|v| v.get("removed").and_then(|r| r.as_u64()));
    Ok(match removed {
        Some(n) => format!("removed {n} cached objects"),
        None => "purge accepted".to_owned(),
    })
}

/// One `BAN` per path: Varnish evaluates a ban per request, and the shipped
/// VCL turns these headers into a ban on every query-string variant.
async fn varnish(client: &Client, target: &Target, req: &PurgeRequest) -> Result<String, String> {
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
    Ok(format!("{} ban(s) accepted", selectors.len()))
}

async fn webhook(client: &Client, target: &Target, req: &PurgeRequest) -> Result<String, String> {
    let body = serde_json::to_vec(req).expect("purge request serialises");
    let mut call = client.post(&target.url).header("Content-Type", "application/json").body(body.clone());
    if let Some(secret) = &target.secret {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(&body);
        let sig = hex::encode(mac.finalize().into_bytes());
        call = call.header("X-Imgflush-Signature", format!("sha256={sig}"));
    }
    let resp = success(call.send().await).await?;
    Ok(format!("HTTP {}", resp.status().as_u16()))
}

async fn success(sent: reqwest::Result<Response>) -> Result<Response, String> {
    let resp = sent.map_err(|e| describe(e.without_url()))?;
    if resp.status().is_success() {
        return Ok(resp);
    }
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    let snippet: String = body.trim().chars().take(200).collect();
    Err(if snippet.is_empty() { format!("HTTP {status}") } else { format!("HTTP {status}: {snippet}") })
}

fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "connection refused or unreachable".to_owned()
    } else {
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            source = s.source();
        }
        msg
    }
}
