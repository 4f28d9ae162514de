//! The purge worker: a loop around [`Worker::try_execute_task`], stopped by a
//! cancellation token. Jobs are leases: each claim gets a fresh token that
//! every write checks, a heartbeat keeps it alive, and a worker that dies
//! simply lets it expire. A task that cannot renew its lease stops calling
//! targets before the lease ends, so two claims never purge at the same time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::network::NetworkPolicy;
use super::now_ms;
use super::purge::{self, PurgeRequest};
use super::store::*;
use crate::domain::{Status, Step};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub id: String,
    pub lease: Duration,
    /// Fallback poll for jobs whose lease expired or whose wake-up was missed.
    pub poll: Duration,
    pub concurrency: usize,
    pub target_timeout: Duration,
    /// Calls per target and run before the invalidation enters an error status.
    pub max_attempts: u32,
    pub backoff: Duration,
    /// Claims of one attempt after which a job that keeps losing its workers
    /// (a crash, a hang) ends `ERROR` instead of being claimed forever.
    pub max_claims: u32,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            id: format!("worker-{}", uuid::Uuid::new_v4().simple()),
            lease: Duration::from_secs(30),
            poll: Duration::from_secs(2),
            concurrency: 16,
            target_timeout: Duration::from_secs(10),
            max_attempts: 3,
            backoff: Duration::from_millis(500),
            max_claims: 5,
        }
    }
}

/// Why a task stopped before its job reached a final status.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// Another claim owns the job now; this task must stop touching it.
    #[error("lease lost")]
    LeaseLost,
    /// The lease could not be renewed (the database is away) and is about to
    /// end: the task stopped calling targets so the next claim can take over.
    #[error("the lease could not be renewed before it ended")]
    LeaseExpiring,
    /// A transient failure (the database went away); the job resumes once
    /// its lease expires, here or on another worker.
    #[error("transient failure: {0}")]
    Retryable(StoreError),
    /// Retrying will not help (a corrupt row, a vanished record).
    #[error("cannot run this job: {0}")]
    Fatal(String),
}

impl From<StoreError> for WorkerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::LeaseLost => WorkerError::LeaseLost,
            e @ (StoreError::Database(_) | StoreError::Unavailable(_)) => WorkerError::Retryable(e),
            other => WorkerError::Fatal(other.to_string()),
        }
    }
}

#[derive(Clone)]
pub struct Worker {
    store: DynStore,
    wake: Arc<Notify>,
    client: reqwest::Client,
    network: Arc<NetworkPolicy>,
    cfg: Arc<WorkerConfig>,
}

impl Worker {
    pub fn new(store: DynStore, wake: Arc<Notify>, cfg: WorkerConfig) -> Self {
        let network = NetworkPolicy::public_only();
        let client = purge::client(cfg.target_timeout, &network);
        Worker { store, wake, client, network: Arc::new(network), cfg: Arc::new(cfg) }
    }

    /// Lets purges reach `policy`'s networks besides public addresses
    /// (the operator's `targets.allowed_networks`).
    pub fn with_network(mut self, policy: NetworkPolicy) -> Self {
        self.client = purge::client(self.cfg.target_timeout, &policy);
        self.network = Arc::new(policy);
        self
    }

    pub fn id(&self) -> &str {
        &self.cfg.id
    }

    /// Runs `concurrency` lanes, each a loop around [`Self::try_execute_task`],
    /// until `cancel` fires; then waits for the jobs in hand.
    pub async fn run(self, cancel: CancellationToken) {
        if let Err(e) = self.store.listen_for_jobs(self.wake.clone()).await {
            tracing::warn!(error = %e, "cross-instance wake-ups unavailable; polling only");
        }
        tracing::info!(worker = %self.cfg.id, "worker started");
        let mut lanes = JoinSet::new();
        for _ in 0..self.cfg.concurrency.max(1) {
            lanes.spawn(self.clone().lane(cancel.clone()));
        }
        while lanes.join_next().await.is_some() {}
        tracing::info!(worker = %self.cfg.id, "worker stopped");
    }

    /// One job at a time: run jobs while there are any, then sleep until a
    /// wake-up, the fallback poll, or cancellation.
    async fn lane(self, cancel: CancellationToken) {
        while !cancel.is_cancelled() {
            match self.try_execute_task().await {
                Ok(Some(_)) | Err(WorkerError::LeaseLost | WorkerError::LeaseExpiring) => continue,
                Ok(None) => {}
                Err(WorkerError::Retryable(e)) => tracing::warn!(error = %e, "worker backing off"),
                Err(WorkerError::Fatal(e)) => tracing::error!(error = %e, "job failed"),
            }
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.cfg.poll) => {}
            }
        }
    }

    /// Claims one job and drives it to a final status. `Ok(None)`: nothing to do.
    pub async fn try_execute_task(&self) -> Result<Option<Invalidation>, WorkerError> {
        let lease_ms = self.cfg.lease.as_millis() as i64;
        let token = LeaseToken::new();
        let Some(claimed) = self.store.claim(&self.cfg.id, &token, now_ms(), lease_ms).await? else {
            return Ok(None);
        };
        // There may be more: let an idle lane look while this one works.
        self.wake.notify_one();
        let job = claimed.job.clone();
        if claimed.claims > self.cfg.max_claims as i32 {
            let abandoned = claimed.claims - 1;
            let msg = format!(
                "abandoned by {abandoned} workers in a row: each claim ended without a final status \
                 (a worker crashed, hung or lost the database) while in {}; Retry runs it again",
                job.status.code()
            );
            tracing::error!(id = %job.id, claims = claimed.claims, "giving up on a poison job");
            self.store.finish(job.id, &claimed.lease, Status::Error, Some(&msg), None, now_ms()).await?;
            return Ok(Some(job));
        }
        self.execute(claimed).await?;
        Ok(Some(job))
    }

    /// How long before the lease ends a task that could not renew it stops
    /// calling targets (and drops the calls in flight).
    fn margin(&self) -> i64 {
        (self.cfg.lease.as_millis() as i64 / 5).max(1)
    }

    async fn execute(&self, claimed: Claimed) -> Result<(), WorkerError> {
        let lease =
            Lease { token: claimed.lease, until_ms: AtomicI64::new(claimed.lease_until_ms), margin: self.margin() };
        let job = claimed.job;
        // The heartbeat lives inside the job's future: if the job is dropped
        // (worker killed), the lease stops being renewed and expires. When the
        // heartbeat gives up, the pipeline (and any purge call in flight) is dropped.
        let result = tokio::select! {
            r = self.pipeline(&job, &lease) => r,
            lost = heartbeat(self, job.id, &lease) => Err(lost),
        };
        match &result {
            Ok(()) => {}
            Err(WorkerError::LeaseLost) => {
                tracing::warn!(id = %job.id, "lease lost; another worker owns the job now")
            }
            Err(e) => {
                tracing::error!(id = %job.id, error = %e, "job interrupted; it resumes when the lease expires")
            }
        }
        result
    }

    #[tracing::instrument(skip_all, fields(id = %job.id, attempt = job.attempt, worker = %self.cfg.id), err)]
    async fn pipeline(&self, job: &Invalidation, lease: &Lease) -> Result<(), WorkerError> {
        let me = self.cfg.id.as_str();
        let token = &lease.token;
        let note = if job.status == Status::Received {
            format!("claimed by {me}")
        } else {
            format!("resumed by {me} after the previous worker's lease expired")
        };
        self.store.transition(job.id, token, Status::Preparing, Some(&note), now_ms()).await?;
        let project = match self.store.project_by_id(job.project_id).await {
            Ok(p) => p,
            Err(StoreError::NotFound) => {
                self.store
                    .finish(job.id, token, Status::Error, Some("the project no longer exists"), None, now_ms())
                    .await?;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let targets = self.store.list_targets(project.id).await?;
        self.store.resolve_targets(job.id, token, &targets, now_ms()).await?;
        let results = self.store.target_results(job.id).await?;
        let current: HashMap<i64, Target> = targets.into_iter().map(|t| (t.id, t)).collect();
        let req = PurgeRequest {
            invalidation_id: job.id,
            token: project.token.clone(),
            scope: job.scope,
            paths: job.paths.clone(),
            soft: project.edge.soft_purge,
        };

        for step in [Step::ResizingServers, Step::CdnServers] {
            let in_step: Vec<&TargetResult> = results.iter().filter(|r| r.kind.step() == step).collect();
            let pending: Vec<&TargetResult> = in_step
                .iter()
                .copied()
                .filter(|r| matches!(r.state, TargetState::Pending | TargetState::Error))
                .collect();
            let note = step_note(step, in_step.len(), pending.len());
            self.store.transition(job.id, token, step.status(), Some(&note), now_ms()).await?;
            let outcomes =
                join_all(pending.iter().map(|r| self.purge_target(r, current.get(&r.target_id), &req, lease))).await;
            let outcomes = outcomes.into_iter().collect::<Result<Vec<_>, _>>()?;
            let mut failed = Vec::new();
            for (outcome, result) in outcomes.iter().zip(&pending) {
                self.store.record_target_result(job.id, token, outcome, now_ms()).await?;
                if outcome.state == TargetState::Error {
                    // Every member reads the job's error: the status and kind only.
                    let why = outcome.detail.as_deref().map_or("failed".to_owned(), purge::public_detail);
                    failed.push(format!("{} ({why})", result.name));
                }
            }
            if !failed.is_empty() {
                let (status, what) = match step {
                    Step::ResizingServers => (Status::Error, "resizing server"),
                    Step::CdnServers => (Status::ErrorCdnNode, "CDN node"),
                };
                let msg = format!("{what} purge failed: {}", failed.join("; "));
                self.store.finish(job.id, token, status, Some(&msg), None, now_ms()).await?;
                return Ok(());
            }
        }
        let done_note = if results.is_empty() {
            "no purge targets are configured for this project: nothing was flushed".to_owned()
        } else {
            format!("all {} targets confirmed", results.len())
        };
        self.store.finish(job.id, token, Status::Done, None, Some(&done_note), now_ms()).await?;
        Ok(())
    }

    /// Calls one target up to `max_attempts` times with exponential backoff;
    /// starts no call once the lease is about to end.
    async fn purge_target(
        &self,
        result: &TargetResult,
        target: Option<&Target>,
        req: &PurgeRequest,
        lease: &Lease,
    ) -> Result<TargetOutcome, WorkerError> {
        let started = Instant::now();
        let Some(target) = target.filter(|t| t.kind == result.kind) else {
            return Ok(TargetOutcome {
                target_id: result.target_id,
                state: TargetState::Skipped,
                attempts: 0,
                detail: Some("the target was removed from the project".into()),
                duration_ms: 0,
            });
        };
        let mut attempts = 0;
        let mut delay = self.cfg.backoff;
        let (state, detail) = loop {
            if !lease.usable(now_ms()) {
                return Err(WorkerError::LeaseExpiring);
            }
            attempts += 1;
            match purge::purge(&self.client, &self.network, target, req).await {
                Ok(report) => break (TargetState::Ok, report.note),
                Err(e) if attempts >= self.cfg.max_attempts => break (TargetState::Error, e.to_string()),
                Err(e) => {
                    tracing::info!(target = %target.name, attempt = attempts, error = %e, "purge failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
            }
        };
        Ok(TargetOutcome {
            target_id: target.id,
            state,
            attempts: attempts as i32,
            detail: Some(detail),
            duration_ms: started.elapsed().as_millis() as i64,
        })
    }
}

fn step_note(step: Step, total: usize, pending: usize) -> String {
    let what = match step {
        Step::ResizingServers => "resizing server",
        Step::CdnServers => "CDN",
    };
    match (total, pending) {
        (0, _) => format!("no {what} targets configured"),
        (t, p) if p == t => format!("purging {t} {what} target(s)"),
        (t, p) => format!("purging {p} of {t} {what} target(s); the others already succeeded"),
    }
}

/// One claim's lease as this task knows it: the token and the end of the
/// lease last confirmed by the database.
struct Lease {
    token: LeaseToken,
    until_ms: AtomicI64,
    /// Stop calling targets this long before `until_ms`.
    margin: i64,
}

impl Lease {
    /// When this task must have stopped calling targets.
    fn stop_at(&self) -> i64 {
        self.until_ms.load(Ordering::SeqCst) - self.margin
    }

    /// Whether a purge call may still start at `now`.
    fn usable(&self, now: i64) -> bool {
        now < self.stop_at()
    }
}

/// Renews the lease every third of its length; returns only once it is lost,
/// or once it could not be renewed and is about to end.
async fn heartbeat(worker: &Worker, id: crate::domain::InvalidationId, lease: &Lease) -> WorkerError {
    let every = worker.cfg.lease / 3;
    let retry = (every / 4).max(Duration::from_millis(50));
    let mut wait = every;
    loop {
        // Never sleep past the moment this task has to stop.
        let left = lease.stop_at() - now_ms();
        if left <= 0 {
            tracing::error!(%id, "lease could not be renewed; stopping before it ends");
            return WorkerError::LeaseExpiring;
        }
        tokio::time::sleep(wait.min(Duration::from_millis(left as u64))).await;
        let left = lease.stop_at() - now_ms();
        if left <= 0 {
            continue;
        }
        let until = now_ms() + worker.cfg.lease.as_millis() as i64;
        let renew = worker.store.extend_lease(id, &lease.token, until);
        match tokio::time::timeout(Duration::from_millis(left as u64), renew).await {
            Ok(Ok(())) => {
                lease.until_ms.store(until, Ordering::SeqCst);
                wait = every;
            }
            Ok(Err(StoreError::LeaseLost)) => return WorkerError::LeaseLost,
            Ok(Err(e)) => {
                tracing::warn!(%id, error = %e, "lease heartbeat failed; retrying");
                wait = retry;
            }
            Err(_) => {
                tracing::warn!(%id, "lease heartbeat timed out; retrying");
                wait = retry;
            }
        }
    }
}
