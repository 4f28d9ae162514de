//! The edge's contract: a signed POST of the request to its purge endpoint.

use async_trait::async_trait;

use super::driver::{Ctx, Driver};
use super::report::*;
use crate::domain::probe::{ProbeAnswer, ProbeRequest};
use crate::domain::{count, PurgeAnswer, PurgeRequest, Scope};

pub struct Edge;

/// Posts `body` as JSON to `url` on the edge's admin listener, signed with
/// the target's secret.
async fn post(
    ctx: &Ctx<'_>,
    url: &reqwest::Url,
    body: &impl serde::Serialize,
) -> Result<reqwest::Response, PurgeError> {
    let build = || {
        let req = ctx.client.post(url.clone()).json(body);
        match &ctx.target.secret {
            Some(secret) => req.bearer_auth(secret),
            None => req,
        }
    };
    // A 429 waits for its Retry-After, as with every driver.
    accepted(ctx.send(None, build).await?).await
}

#[async_trait]
impl Driver for Edge {
    async fn count(&self, ctx: &Ctx<'_>, call: &PurgeCall) -> Result<Option<(u64, u64)>, PurgeError> {
        let request = PurgeRequest { dry_run: true, ..call.request.clone() };
        let body = read_bounded(post(ctx, &ctx.url, &request).await?).await.unwrap_or_default();
        let answer: PurgeAnswer = serde_json::from_slice(&body)
            .map_err(|_| PurgeError::Other("the edge's answer to a dry run is not its JSON contract".into()))?;
        Ok(Some((answer.removed, answer.bytes)))
    }

    /// `POST /_lookup` beside the purge endpoint (the same listener and
    /// secret): the edge answers from its index, fetching nothing.
    async fn probe(&self, ctx: &Ctx<'_>, req: &ProbeRequest) -> Result<Option<ProbeAnswer>, PurgeError> {
        let mut url = ctx.url.clone();
        url.set_path("/_lookup");
        url.set_query(None);
        let body = read_bounded(post(ctx, &url, req).await?).await.unwrap_or_default();
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|_| PurgeError::Other("the edge's lookup answer is not its JSON contract".into()))
    }

    async fn purge(&self, ctx: &Ctx<'_>, call: &PurgeCall) -> PurgeResult {
        let resp = post(ctx, &ctx.url, &call.request).await?;
        // A tag purge's answer lists the tagged paths: up to 512 KB.
        let body = read_at_most(resp, PurgeAnswer::MAX_BYTES).await.unwrap_or_default();
        Ok(match serde_json::from_slice::<PurgeAnswer>(&body) {
            Ok(answer) => {
                let n = answer.removed;
                let urls = answer.urls.into_iter().filter(|u| u.starts_with('/')).collect();
                let tag_paths = (call.scope == Scope::Tag && answer.paths_complete)
                    .then(|| answer.paths.into_iter().filter(|p| p.starts_with('/')).collect());
                let note = match call.scope {
                    Scope::Tag => format!("removed {} carrying the tags", count(n, "cached object", "cached objects")),
                    _ => format!("removed {}", count(n, "cached object", "cached objects")),
                };
                PurgeReport { urls, tag_paths, ..PurgeReport::removed(n, note) }
            }
            Err(_) => PurgeReport::note("purge accepted"),
        })
    }
}
