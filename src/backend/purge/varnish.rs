//! Varnish nodes: PURGE (or a soft purge) per path or tag, through the shipped VCL.

use async_trait::async_trait;
use reqwest::Method;

use super::driver::{Ctx, Driver};
use super::report::*;
use crate::domain::probe::{ProbeAnswer, ProbeRequest};
use crate::domain::{cache_key, count, OriginPath, Scope};

pub struct Varnish;

/// One `PURGE` per path, as the shipped VCL (`deploy/varnish/`) expects: a
/// path is purged by its surrogate key (every query-string variant, every
/// `vh`), a prefix by a ban on the objects' path header, scope All by the
/// token's key, a tag by its key (derived from the token and the tag). Key purges answer how many objects they removed.
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
#[async_trait]
impl Driver for Varnish {
    async fn purge(&self, ctx: &Ctx<'_>, req: &PurgeCall) -> PurgeResult {
        let report = varnish_once(ctx, req).await?;
        if let Some(after) = req.repeat_after {
            tokio::time::sleep(after).await;
            let again = varnish_once(ctx, req).await?;
            if again.removed.is_some_and(|n| n > 0) {
                tracing::info!(target = %ctx.target.name, removed = ?again.removed, "the repeated purge removed objects stored after the first");
            }
        }
        Ok(report)
    }

    async fn probe(&self, ctx: &Ctx<'_>, req: &ProbeRequest) -> Result<Option<ProbeAnswer>, PurgeError> {
        probe(ctx, req).await
    }
}

/// The shipped VCL's cache-only probe: a `GET` of the variant's URL on the
/// node with `X-Imgflush-Probe: 1` and the purge secret answers 200 with its
/// age, or 404, and never fetches.
pub(super) async fn probe(ctx: &Ctx<'_>, req: &ProbeRequest) -> Result<Option<ProbeAnswer>, PurgeError> {
    let base = ctx.url.origin().ascii_serialization();
    let url = match &req.query {
        Some(q) => format!("{base}/{}{}?{q}", req.token, req.path),
        None => format!("{base}/{}{}", req.token, req.path),
    };
    let build = || {
        let call = ctx.client.get(&url).header("X-Imgflush-Probe", "1");
        match &ctx.target.secret {
            Some(secret) => call.header("X-Purge-Secret", secret),
            None => call,
        }
    };
    let resp = ctx.send(None, build).await?;
    if resp.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(Some(ProbeAnswer::default()));
    }
    let body = read_bounded(accepted(resp).await?).await.unwrap_or_default();
    serde_json::from_slice(&body)
        .map(Some)
        .map_err(|_| PurgeError::Other("the node's probe answer is not the VCL's JSON (is its VCL current?)".into()))
}

async fn varnish_once(ctx: &Ctx<'_>, req: &PurgeCall) -> PurgeResult {
    let method = Method::from_bytes(b"PURGE").expect("PURGE is a valid method");
    let selectors: Vec<(&str, String, Option<&str>)> = match req.scope {
        Scope::All => vec![("X-Purge-All", "1".to_owned(), None)],
        Scope::Tag => req.tags.iter().map(|t| ("X-Purge-Key", cache_key::tag_key(&req.token, t), None)).collect(),
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
        let build = || {
            let mut call = ctx
                .client
                .request(method.clone(), ctx.url.clone())
                .header("X-Purge-Token", &req.token)
                .header("X-Invalidation-Id", req.id_text())
                .header(*header, value);
            if let Some(path) = path {
                call = call.header("X-Purge-Path", *path);
            }
            if req.soft && *header != "X-Purge-Prefix" {
                call = call.header("X-Purge-Soft", "1");
            }
            if let Some(secret) = &ctx.target.secret {
                call = call.header("X-Purge-Secret", secret);
            }
            call
        };
        // A 429 waits for its Retry-After, as with every driver.
        let resp = accepted(ctx.send(None, build).await?).await?;
        let body = read_bounded(resp).await.unwrap_or_default();
        match serde_json::from_slice::<serde_json::Value>(&body).ok().and_then(|v| v.get("removed")?.as_u64()) {
            Some(n) => removed += n,
            None => bans += 1,
        }
    }
    let keyed = selectors.len() - bans;
    let soft = if req.soft { " (soft)" } else { "" };
    Ok(match (keyed, bans) {
        (_, 0) => PurgeReport::removed(
            removed,
            format!("removed {}{soft}", count(removed, "cached object", "cached objects")),
        ),
        (0, b) => PurgeReport::note(format!("{} accepted", count(b as u64, "ban", "bans"))),
        (_, b) => PurgeReport::removed(
            removed,
            format!(
                "removed {}{soft}; {} accepted",
                count(removed, "cached object", "cached objects"),
                count(b as u64, "ban", "bans")
            ),
        ),
    })
}
