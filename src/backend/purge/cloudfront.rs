//! Amazon CloudFront: `CreateInvalidation` signed with SigV4 (`sign/sigv4.rs`).
//! CloudFront has no tags: each path is invalidated with a trailing `*`
//! (every query-string variant), `dir/*` as `dir/*`, scope All as `/*` on a
//! dedicated distribution, else `/{origin host}/*` per origin host of the
//! project (all behind the target's path prefix). Each such path counts
//! against the 15 wildcard paths CloudFront allows in flight per
//! distribution, so a batch holds at most 15, in a fixed order: the
//! `CallerReference` `{invalidation}-{attempt}-{batch}` names the same batch
//! on every run of an attempt (CloudFront refuses the same reference with
//! other paths), and a resumed job finds its invalidations instead of
//! creating more. CloudFront finishes later: the worker polls
//! `GetInvalidation` until `Completed`. `TooManyInvalidationsInProgress` and
//! throttling wait and try again.

use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use reqwest::{RequestBuilder, Response, StatusCode, Url};

use super::driver::{Ctx, Driver, Progress};
use super::pacing::cloudfront_account;
use super::report::*;
use super::sign::cloudfront_xml::{self as xml, InvalidationStatus};
use super::sign::sigv4::{self, AwsCredentials};
use crate::domain::{OriginPath, Scope};

pub struct Cloudfront;

/// Wildcard paths CloudFront allows in flight per distribution.
const WILDCARDS_PER_BATCH: usize = 15;
const API: &str = "/2020-05-31/distribution";

/// The invalidation paths of `call`, in order. Scope Tag sends the paths
/// the edges reported for the tags; unknown, the whole project (as All).
fn paths(call: &PurgeCall, prefix: &str, dedicated: bool) -> Vec<String> {
    let each = |paths: &[String]| -> Vec<String> {
        paths
            .iter()
            .map(|p| match OriginPath::parse(p) {
                Ok(op) if op.is_prefix() => format!("{prefix}{}*", op.base()),
                _ => format!("{prefix}{p}*"),
            })
            .collect()
    };
    match (call.scope, &call.tag_paths) {
        (Scope::Tag, Some(tagged)) => each(tagged),
        (Scope::All | Scope::Tag, _) if dedicated => vec![format!("{prefix}/*")],
        (Scope::All | Scope::Tag, _) => call.origin_hosts.iter().map(|h| format!("{prefix}/{h}/*")).collect(),
        (Scope::Original, _) => each(&call.paths),
    }
}

/// What the details page says of a tag purge on CloudFront, which has none.
fn tag_note(call: &PurgeCall) -> &'static str {
    match (call.scope, &call.tag_paths) {
        (Scope::Tag, Some(_)) => "CloudFront has no tag purge: the paths the edges reported for the tags were invalidated; ",
        (Scope::Tag, None) => "CloudFront has no tag purge and the edges' list of tagged paths is not known in full (no edge, too many, or purged by an earlier run): the whole project was invalidated; ",
        _ => "",
    }
}

fn credentials(ctx: &Ctx<'_>) -> Result<AwsCredentials, PurgeError> {
    Ok(AwsCredentials {
        access_key_id: ctx.credential("access_key_id")?.to_owned(),
        secret_access_key: ctx.credential("secret_access_key")?.to_owned(),
    })
}

/// A request signed now (each try signs anew).
fn signed(ctx: &Ctx<'_>, creds: &AwsCredentials, method: &str, url: &Url, body: &[u8]) -> RequestBuilder {
    let content_type = [("content-type", "text/xml")];
    let headers: &[(&str, &str)] = if body.is_empty() { &[] } else { &content_type };
    let mut req = match method {
        "POST" => ctx.client.post(url.clone()).header("Content-Type", "text/xml").body(body.to_vec()),
        _ => ctx.client.get(url.clone()),
    };
    match sigv4::sign_cloudfront(creds, method, url.as_str(), headers, body, SystemTime::now()) {
        Ok(added) => {
            for (name, value) in added {
                req = req.header(name, value);
            }
            req
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not sign a CloudFront request");
            req
        }
    }
}

/// Sends a signed call; `TooManyInvalidationsInProgress` and throttling wait
/// (5 s, then longer) and try again until the deadline.
async fn call(ctx: &Ctx<'_>, method: &str, url: &Url, body: &[u8]) -> Result<String, PurgeError> {
    let creds = credentials(ctx)?;
    let mut wait = Duration::from_secs(5);
    loop {
        let resp = ctx.send(None, || signed(ctx, &creds, method, url, body)).await?;
        match answer(ctx, resp).await {
            Err(Busy(why)) => {
                if Instant::now() + wait > ctx.deadline {
                    return Err(PurgeError::RateLimited(Some(wait)));
                }
                tracing::info!(target = %ctx.target.name, why, "CloudFront is busy; waiting");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(60));
            }
            Ok(text) => return Ok(text),
            Err(Failed(e)) => return Err(e),
        }
    }
}

enum Outcome {
    Busy(&'static str),
    Failed(PurgeError),
}
use Outcome::*;

#[async_trait]
impl Driver for Cloudfront {
    async fn purge(&self, ctx: &Ctx<'_>, call_: &PurgeCall) -> PurgeResult {
        let dist = ctx.setting("distribution_id")?;
        let prefix = ctx.settings().get("path_prefix").unwrap_or("");
        let paths = paths(call_, prefix, ctx.dedicated());
        if paths.is_empty() && call_.scope == Scope::Tag {
            return Ok(PurgeReport::note(
                "CloudFront has no tag purge, and the edges held no object with these tags: nothing to invalidate",
            ));
        }
        if paths.is_empty() {
            return Ok(PurgeReport::note("nothing to invalidate: the project has no origin hosts"));
        }
        let url = ctx.api(&format!("{API}/{dist}/invalidation"))?;
        let mut pending = Vec::new();
        let mut shown = Vec::new();
        for (i, batch) in paths.chunks(WILDCARDS_PER_BATCH).enumerate() {
            let reference = format!("{}-{}-{i}", call_.id_text(), call_.attempt);
            let body = xml::invalidation_batch_xml(batch, &reference).map_err(|e| PurgeError::Other(e.to_string()))?;
            let text = call(ctx, "POST", &url, body.as_bytes()).await?;
            ctx.pacing.count_paths(&cloudfront_account(dist), batch.len()).await;
            let inv = xml::parse_create_invalidation(&text).map_err(|e| PurgeError::Other(e.to_string()))?;
            shown.push(format!("{} ({})", inv.id, status_text(&inv.status)));
            if inv.status != InvalidationStatus::Completed {
                pending.push(inv.id);
            }
        }
        let invalidations = if shown.len() == 1 { "invalidation" } else { "invalidations" };
        let sent = crate::domain::count(paths.len() as u64, "path", "paths");
        let note = format!("{}{sent} sent; CloudFront {invalidations} {}", tag_note(call_), shown.join(", "));
        Ok(PurgeReport { pending, ..PurgeReport::note(note) })
    }

    async fn poll(&self, ctx: &Ctx<'_>, pending: &[String]) -> Result<Progress, PurgeError> {
        let dist = ctx.setting("distribution_id")?;
        let mut states = Vec::new();
        let mut running = 0;
        for id in pending {
            let url = ctx.api(&format!("{API}/{dist}/invalidation/{id}"))?;
            let text = call(ctx, "GET", &url, &[]).await?;
            let inv = xml::parse_get_invalidation(&text).map_err(|e| PurgeError::Other(e.to_string()))?;
            if inv.status != InvalidationStatus::Completed {
                running += 1;
            }
            states.push(format!("{} {}", inv.id, status_text(&inv.status)));
        }
        let states = states.join(", ");
        Ok(if running == 0 { Progress::Done(states) } else { Progress::Running(states) })
    }

    /// `GetDistribution`: proves the key and the distribution.
    async fn test(&self, ctx: &Ctx<'_>, _call: &PurgeCall) -> Result<String, PurgeError> {
        let dist = ctx.setting("distribution_id")?;
        let url = ctx.api(&format!("{API}/{dist}"))?;
        let text = call(ctx, "GET", &url, &[]).await?;
        let info = xml::parse_get_distribution(&text).map_err(|e| PurgeError::Other(e.to_string()))?;
        Ok(format!("the key reaches distribution {} ({}, {})", info.id, info.domain_name, info.status))
    }
}

fn status_text(s: &InvalidationStatus) -> &str {
    match s {
        InvalidationStatus::InProgress => "InProgress",
        InvalidationStatus::Completed => "Completed",
        InvalidationStatus::Other(o) => o,
    }
}

/// The answer's body, or why not: busy (wait), or the provider's refusal.
async fn answer(ctx: &Ctx<'_>, resp: Response) -> Result<String, Outcome> {
    let status = resp.status();
    let body = read_bounded(resp).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&body).into_owned();
    if status.is_success() {
        return Ok(text);
    }
    let err = xml::parse_error(&text).ok();
    let code = err.as_ref().map_or("", |e| e.code.as_str()).to_owned();
    let message =
        err.as_ref().map_or_else(|| text.trim().chars().take(200).collect(), |e| format!("{}: {}", e.code, e.message));
    match code.as_str() {
        "TooManyInvalidationsInProgress" => return Err(Busy("too many invalidations in progress")),
        "Throttling" | "ThrottlingException" | "RequestLimitExceeded" => return Err(Busy("throttled")),
        _ => {}
    }
    if status.is_server_error() {
        return Err(Failed(super::tags::server_error(status, &message)));
    }
    let dist = ctx.settings().get("distribution_id").unwrap_or("?");
    let next = match (status, code.as_str()) {
        (_, "NoSuchDistribution") | (StatusCode::NOT_FOUND, _) => format!("distribution {dist} is unknown to this account: check the Distribution ID"),
        (_, "InvalidClientTokenId" | "SignatureDoesNotMatch" | "MissingAuthenticationToken") => {
            "the access key was refused: enter the key ID and its secret again".to_owned()
        }
        (_, "AccessDenied") | (StatusCode::FORBIDDEN, _) => format!(
            "the key may not invalidate distribution {dist}: allow cloudfront:CreateInvalidation, GetInvalidation and GetDistribution"
        ),
        (_, "InvalidationBatchAlreadyExists") => "a batch of this invalidation was sent with other paths: press Retry to send a new attempt".to_owned(),
        _ => "CloudFront refused the request: check the target's settings".to_owned(),
    };
    Err(Failed(super::tags::refused(status.as_u16(), &message, &next)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(scope: Scope, paths: &[&str]) -> PurgeCall {
        super::super::tags::test_call(scope, paths, &["sample.li", "img.example.com"])
    }

    #[test]
    fn every_variant_and_prefix_gets_a_wildcard() {
        let c = call(Scope::Original, &["/sample.li/a.jpg", "/sample.li/dir/*"]);
        assert_eq!(paths(&c, "", false), ["/sample.li/a.jpg*", "/sample.li/dir/*"]);
        assert_eq!(paths(&c, "/demo", false), ["/demo/sample.li/a.jpg*", "/demo/sample.li/dir/*"]);
        let all = call(Scope::All, &[]);
        assert_eq!(paths(&all, "", true), ["/*"]);
        assert_eq!(
            paths(&all, "", false),
            ["/sample.li/*", "/img.example.com/*"],
            "never the whole shared distribution"
        );
    }

    #[test]
    fn a_tag_sends_the_paths_the_edges_reported_or_the_whole_project() {
        let mut tagged = call(Scope::Tag, &["products"]);
        assert_eq!(paths(&tagged, "", false), ["/sample.li/*", "/img.example.com/*"], "unknown: more, never less");
        assert_eq!(paths(&tagged, "", true), ["/*"]);
        assert!(tag_note(&tagged).contains("whole project"));
        tagged.tag_paths = Some(vec!["/sample.li/a.jpg".into(), "/sample.li/b.jpg".into()]);
        assert_eq!(paths(&tagged, "/p", true), ["/p/sample.li/a.jpg*", "/p/sample.li/b.jpg*"]);
        assert!(tag_note(&tagged).contains("paths the edges reported"));
        tagged.tag_paths = Some(vec![]);
        assert!(paths(&tagged, "", false).is_empty());
        assert_eq!(tag_note(&call(Scope::Original, &["/a.jpg"])), "");
    }
}
