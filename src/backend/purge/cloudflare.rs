//! Cloudflare: `POST /zones/{zone}/purge_cache` with a bearer API token.
//! Paths and tokens by cache tag (the edge labels every response with
//! `Cache-Tag`), `dir/*` by URL prefix on the project's public hosts, scope
//! All on a dedicated zone by `purge_everything`. One kind of item per call,
//! at most `per_call` items (100 by default), within the account's plan.
//! A `200` does not prove eviction (Cloudflare has no status endpoint):
//! verification through the public URL does.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::coalesce::{SendFuture, Shared};
use super::driver::{Ctx, Driver};
use super::pacing::Rate;
use super::report::*;
use super::tags::{self, Selection};
use crate::domain::count;

pub struct Cloudflare;

/// Calls per window of each plan (Cloudflare's published purge rate limits).
fn plan_rate(plan: &str) -> (u32, Duration) {
    match plan {
        "pro" => (5, Duration::from_secs(1)),
        "business" => (10, Duration::from_secs(1)),
        "enterprise" => (50, Duration::from_secs(1)),
        _ => (5, Duration::from_secs(60)),
    }
}

fn rate(ctx: &Ctx<'_>) -> Result<Rate, PurgeError> {
    let zone = ctx.setting("zone_id")?;
    let account = ctx.settings().get("account_id").unwrap_or(zone);
    let (calls, window) = plan_rate(ctx.settings().get("plan").unwrap_or("free"));
    Ok(Rate::new("cloudflare", account, calls, window))
}

/// `dir/*` as Cloudflare prefixes (`host/dir/`): on the target's public URL
/// (with its path) and on each of the project's public hosts.
fn prefixes(ctx: &Ctx<'_>, call: &PurgeCall, bases: &[String]) -> Vec<String> {
    let mut roots: Vec<String> = Vec::new();
    if let Some(url) = ctx.settings().get("public_url") {
        roots.push(url.split_once("://").map_or(url, |(_, rest)| rest).trim_end_matches('/').to_owned());
    }
    for host in &call.public_hosts {
        if !roots.contains(host) {
            roots.push(host.clone());
        }
    }
    roots.iter().flat_map(|root| bases.iter().map(move |b| format!("{root}{b}"))).collect()
}

#[async_trait]
impl Driver for Cloudflare {
    async fn purge(&self, ctx: &Ctx<'_>, call: &PurgeCall) -> PurgeResult {
        let mut sel = Selection::of(call, ctx.dedicated());
        let mut note = String::new();
        let prefixes = prefixes(ctx, call, &sel.prefixes);
        if !sel.prefixes.is_empty() && prefixes.is_empty() && sel.prefixes_as_token(&call.token) {
            note.push_str("; no public host is known (set the target's Public URL or the project's custom host), so the project's whole token was purged");
        }
        if sel.everything {
            let id = purge_call(ctx, json!({ "purge_everything": true })).await?;
            return Ok(PurgeReport::note(format!("purged everything in the zone; Cloudflare purge ID: {id}")));
        }
        // The target's own setting (its plan may allow more), else the kind's cap.
        let per_call = ctx.settings().number("per_call").map(|n| n as usize);
        let per_call = per_call.or(ctx.target.kind.per_call()).unwrap_or(1).max(1);
        let mut shared = Shared::default();
        for (what, items) in [("tags", &sel.keys), ("prefixes", &prefixes)] {
            let send =
                move |items: Vec<String>| -> SendFuture<'_> { Box::pin(purge_call(ctx, json!({ what: items }))) };
            for chunk in items.chunks(per_call) {
                let key = format!("{}:{what}", ctx.target.id);
                shared.add(ctx.coalescer.purge(&key, chunk.to_vec(), per_call, &send).await?);
            }
        }
        Ok(PurgeReport::note(format!(
            "purged {}, {}{}; Cloudflare {}: {}{note}",
            count(sel.keys.len() as u64, "tag", "tags"),
            count(prefixes.len() as u64, "prefix", "prefixes"),
            shared.calls_text(),
            shared.ids_label(),
            shared.notes_text()
        )))
    }

    /// The token's verify endpoint (user, then account tokens), then the zone.
    async fn test(&self, ctx: &Ctx<'_>, _call: &PurgeCall) -> Result<String, PurgeError> {
        let verified = match get(ctx, "/user/tokens/verify").await {
            Ok(v) => v,
            Err(e) => match ctx.settings().get("account_id") {
                Some(account) => get(ctx, &format!("/accounts/{account}/tokens/verify")).await?,
                None => return Err(e),
            },
        };
        let status = verified.pointer("/result/status").and_then(Value::as_str).unwrap_or("unknown");
        let zone = get(ctx, &format!("/zones/{}", ctx.setting("zone_id")?)).await?;
        let name = zone.pointer("/result/name").and_then(Value::as_str).unwrap_or("?");
        let zone_status = zone.pointer("/result/status").and_then(Value::as_str).unwrap_or("?");
        Ok(format!("the token is {status} and reaches zone {name} ({zone_status})"))
    }
}

/// One purge call with `body`; answers Cloudflare's purge ID.
async fn purge_call(ctx: &Ctx<'_>, body: Value) -> Result<String, PurgeError> {
    let (rate, token) = (rate(ctx)?, ctx.credential("api_token")?);
    let url = ctx.api(&format!("/zones/{}/purge_cache", ctx.setting("zone_id")?))?;
    let resp = ctx.send(Some(&rate), || ctx.client.post(url.clone()).bearer_auth(token).json(&body)).await?;
    let answer = answer(ctx, resp).await?;
    Ok(answer.pointer("/result/id").and_then(Value::as_str).unwrap_or("-").to_owned())
}

/// An authenticated read of `path`: not a purge, so not within the
/// account's purge rate (Cloudflare limits purges apart from other calls).
async fn get(ctx: &Ctx<'_>, path: &str) -> Result<Value, PurgeError> {
    let token = ctx.credential("api_token")?;
    let url = ctx.api(path)?;
    let resp = ctx.send(None, || ctx.client.get(url.clone()).bearer_auth(token)).await?;
    answer(ctx, resp).await
}

/// The answer's JSON when Cloudflare says `success: true`; else its own
/// messages with what to do.
async fn answer(ctx: &Ctx<'_>, resp: reqwest::Response) -> Result<Value, PurgeError> {
    let status = resp.status();
    let body = tags::json(resp).await;
    if status.is_success() && body.get("success").and_then(Value::as_bool) != Some(false) {
        return Ok(body);
    }
    let messages: Vec<String> = body
        .get("errors")
        .and_then(Value::as_array)
        .map(|errs| {
            errs.iter()
                .map(|e| {
                    let code = e.get("code").map(|c| c.to_string()).unwrap_or_default();
                    let msg = e.get("message").and_then(Value::as_str).unwrap_or("");
                    format!("{msg} ({code})")
                })
                .collect()
        })
        .unwrap_or_default();
    let message = messages.join("; ");
    let zone = ctx.settings().get("zone_id").unwrap_or("?");
    // Cloudflare answers an unknown or under-privileged token alike: code
    // 10000 "Authentication error", with 403 (or 400).
    let auth_error = body["errors"].as_array().is_some_and(|e| e.iter().any(|e| e["code"] == 10000));
    let next = match status {
        _ if auth_error => format!(
            "the API token was refused for zone {zone}: check that it is valid and has the Zone › Cache Purge permission for this zone"
        ),
        StatusCode::UNAUTHORIZED => {
            "the API token is not valid: create one with Zone › Cache Purge and enter it on Settings".to_owned()
        }
        StatusCode::FORBIDDEN => {
            format!("the token lacks the Cache Purge permission for zone {zone}: add it to the token")
        }
        StatusCode::NOT_FOUND => format!("zone {zone} is unknown to this token: check the Zone ID"),
        _ => "Cloudflare refused the request: check the target's settings".to_owned(),
    };
    Err(tags::failure(status, message, &next))
}
