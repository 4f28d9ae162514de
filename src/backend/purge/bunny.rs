//! Bunny CDN: the `AccessKey` header. Paths and tokens by cache tag, one tag
//! a call (`POST /pullzone/{id}/purgeCache` with `{"CacheTag": …}`; the edge
//! labels every response with `CDN-Tag`): one call per path, where a purge by
//! URL would need one wildcard call per public URL form of the path, at a
//! tenth of the rate (Bunny allows about 5 exact-URL calls a second and 0.5
//! wildcard calls). `dir/*` by wildcard URL on the target's public URL (the
//! token's tag without one); scope All on a dedicated pull zone purges it all.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::driver::{Ctx, Driver};
use super::pacing::Rate;
use super::report::*;
use super::tags::{self, Selection, WIDENED};
use crate::domain::count;

pub struct Bunny;

/// Limits are per account, and the account is its API key: named by a digest.
fn account(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))[..16].to_owned()
}

#[async_trait]
impl Driver for Bunny {
    async fn purge(&self, ctx: &Ctx<'_>, call: &PurgeCall) -> PurgeResult {
        let mut sel = Selection::of(call, ctx.dedicated());
        let zone = ctx.setting("pull_zone_id")?;
        let key = ctx.credential("access_key")?;
        let tag_rate = Rate::new("bunny", &account(key), 5, Duration::from_secs(1));
        let url_rate = Rate::new("bunny-wildcard", &account(key), 1, Duration::from_secs(2));
        let zone_url = ctx.api(&format!("/pullzone/{zone}/purgeCache"))?;
        if sel.everything {
            let resp = ctx.send(Some(&tag_rate), || ctx.client.post(zone_url.clone()).header("AccessKey", key)).await?;
            answer(ctx, resp).await?;
            return Ok(PurgeReport::note(format!("purged pull zone {zone}")));
        }
        let public = ctx.settings().get("public_url");
        let widened = if public.is_none() && sel.prefixes_as_token(&call.token) { WIDENED } else { "" };
        for tag in &sel.keys {
            let body = json!({ "CacheTag": tag });
            let resp = ctx
                .send(Some(&tag_rate), || ctx.client.post(zone_url.clone()).header("AccessKey", key).json(&body))
                .await?;
            answer(ctx, resp).await?;
        }
        let purge_url = ctx.api("/purge")?;
        for base in &sel.prefixes {
            let target = format!("{}{base}*", public.unwrap_or_default());
            let resp = ctx
                .send(Some(&url_rate), || {
                    ctx.client.post(purge_url.clone()).query(&[("url", target.as_str())]).header("AccessKey", key)
                })
                .await?;
            answer(ctx, resp).await?;
        }
        Ok(PurgeReport::note(format!(
            "purged {} and {} in pull zone {zone}{widened}",
            count(sel.keys.len() as u64, "tag", "tags"),
            count(sel.prefixes.len() as u64, "URL prefix", "URL prefixes")
        )))
    }

    /// The pull zone's details.
    async fn test(&self, ctx: &Ctx<'_>, _call: &PurgeCall) -> Result<String, PurgeError> {
        let zone = ctx.setting("pull_zone_id")?;
        let key = ctx.credential("access_key")?;
        let url = ctx.api(&format!("/pullzone/{zone}"))?;
        let resp = ctx.send(None, || ctx.client.get(url.clone()).header("AccessKey", key)).await?;
        let body = answer(ctx, resp).await?;
        let name = body.get("Name").and_then(Value::as_str).unwrap_or("?");
        Ok(format!("the API key reaches pull zone {name} ({zone})"))
    }
}

async fn answer(ctx: &Ctx<'_>, resp: reqwest::Response) -> Result<Value, PurgeError> {
    let status = resp.status();
    let body = tags::json(resp).await;
    if status.is_success() {
        return Ok(body);
    }
    let message = ["Message", "message", "ErrorKey"]
        .iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned();
    let zone = ctx.settings().get("pull_zone_id").unwrap_or("?");
    let next = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            "the API key was refused: copy the account's API key (Account settings › API) into the target".to_owned()
        }
        StatusCode::NOT_FOUND => format!("pull zone {zone} is unknown to this account: check the Pull zone ID"),
        _ => "Bunny refused the request: check the target's settings".to_owned(),
    };
    Err(tags::failure(status, message, &next))
}
