//! The edge's contract: a signed POST of the request to its purge endpoint.

use async_trait::async_trait;

use super::driver::{Ctx, Driver};
use super::report::*;
use crate::domain::PurgeAnswer;

pub struct Edge;

#[async_trait]
impl Driver for Edge {
    async fn purge(&self, ctx: &Ctx<'_>, call: &PurgeCall) -> PurgeResult {
        let build = || {
            let req = ctx.client.post(ctx.url.clone()).json(&call.request);
            match &ctx.target.secret {
                Some(secret) => req.bearer_auth(secret),
                None => req,
            }
        };
        // A 429 waits for its Retry-After, as with every driver.
        let resp = accepted(ctx.send(None, build).await?).await?;
        let body = read_bounded(resp).await.unwrap_or_default();
        Ok(match serde_json::from_slice::<PurgeAnswer>(&body) {
            Ok(answer) => {
                let n = answer.removed;
                let urls = answer.urls.into_iter().filter(|u| u.starts_with('/')).collect();
                PurgeReport { urls, ..PurgeReport::removed(n, format!("removed {n} cached objects")) }
            }
            Err(_) => PurgeReport::note("purge accepted"),
        })
    }
}
