//! Fastly: `POST /service/{id}/purge` with `surrogate_keys` (at most 256 a
//! call) and the `Fastly-Key` header; `Fastly-Soft-Purge: 1` when the
//! project's soft purge is on. The edge labels every response with
//! `Surrogate-Key`. Scope All on a dedicated service: `purge_all` (never
//! soft). Fastly has no prefix purge: `dir/*` purges the project's token.

use async_trait::async_trait;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::coalesce::{SendFuture, Shared};
use super::driver::{Ctx, Driver};
use super::report::*;
use super::tags::{self, Selection, WIDENED};
use crate::domain::{count, TargetKind};

pub struct Fastly;

/// Keys a call carries at most (the kind's spec: Fastly takes 256).
fn keys_per_call() -> usize {
    TargetKind::Fastly.per_call().unwrap_or(1)
}

#[async_trait]
impl Driver for Fastly {
    async fn purge(&self, ctx: &Ctx<'_>, call: &PurgeCall) -> PurgeResult {
        let mut sel = Selection::of(call, ctx.dedicated());
        let widened = if sel.prefixes_as_token(&call.token) { WIDENED } else { "" };
        let service = ctx.setting("service_id")?;
        let key = ctx.credential("api_token")?;
        if sel.everything {
            let url = ctx.api(&format!("/service/{service}/purge_all"))?;
            let resp = ctx.send(None, || ctx.client.post(url.clone()).header("Fastly-Key", key)).await?;
            answer(ctx, resp).await?;
            return Ok(PurgeReport::note("purged everything in the service (purge_all is never soft)"));
        }
        let soft = call.soft;
        let send = move |items: Vec<String>| -> SendFuture<'_> { Box::pin(purge_keys(ctx, items, soft)) };
        let mut shared = Shared::default();
        for chunk in sel.keys.chunks(keys_per_call()) {
            let queue = format!("{}:keys:{soft}", ctx.target.id);
            shared.add(ctx.coalescer.purge(&queue, chunk.to_vec(), keys_per_call(), &send).await?);
        }
        let soft = if call.soft { " (soft)" } else { "" };
        Ok(PurgeReport::note(format!(
            "purged {}{soft}{}; Fastly acknowledged {}{widened}",
            count(sel.keys.len() as u64, "surrogate key", "surrogate keys"),
            shared.calls_text(),
            shared.notes_text()
        )))
    }

    /// The service's details.
    async fn test(&self, ctx: &Ctx<'_>, _call: &PurgeCall) -> Result<String, PurgeError> {
        let service = ctx.setting("service_id")?;
        let key = ctx.credential("api_token")?;
        let url = ctx.api(&format!("/service/{service}"))?;
        let resp = ctx.send(None, || ctx.client.get(url.clone()).header("Fastly-Key", key)).await?;
        let body = answer(ctx, resp).await?;
        let name = body.get("name").and_then(Value::as_str).unwrap_or("?");
        Ok(format!("the token reaches service {name} ({service})"))
    }
}

/// One call purging `keys`; answers how many Fastly acknowledged.
async fn purge_keys(ctx: &Ctx<'_>, keys: Vec<String>, soft: bool) -> Result<String, PurgeError> {
    let url = ctx.api(&format!("/service/{}/purge", ctx.setting("service_id")?))?;
    let token = ctx.credential("api_token")?;
    let body = json!({ "surrogate_keys": keys });
    let resp = ctx
        .send(None, || {
            let req = ctx.client.post(url.clone()).header("Fastly-Key", token).json(&body);
            if soft {
                req.header("Fastly-Soft-Purge", "1")
            } else {
                req
            }
        })
        .await?;
    let acknowledged = answer(ctx, resp).await?.as_object().map_or(0, |m| m.len());
    Ok(count(acknowledged as u64, "key", "keys"))
}

async fn answer(ctx: &Ctx<'_>, resp: reqwest::Response) -> Result<Value, PurgeError> {
    let status = resp.status();
    let body = tags::json(resp).await;
    if status.is_success() {
        return Ok(body);
    }
    let message = ["msg", "detail", "message"]
        .iter()
        .filter_map(|k| body.get(*k).and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(": ");
    let service = ctx.settings().get("service_id").unwrap_or("?");
    let next = match status {
        StatusCode::UNAUTHORIZED => "the API token is not valid: create one with the purge_select scope".to_owned(),
        StatusCode::FORBIDDEN => format!(
            "the token may not purge service {service}: give it purge_select (and purge_all for a dedicated service)"
        ),
        StatusCode::NOT_FOUND => format!("service {service} is unknown: check the Service ID"),
        _ => "Fastly refused the request: check the target's settings".to_owned(),
    };
    Err(tags::failure(status, message, &next))
}
