//! One job from claim to final status: the two purge steps (resizing
//! servers, then CDN nodes), each target with its retries, every change
//! written under the claim's lease.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::join_all;

use super::lease::Lease;
use super::run::{Worker, WorkerError};
use super::setup::{Setup, SetupCell};
use crate::backend::now_ms;
use crate::backend::purge::{self, PurgeCall};
use crate::backend::store::*;
use crate::backend::verify::VerifyPlan;
use crate::domain::{InvalidationId, PurgeRequest, Scope, Status, Step};

/// The job's changes not stored yet. They are written together (one
/// transaction, each with its own time) just before the worker next calls the
/// outside world, and at the end: a job with one target costs three commits
/// (claim; PREPARING to the first purge step; the results to the final status).
struct Changes<'a> {
    worker: &'a Worker,
    id: InvalidationId,
    lease: &'a Lease,
    pending: Vec<JobChange>,
}

impl<'a> Changes<'a> {
    fn new(worker: &'a Worker, id: InvalidationId, lease: &'a Lease) -> Self {
        Changes { worker, id, lease, pending: Vec::new() }
    }

    fn status(&mut self, status: Status, note: String) {
        self.pending.push(JobChange::Status { status, note: Some(note), at_ms: now_ms() });
    }

    /// `notified`: the project has no hook to call (see [`JobChange::Finish`]).
    fn finish(&mut self, status: Status, error: Option<String>, note: Option<String>, notified: bool) {
        self.pending.push(JobChange::Finish { status, error, note, at_ms: now_ms(), notified });
    }

    async fn flush(&mut self) -> Result<(), WorkerError> {
        if !self.pending.is_empty() {
            let changes = std::mem::take(&mut self.pending);
            self.worker.store.apply(self.id, &self.lease.token, changes).await?;
        }
        Ok(())
    }
}

impl Worker {
    #[tracing::instrument(skip_all, fields(id = %job.id, attempt = job.attempt, worker = %self.cfg.id), err)]
    pub(super) async fn pipeline(
        &self,
        job: &Invalidation,
        lease: &Lease,
        setup: &SetupCell,
        setup_version: Option<i64>,
    ) -> Result<(), WorkerError> {
        let me = self.cfg.id.as_str();
        let mut changes = Changes::new(self, job.id, lease);
        let note = if job.status == Status::Received {
            format!("claimed by {me}")
        } else {
            format!("resumed by {me} after the previous worker's lease expired")
        };
        changes.status(Status::Preparing, note);
        let Some(setup) = self.setup(setup, job.project_id, setup_version).await? else {
            // Its hooks went with it: nothing to notify.
            changes.finish(Status::Error, Some("the project no longer exists".into()), None, true);
            return changes.flush().await;
        };
        let (project, targets) = (&setup.project, setup.targets.clone());
        changes.pending.push(JobChange::Targets { targets: targets.clone(), at_ms: now_ms() });
        // A first attempt never claimed before has no result rows yet: they are
        // the pending rows just queued. Otherwise earlier results count.
        let results = if job.status == Status::Received && job.attempt == 1 {
            targets.iter().map(fresh_result).collect()
        } else {
            changes.flush().await?;
            self.store.target_results(job.id).await?
        };
        let current: HashMap<i64, Target> = targets.into_iter().map(|t| (t.id, t)).collect();
        let req = PurgeCall {
            request: PurgeRequest::new(Some(job.id), &project.token, job.scope, &job.paths),
            attempt: job.attempt,
            soft: project.edge.soft_purge,
            repeat_after: self.cfg.cdn_repeat,
            public_hosts: project
                .edge
                .custom_host
                .iter()
                .filter(|_| !project.edge.custom_host_pending)
                .cloned()
                .collect(),
            origin_hosts: project.origin_hosts.clone(),
            tag_paths: None,
        };
        let mut req = req;

        // Variants the edges named as removed: what verification asks the nodes for.
        let mut known: Vec<String> = Vec::new();
        let mut unverified = Vec::new();
        for step in [Step::ResizingServers, Step::CdnServers] {
            let in_step: Vec<&TargetResult> = results.iter().filter(|r| r.kind.step() == step).collect();
            let pending: Vec<&TargetResult> = in_step
                .iter()
                .copied()
                .filter(|r| matches!(r.state, TargetState::Pending | TargetState::Error))
                .collect();
            changes.status(step.status(), step_note(step, in_step.len(), pending.len()));
            if pending.is_empty() {
                continue;
            }
            // The stored status says which step runs before any target is called.
            changes.flush().await?;
            let plan = (step == Step::CdnServers && project.edge.verify)
                .then(|| VerifyPlan::new(job.scope, &job.paths, &known, project.edge.sign_salt.is_some()));
            // Shields first, tier by tier, then the edges below them (which
            // would fetch a purged copy back from a shield not purged yet);
            // each wave at once. Other kinds have no settings for it: the last wave.
            let last = crate::domain::target::TargetSettings::LAST_WAVE;
            let wave_of = |r: &TargetResult| current.get(&r.target_id).map_or(last, |t| t.settings.purge_wave());
            let mut waves: std::collections::BTreeMap<u64, Vec<&TargetResult>> = Default::default();
            for r in pending.iter().copied() {
                waves.entry(wave_of(r)).or_default().push(r);
            }
            let mut outcomes = Vec::with_capacity(pending.len());
            let mut order = Vec::with_capacity(pending.len());
            for wave in waves.into_values() {
                let calls = wave
                    .iter()
                    .map(|r| self.purge_target(job.id, r, current.get(&r.target_id), &req, plan.as_ref(), lease));
                let done = join_all(calls).await.into_iter().collect::<Result<Vec<_>, _>>()?;
                let stop = done.iter().any(|(o, _)| o.state == TargetState::Error);
                outcomes.extend(done);
                order.extend(wave);
                if stop {
                    break;
                }
            }
            let mut failed = Vec::new();
            // Scope Tag: what CDNs without tag purge get, known in full only
            // when every edge ran in this run and listed its tagged paths.
            let mut tagged = (step == Step::ResizingServers && pending.len() == in_step.len()).then(Vec::new);
            for ((outcome, named), result) in outcomes.into_iter().zip(&order) {
                known.extend(named.urls);
                tagged = tagged.zip(named.tag_paths).map(|(mut all, more)| {
                    all.extend(more);
                    all
                });
                if outcome.verified == Some(false) {
                    unverified.push(result.name.clone());
                }
                self.metrics.purged(&project.token, &result.name, result.kind, outcome.duration_ms, outcome.state);
                if outcome.state == TargetState::Error {
                    // Every member reads the job's error: the status and kind only.
                    let why = outcome.detail.as_deref().map_or("failed".to_owned(), purge::public_detail);
                    failed.push(format!("{} ({why})", result.name));
                }
                changes.pending.push(JobChange::Target { outcome, at_ms: now_ms() });
            }
            if !failed.is_empty() {
                let what = match step {
                    Step::ResizingServers => "resizing server",
                    Step::CdnServers => "CDN node",
                };
                let mut why = format!("{what} purge failed: {}", failed.join("; "));
                if let n @ 1.. = pending.len() - order.len() {
                    why.push_str(&format!(
                        "; {n} edge{} of later tiers not called yet (they would fetch the old copy back from a shield above them)",
                        if n == 1 { "" } else { "s" }
                    ));
                }
                changes.finish(step.failed_status(), Some(why), None, !setup.hooks);
                return changes.flush().await;
            }
            if let Some(mut paths) = tagged.filter(|_| job.scope == Scope::Tag) {
                paths.sort();
                paths.dedup();
                req.tag_paths = Some(paths);
            }
        }
        let done_note = if results.is_empty() {
            "no purge targets are configured for this project: nothing was flushed".to_owned()
        } else if !unverified.is_empty() {
            format!("{} confirmed; NOT verified on {}", all_targets(results.len()), unverified.join(", "))
        } else {
            format!("{} confirmed", all_targets(results.len()))
        };
        changes.finish(Status::Done, None, Some(done_note), !setup.hooks);
        changes.flush().await
    }
}

/// The pending result row [`JobChange::Targets`] stores for `t`.
fn fresh_result(t: &Target) -> TargetResult {
    TargetResult {
        target_id: t.id,
        kind: t.kind,
        name: t.name.clone(),
        state: TargetState::Pending,
        attempts: 0,
        detail: None,
        duration_ms: None,
        updated: chrono::Utc::now(),
        verified: None,
        verify_note: None,
    }
}

fn step_note(step: Step, total: usize, pending: usize) -> String {
    let what = step.what();
    match (total, pending) {
        (0, _) => format!("no {what} targets configured"),
        (t, p) if p == t => {
            format!("purging {}", crate::domain::count(t as u64, &format!("{what} target"), &format!("{what} targets")))
        }
        (t, p) => format!("purging {p} of {t} {what} targets; the others already succeeded"),
    }
}

impl Worker {
    /// The project's setup at `version` (the claim's): kept from an earlier
    /// job when the version has not moved, else read (once per batch) and
    /// kept. `version` `None`: the project was gone at the claim.
    pub(super) async fn setup<'c>(
        &self,
        cell: &'c SetupCell,
        project_id: i64,
        version: Option<i64>,
    ) -> Result<&'c Option<Arc<Setup>>, StoreError> {
        cell.get_or_try_init(|| async {
            if let Some(kept) = version.and_then(|v| self.setups.get(project_id, v)) {
                return Ok(Some(kept));
            }
            self.metrics.setup_reads.increment(1);
            let project = match self.store.project_by_id(project_id).await {
                Ok(project) => project,
                Err(StoreError::NotFound) => {
                    self.setups.forget(project_id);
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            let targets = self.store.list_targets(project.id).await?;
            let hooks = !self.store.list_hooks(project.id).await?.is_empty();
            let setup = Arc::new(Setup { project, targets, hooks });
            if let Some(v) = version {
                self.setups.keep(project_id, v, setup.clone());
            }
            Ok(Some(setup))
        })
        .await
    }
}

/// "the 1 target", "all 3 targets".
fn all_targets(n: usize) -> String {
    if n == 1 {
        "the 1 target".to_owned()
    } else {
        format!("all {n} targets")
    }
}
