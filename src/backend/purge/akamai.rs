//! Akamai Fast Purge (CCU v3): `POST /ccu/v3/{invalidate|delete}/tag/{network}`
//! signed with EdgeGrid (`EG1-HMAC-SHA256`, `sign/edgegrid.rs`). Invalidate
//! when the project's soft purge is on (objects are revalidated), delete
//! otherwise. The edge labels every response with `Edge-Cache-Tag`. A body
//! stays under 50,000 bytes; the answer's `purgeId` and `estimatedSeconds`
//! are recorded. Fast Purge has no prefix purge: `dir/*` purges the
//! project's token. Scope All on a dedicated target with a CP code purges the
//! CP code.

use async_trait::async_trait;
use reqwest::{StatusCode, Url};
use serde_json::{json, Value};

use super::driver::{Ctx, Driver};
use super::report::*;
use super::sign::edgegrid::{self, EdgeGridCredentials, EdgeGridRequest};
use super::tags::{self, Selection, WIDENED};
use crate::domain::count;

pub struct Akamai;

/// Fast Purge refuses bodies over 50,000 bytes.
const MAX_BODY: usize = 50_000;

impl Akamai {
    fn endpoint(ctx: &Ctx<'_>, action: &str, what: &str) -> Result<Url, PurgeError> {
        let network = ctx.settings().get("network").unwrap_or("production");
        ctx.api(&format!("/ccu/v3/{action}/{what}/{network}"))
    }
}

/// `objects` in calls whose bodies stay under [`MAX_BODY`].
fn batches(objects: &[Value]) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = Vec::new();
    let mut size = 0;
    for o in objects {
        let len = o.to_string().len() + 1;
        if out.is_empty() || size + len > MAX_BODY - 64 {
            out.push(Vec::new());
            size = 0;
        }
        size += len;
        out.last_mut().expect("pushed above").push(o.clone());
    }
    out
}

/// Sends one signed call; a fresh signature (timestamp, nonce) per try.
async fn signed(ctx: &Ctx<'_>, method: &str, url: &Url, body: Option<&Value>) -> Result<Value, PurgeError> {
    let creds = EdgeGridCredentials {
        client_token: ctx.credential("client_token")?.to_owned(),
        client_secret: ctx.credential("client_secret")?.to_owned(),
        access_token: ctx.credential("access_token")?.to_owned(),
    };
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let resp = ctx
        .send(None, || {
            let req = EdgeGridRequest { method, url: url.as_str(), headers_to_sign: &[], body: &bytes };
            let now = chrono::Utc::now();
            let auth = edgegrid::authorization(
                &creds,
                &req,
                &edgegrid::timestamp(now),
                &edgegrid::nonce(),
                edgegrid::DEFAULT_MAX_BODY,
            );
            let call = match method {
                "POST" => ctx.client.post(url.clone()).header("Content-Type", "application/json").body(bytes.clone()),
                _ => ctx.client.get(url.clone()),
            };
            // A credential that cannot be signed with was refused when saved; sent unsigned it is refused again.
            match auth {
                Ok(auth) => call.header("Authorization", auth),
                Err(_) => call,
            }
        })
        .await?;
    answer(ctx, resp).await
}

#[async_trait]
impl Driver for Akamai {
    async fn purge(&self, ctx: &Ctx<'_>, call: &PurgeCall) -> PurgeResult {
        let action = if call.soft { "invalidate" } else { "delete" };
        let mut sel = Selection::of(call, ctx.dedicated());
        let cp_code = ctx.settings().number("cp_code");
        let (what, objects, mut note) = match (sel.everything, cp_code) {
            (true, Some(cp)) => ("cpcode", vec![json!(cp)], format!("{action}d CP code {cp}")),
            _ => {
                if sel.everything {
                    sel.keys.push(crate::domain::cache_key::token_key(&call.token));
                }
                let widened = if sel.prefixes_as_token(&call.token) { WIDENED } else { "" };
                let n = sel.keys.len();
                let tags = sel.keys.iter().map(|k| json!(k)).collect();
                ("tag", tags, format!("{action}d {}{widened}", count(n as u64, "tag", "tags")))
            }
        };
        let url = Self::endpoint(ctx, action, what)?;
        let mut estimated = 0;
        let mut ids = Vec::new();
        for batch in batches(&objects) {
            let answer = signed(ctx, "POST", &url, Some(&json!({ "objects": batch }))).await?;
            estimated = estimated.max(answer.get("estimatedSeconds").and_then(Value::as_u64).unwrap_or(0));
            if let Some(id) = answer.get("purgeId").and_then(Value::as_str) {
                ids.push(id.to_owned());
            }
        }
        let label = if ids.len() == 1 { "purge ID" } else { "purge IDs" };
        note.push_str(&format!("; Akamai {label}: {}; estimated {estimated} s", ids.join(", ")));
        Ok(PurgeReport::note(note))
    }

    /// The client's rate-limit status: proves the host and the signature.
    async fn test(&self, ctx: &Ctx<'_>, _call: &PurgeCall) -> Result<String, PurgeError> {
        let url = ctx.api("/ccu/v3/rate-limit-status")?;
        let answer = signed(ctx, "GET", &url, None).await?;
        let limit = answer.get("limit").map(|v| v.to_string()).unwrap_or_else(|| "?".into());
        let left = answer.get("remaining").map(|v| v.to_string()).unwrap_or_else(|| "?".into());
        Ok(format!("the API client is accepted; {left} of {limit} purge requests left in its current window"))
    }
}

async fn answer(ctx: &Ctx<'_>, resp: reqwest::Response) -> Result<Value, PurgeError> {
    let status = resp.status();
    let body = tags::json(resp).await;
    if status.is_success() {
        return Ok(body);
    }
    let message =
        ["title", "detail"].iter().filter_map(|k| body.get(*k).and_then(Value::as_str)).collect::<Vec<_>>().join(": ");
    let host = ctx.url.host_str().unwrap_or("?").to_owned();
    let next = match status {
        StatusCode::UNAUTHORIZED => {
            format!("the API client's credentials were refused by {host}: copy them again from its .edgerc")
        }
        StatusCode::FORBIDDEN => {
            "the API client lacks the CCU APIs (Fast Purge) grant: add it in Identity & Access".to_owned()
        }
        StatusCode::NOT_FOUND => {
            format!("{host} does not serve Fast Purge: check the host (akab-….purge.akamaiapis.net)")
        }
        _ => "Akamai refused the request: check the target's settings".to_owned(),
    };
    Err(tags::failure(status, message, &next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_stay_under_fifty_thousand_bytes() {
        let tags: Vec<Value> = (0..2000).map(|i| json!(format!("imgflush-p-{i:040}"))).collect();
        let calls = batches(&tags);
        assert!(calls.len() > 1);
        assert_eq!(calls.iter().map(Vec::len).sum::<usize>(), 2000);
        for c in &calls {
            assert!(json!({ "objects": c }).to_string().len() <= MAX_BODY);
        }
        assert!(batches(&[]).is_empty());
    }
}
