//! The one trait every purge driver implements, what a call to it carries,
//! and the registry that names each kind's driver.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::{Client, RequestBuilder, Response, StatusCode, Url};

use super::coalesce::Coalescer;
use super::pacing::{Pacing, Rate};
use super::report::{describe, PurgeCall, PurgeError, PurgeResult};
use crate::backend::model::Target;
use crate::backend::vault::Credentials;
use crate::domain::probe::{ProbeAnswer, ProbeRequest};
use crate::domain::TargetSettings;

/// Everything a driver may use for one call: the client (which reaches only
/// the allowed networks), the target, its opened credentials and the time
/// the call may take (a job's lease, a test's ten seconds).
pub struct Ctx<'a> {
    pub client: &'a Client,
    pub target: &'a Target,
    /// The target's URL, parsed and checked against the allowed networks.
    pub url: Url,
    pub creds: Credentials,
    pub pacing: &'a Pacing,
    /// Packs jobs' purges of this target into shared calls.
    pub coalescer: &'a Coalescer,
    /// Past this, a driver starts no new call (waiting on a rate limit or on
    /// a provider that finishes later gives up, and the job runs again).
    pub deadline: Instant,
}

impl Ctx<'_> {
    pub fn settings(&self) -> &TargetSettings {
        &self.target.settings
    }

    /// A setting the kind requires (checked when the target was saved).
    pub fn setting(&self, key: &str) -> Result<&str, PurgeError> {
        self.target.settings.get(key).ok_or_else(|| PurgeError::Credentials(format!("the target has no {key}")))
    }

    pub fn credential(&self, key: &str) -> Result<&str, PurgeError> {
        self.creds.require(key).map_err(|e| PurgeError::Credentials(e.to_string()))
    }

    /// `path` under the target's URL (`{url}/zones/…`), whatever its trailing slash.
    pub fn api(&self, path: &str) -> Result<Url, PurgeError> {
        let base = self.url.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path}")).map_err(|_| PurgeError::Other("invalid URL".into()))
    }

    /// Sends one provider call built by `build` within `rate`: a `429` waits for
    /// its `Retry-After` (held for every caller of the account) and tries again,
    /// until the call's deadline; any other answer is returned for the driver to
    /// read. Timeouts and unreachable hosts are errors the worker retries.
    pub async fn send(&self, rate: Option<&Rate>, build: impl Fn() -> RequestBuilder) -> Result<Response, PurgeError> {
        let ctx = self;
        loop {
            if let Some(rate) = rate {
                ctx.pacing.wait_for_slot(rate, ctx.deadline).await?;
            }
            let resp = build().send().await.map_err(|e| describe(e.without_url()))?;
            if resp.status() != StatusCode::TOO_MANY_REQUESTS {
                return Ok(resp);
            }
            let wait = retry_after_of(&resp).unwrap_or(Duration::from_secs(1));
            tracing::info!(target = %ctx.target.name, wait_ms = wait.as_millis() as u64, "the provider answered 429; waiting");
            if let Some(rate) = rate {
                ctx.pacing.hold(rate, wait).await;
            }
            if Instant::now() + wait > ctx.deadline {
                return Err(PurgeError::RateLimited(Some(wait)));
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Whether scope All may empty everything the target caches.
    pub fn dedicated(&self) -> bool {
        self.target.settings.flag("dedicated")
    }
}

/// `Retry-After` in seconds (capped at ten minutes); dates count as one second.
fn retry_after_of(resp: &Response) -> Option<Duration> {
    let value = resp.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let secs = value.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).unwrap_or(1.0);
    Some(Duration::from_secs_f64(secs.min(600.0)))
}

/// Where a purge the provider finishes later stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Every pending purge is done.
    Done(String),
    /// Still running: a note for the details page (the provider's state).
    Running(String),
}

/// A target kind's purge contract.
#[async_trait]
pub trait Driver: Send + Sync {
    /// Purges the call's paths (or token) on the target.
    async fn purge(&self, ctx: &Ctx<'_>, call: &PurgeCall) -> PurgeResult;

    /// A harmless call that proves the address, the credentials and the
    /// zone: by default, a purge of a path no image has.
    async fn test(&self, ctx: &Ctx<'_>, call: &PurgeCall) -> Result<String, PurgeError> {
        self.purge(ctx, call).await.map(|report| report.note)
    }

    /// What a purge of `call` would remove (objects, bytes), removing
    /// nothing; `None`: the kind cannot say (only edges hold an index).
    async fn count(&self, _ctx: &Ctx<'_>, _call: &PurgeCall) -> Result<Option<(u64, u64)>, PurgeError> {
        Ok(None)
    }

    /// Asks the node, from its cache only (never filling it), whether it
    /// holds the variant `query` of `path`; `None`: the kind cannot be asked.
    async fn probe(&self, _ctx: &Ctx<'_>, _req: &ProbeRequest) -> Result<Option<ProbeAnswer>, PurgeError> {
        Ok(None)
    }

    /// Asks the provider about purges it accepted but had not finished
    /// (the report's `pending` IDs); kinds that finish at once never are.
    async fn poll(&self, _ctx: &Ctx<'_>, _pending: &[String]) -> Result<Progress, PurgeError> {
        Ok(Progress::Done("done".into()))
    }
}
