//! Proof that a CDN node was purged (the project's "verify" setting): after
//! the purges, the worker asks each node again for the purged URLs and
//! records whether every answer was fetched after the purge began.
//!
//! A URL is *fresh* when the node says `X-Cache: MISS` (the shipped VCL sets
//! it) or when its `Age` is no older than the purge. After a soft purge the
//! first answer is the stale copy, served while the node refetches in the
//! background; the URL is asked again until a fresh answer arrives or
//! [`VerifyPlan::patience`] runs out.

use std::time::{Duration, Instant};

use reqwest::Client;

use super::network::NetworkPolicy;
use super::store::Target;
use crate::domain::{OriginPath, Scope, TargetKind};

/// At most this many URLs are asked per node.
pub const MAX_URLS: usize = 10;

/// What to ask every node, decided once per job.
#[derive(Debug, Clone)]
pub struct VerifyPlan {
    /// Request paths after the token (`/host/a.jpg?w=300`).
    pub urls: Vec<String>,
    /// Why nothing can be asked, when `urls` is empty.
    pub unverifiable: Option<String>,
    /// How long one URL may stay stale (a soft purge's background fetch).
    pub patience: Duration,
}

impl VerifyPlan {
    /// `known` are the variants the edges named in their purge answers; with
    /// none, each plain path is asked (prefixes and whole tokens name no URL).
    pub fn new(scope: Scope, paths: &[String], known: &[String], signed: bool) -> VerifyPlan {
        let patience = Duration::from_secs(5);
        if signed {
            let why = "the project requires signed URLs, which the worker does not sign".to_owned();
            return VerifyPlan { urls: Vec::new(), unverifiable: Some(why), patience };
        }
        let mut urls: Vec<String> = Vec::new();
        for u in known {
            if urls.len() < MAX_URLS && !urls.contains(u) {
                urls.push(u.clone());
            }
        }
        if urls.is_empty() && scope == Scope::Original {
            let plain = paths.iter().filter(|p| OriginPath::parse(p).is_ok_and(|op| !op.is_prefix()));
            urls.extend(plain.take(MAX_URLS).cloned());
        }
        let unverifiable =
            urls.is_empty().then(|| "no purged URL is known (the edges had none of these images cached)".to_owned());
        VerifyPlan { urls, unverifiable, patience }
    }
}

/// One node's proof: `Some(true)` when every URL was fresh.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub verified: Option<bool>,
    pub note: String,
}

/// Where a target's cached variants are fetched from: a node serves the
/// edge's path form (`/{token}{url}` on its address), a CDN its public URL.
pub fn base_url(target: &Target, token: &str) -> Option<String> {
    match target.kind {
        TargetKind::Varnish => {
            let u = reqwest::Url::parse(&target.url).ok()?;
            Some(format!("{}/{token}", u.origin().ascii_serialization()))
        }
        k if k.verifiable() => target.settings.get("public_url").map(str::to_owned),
        _ => None,
    }
}

/// Asks for every URL of `plan` under `base` (see [`base_url`]) and says
/// whether each answer is newer than `purged_at`.
pub async fn verify(
    client: &Client,
    policy: &NetworkPolicy,
    base: &str,
    plan: &VerifyPlan,
    purged_at: Instant,
) -> Verification {
    if let Some(why) = &plan.unverifiable {
        return Verification { verified: None, note: format!("not verified: {why}") };
    }
    match reqwest::Url::parse(base) {
        Ok(u) if policy.check_url(&u).is_ok() => {}
        _ => return Verification { verified: None, note: "not verified: the cache's URL is not allowed".into() },
    }
    let origin = base.trim_end_matches('/');
    let mut stale = Vec::new();
    for url in &plan.urls {
        let deadline = Instant::now() + plan.patience;
        loop {
            match ask(client, &format!("{origin}{url}"), purged_at).await {
                Ok(true) => break,
                Ok(false) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
                Ok(false) => {
                    stale.push(format!("{url} still served from the cache"));
                    break;
                }
                Err(e) => {
                    stale.push(format!("{url}: {e}"));
                    break;
                }
            }
        }
    }
    let n = plan.urls.len();
    match stale.first() {
        None => Verification { verified: Some(true), note: format!("verified: {n} of {n} URLs fetched anew") },
        Some(first) => Verification {
            verified: Some(false),
            note: format!("NOT verified: {} of {n} URLs stale, e.g. {first}", stale.len()),
        },
    }
}

/// A note as shown to members who are not admins: the counts, not what
/// the node answered.
pub fn public_note(note: &str) -> String {
    note.split_once(", e.g. ").map_or(note, |(head, _)| head).to_owned()
}

/// `Ok(true)` when the node's answer was fetched after `purged_at`.
async fn ask(client: &Client, url: &str, purged_at: Instant) -> Result<bool, String> {
    let resp = client.get(url).send().await.map_err(|e| super::purge::describe(e.without_url()).to_string())?;
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    if [header("cache-status"), header("cf-cache-status"), header("x-cache")].iter().flatten().any(|v| fetched_anew(v))
    {
        return Ok(true);
    }
    // `Age` counts whole seconds since the node fetched the object.
    let since_purge = purged_at.elapsed().as_secs() + 1;
    Ok(header("age").and_then(|a| a.parse::<u64>().ok()).is_some_and(|age| age <= since_purge))
}

/// Whether a cache's status header says this answer came from the origin:
/// RFC 9211 `Cache-Status` (`node; fwd=miss`), Cloudflare's
/// `CF-Cache-Status` (`MISS`, `EXPIRED`), `X-Cache` (`MISS`, Fastly's
/// `MISS, MISS`, CloudFront's `Miss from cloudfront`). The cache nearest
/// the client is the last entry of a list.
fn fetched_anew(value: &str) -> bool {
    let last = value.rsplit(',').next().unwrap_or("").trim().to_ascii_lowercase();
    if last.contains(';') {
        return last.contains("fwd=") && !last.contains("fwd=stale");
    }
    last.starts_with("miss") || matches!(last.as_str(), "expired" | "bypass" | "dynamic")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_status_headers_of_every_provider() {
        for anew in [
            "MISS",
            "miss",
            "EXPIRED",
            "HIT, MISS",
            "Miss from cloudfront",
            "DYNAMIC",
            "edge; fwd=miss",
            "a; hit, b; fwd=uri-miss",
        ] {
            assert!(fetched_anew(anew), "{anew}");
        }
        for cached in ["HIT", "MISS, HIT", "Hit from cloudfront", "edge; hit", "edge; fwd=stale", "STALE"] {
            assert!(!fetched_anew(cached), "{cached}");
        }
    }

    fn paths(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_plan_prefers_the_variants_the_edges_named() {
        let known = paths(&["/h/a.jpg?w=300", "/h/a.jpg?w=500", "/h/a.jpg?w=300"]);
        let plan = VerifyPlan::new(Scope::Original, &paths(&["/h/a.jpg"]), &known, false);
        assert_eq!(plan.urls, paths(&["/h/a.jpg?w=300", "/h/a.jpg?w=500"]));
        let plan = VerifyPlan::new(Scope::Original, &paths(&["/h/a.jpg", "/h/b/*"]), &[], false);
        assert_eq!(plan.urls, paths(&["/h/a.jpg"]), "plain paths, never a prefix");
        let plan = VerifyPlan::new(Scope::All, &[], &[], false);
        assert!(plan.urls.is_empty() && plan.unverifiable.is_some());
        let plan = VerifyPlan::new(Scope::Original, &paths(&["/h/a.jpg"]), &known, true);
        assert!(plan.urls.is_empty() && plan.unverifiable.unwrap().contains("signed"));
        let many: Vec<String> = (0..30).map(|i| format!("/h/{i}.jpg")).collect();
        assert_eq!(VerifyPlan::new(Scope::Original, &many, &[], false).urls.len(), MAX_URLS);
    }
}
