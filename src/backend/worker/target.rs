//! One target of a job: its calls with retries, a provider that finishes
//! later followed until done, a provider's rate limit waited out or given
//! way to, and the verification that follows.

use std::time::Instant;
use tracing::Instrument;

use super::lease::Lease;
use super::run::{Worker, WorkerError};
use crate::backend::now_ms;
use crate::backend::purge::{Progress, PurgeCall, PurgeError};
use crate::backend::store::*;
use crate::backend::verify::{self, VerifyPlan};
use crate::domain::InvalidationId;

/// What a target named besides its outcome: removed variants (edges), which
/// verification asks the CDN nodes for, and under scope Tag the paths that
/// carried the tags (`None`: not known in full).
#[derive(Debug, Default)]
pub(super) struct Named {
    pub urls: Vec<String>,
    pub tag_paths: Option<Vec<String>>,
}

/// How long a job held by a provider's rate limit waits before it runs again.
/// (When the provider did not say for how long.)
const GIVE_WAY_FOR: std::time::Duration = std::time::Duration::from_secs(30);
const MIN_GIVE_WAY: std::time::Duration = std::time::Duration::from_secs(1);

impl Worker {
    /// Calls one target up to `max_attempts` times with exponential backoff
    /// (a refusal no retry can fix ends it at once); starts no call once the
    /// lease is about to end. A provider that finishes later is then polled,
    /// its progress written as it comes. With a `plan`, a purged verifiable
    /// target is then asked for the purged URLs (verification). Also returns
    /// what the target named (see [`Named`]).
    pub(super) async fn purge_target(
        &self,
        id: InvalidationId,
        result: &TargetResult,
        target: Option<&Target>,
        req: &PurgeCall,
        plan: Option<&VerifyPlan>,
        lease: &Lease,
    ) -> Result<(TargetOutcome, Named), WorkerError> {
        let started = Instant::now();
        let Some(target) = target.filter(|t| t.kind == result.kind) else {
            let outcome = TargetOutcome {
                target_id: result.target_id,
                state: TargetState::Skipped,
                attempts: 0,
                detail: Some("the target was removed from the project".into()),
                duration_ms: 0,
                verified: None,
                verify_note: None,
            };
            return Ok((outcome, Named::default()));
        };
        let mut attempts = 0;
        let mut delay = self.cfg.backoff;
        let (mut state, mut detail, named, pending) = loop {
            if !lease.usable() {
                return Err(WorkerError::LeaseExpiring);
            }
            attempts += 1;
            let call = tracing::info_span!(
                "purge call",
                target = %target.name,
                kind = ?target.kind,
                attempt = attempts,
                otel.status_code = tracing::field::Empty,
                error = tracing::field::Empty,
            );
            let answer =
                self.purger.purge(target, req, Instant::now() + self.cfg.provider_wait).instrument(call.clone()).await;
            match &answer {
                Ok(_) => call.record("otel.status_code", "OK"),
                Err(e) => call.record("otel.status_code", "ERROR").record("error", tracing::field::display(e)),
            };
            match answer {
                Ok(report) => {
                    let named = Named { urls: report.urls, tag_paths: report.tag_paths };
                    break (TargetState::Ok, report.note, named, report.pending);
                }
                Err(PurgeError::RateLimited(busy)) => {
                    return self.give_way(id, target, busy, attempts, started, lease).await
                }
                Err(e) if e.is_final() || attempts >= self.cfg.max_attempts => {
                    break (TargetState::Error, e.to_string(), Named::default(), Vec::new())
                }
                Err(e) => {
                    tracing::info!(target = %target.name, attempt = attempts, error = %e, "purge failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
            }
        };
        if !pending.is_empty() {
            (state, detail) = self.await_provider(id, target, &pending, detail, attempts, started, lease).await?;
        }
        let duration_ms = started.elapsed().as_millis() as i64;
        let base = verify::base_url(target, &req.token);
        let proof = match (plan, base) {
            (Some(plan), Some(base)) if state == TargetState::Ok => {
                Some(verify::verify(self.purger.client(), self.purger.network(), &base, plan, started).await)
            }
            _ => None,
        };
        let outcome = TargetOutcome {
            target_id: target.id,
            state,
            attempts: attempts as i32,
            detail: Some(detail),
            duration_ms,
            verified: proof.as_ref().and_then(|p| p.verified),
            verify_note: proof.map(|p| p.note),
        };
        Ok((outcome, named))
    }

    /// Says on the target's row that the provider's rate limit holds it, and
    /// gives the job back to run again later ([`WorkerError::GiveWay`]).
    async fn give_way<T>(
        &self,
        id: InvalidationId,
        target: &Target,
        busy: Option<std::time::Duration>,
        attempts: u32,
        started: Instant,
        lease: &Lease,
    ) -> Result<T, WorkerError> {
        // Back when the call can wait out the rest inline.
        let wait = busy.map_or(GIVE_WAY_FOR, |b| b.saturating_sub(self.cfg.provider_wait / 2)).max(MIN_GIVE_WAY);
        let outcome = TargetOutcome {
            target_id: target.id,
            state: TargetState::Pending,
            attempts: attempts as i32,
            detail: Some(format!(
                "waiting for the provider's rate limit (429 or the account's call rate); runs again in {} s",
                wait.as_secs()
            )),
            duration_ms: started.elapsed().as_millis() as i64,
            verified: None,
            verify_note: None,
        };
        self.store.apply(id, &lease.token, vec![JobChange::Target { outcome, at_ms: now_ms() }]).await?;
        Err(WorkerError::GiveWay(wait))
    }

    /// Polls a provider that accepted a purge and finishes it later, writing
    /// each new state on the target's row (the details page shows it live),
    /// until it is done or the lease is about to end (the job then resumes,
    /// and the provider recognises the same purge by its reference).
    #[allow(clippy::too_many_arguments)]
    async fn await_provider(
        &self,
        id: InvalidationId,
        target: &Target,
        pending: &[String],
        accepted: String,
        attempts: u32,
        started: Instant,
        lease: &Lease,
    ) -> Result<(TargetState, String), WorkerError> {
        let mut shown = String::new();
        let mut note = accepted.clone();
        loop {
            if note != shown {
                let outcome = TargetOutcome {
                    target_id: target.id,
                    state: TargetState::Pending,
                    attempts: attempts as i32,
                    detail: Some(note.clone()),
                    duration_ms: started.elapsed().as_millis() as i64,
                    verified: None,
                    verify_note: None,
                };
                self.store.apply(id, &lease.token, vec![JobChange::Target { outcome, at_ms: now_ms() }]).await?;
                shown = note.clone();
            }
            tokio::time::sleep(self.cfg.provider_poll).await;
            if !lease.usable() {
                return Err(WorkerError::LeaseExpiring);
            }
            match self.purger.poll(target, pending, Instant::now() + self.cfg.provider_wait).await {
                Ok(Progress::Done(done)) => return Ok((TargetState::Ok, format!("{accepted}; {done}"))),
                Ok(Progress::Running(running)) => note = format!("{accepted}; {running}"),
                Err(PurgeError::RateLimited(busy)) => {
                    return self.give_way(id, target, busy, attempts, started, lease).await
                }
                Err(e) if e.is_final() => return Ok((TargetState::Error, e.to_string())),
                Err(e) => {
                    tracing::info!(target = %target.name, error = %e, "polling the provider failed; trying again")
                }
            }
        }
    }
}
