//! The purge worker: a loop around [`Worker::try_execute_task`], stopped by a
//! cancellation token. Jobs are leases: every write checks the lease owner, a
//! heartbeat keeps it alive, and a worker that dies simply lets it expire.

use std::collections::HashMap;
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
        }
    }
}

/// Why a task stopped before its job reached a final status.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// Another claim owns the job now; this task must stop touching it.
    #[error("lease lost")]
    LeaseLost,
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
            e @ StoreError::Database(_) => WorkerError::Retryable(e),
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
                Ok(Some(_)) | Err(WorkerError::LeaseLost) => continue,
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
        let lease = self.cfg.lease.as_millis() as i64;
        let Some(job) = self.store.claim(&self.cfg.id, now_ms(), lease).await? else {
            return Ok(None);
        };
        // There may be more: let an idle lane look while this one works.
        self.wake.notify_one();
        self.execute(job.clone()).await?;
        Ok(Some(job))
    }

    async fn execute(&self, job: Invalidation) -> Result<(), WorkerError> {
        // The heartbeat lives inside the job's future: if the job is dropped
        // (worker killed), the lease stops being renewed and expires.
        let result = tokio::select! {
            r = self.pipeline(&job) => r,
            lost = heartbeat(self, job.id) => Err(lost),
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
    async fn pipeline(&self, job: &Invalidation) -> Result<(), WorkerError> {
        let me = self.cfg.id.as_str();
        let note = if job.status == Status::Received {
            format!("claimed by {me}")
        } else {
            format!("resumed by {me} after the previous worker's lease expired")
        };
        self.store.transition(job.id, me, Status::Preparing, Some(&note), now_ms()).await?;
        let project = match self.store.project_by_id(job.project_id).await {
            Ok(p) => p,
            Err(StoreError::NotFound) => {
                self.store
                    .finish(job.id, me, Status::Error, Some("the project no longer exists"), None, now_ms())
                    .await?;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let targets = self.store.list_targets(project.id).await?;
        self.store.resolve_targets(job.id, me, &targets, now_ms()).await?;
        let results = self.store.target_results(job.id).await?;
        let current: HashMap<i64, Target> = targets.into_iter().map(|t| (t.id, t)).collect();
        let req = PurgeRequest {
            invalidation_id: job.id,
            token: project.token.clone(),
            scope: job.scope,
            paths: job.paths.clone(),
        };

        for step in [Step::ResizingServers, Step::CdnServers] {
            let in_step: Vec<&TargetResult> = results.iter().filter(|r| r.kind.step() == step).collect();
            let pending: Vec<&TargetResult> = in_step
                .iter()
                .copied()
                .filter(|r| matches!(r.state, TargetState::Pending | TargetState::Error))
                .collect();
            let note = step_note(step, in_step.len(), pending.len());
            self.store.transition(job.id, me, step.status(), Some(&note), now_ms()).await?;
            let outcomes =
                join_all(pending.iter().map(|r| self.purge_target(r, current.get(&r.target_id), &req))).await;
            let mut failed = Vec::new();
            for (outcome, result) in outcomes.iter().zip(&pending) {
                self.store.record_target_result(job.id, me, outcome, now_ms()).await?;
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
                self.store.finish(job.id, me, status, Some(&msg), None, now_ms()).await?;
                return Ok(());
            }
        }
        let done_note = if results.is_empty() {
            "no purge targets are configured for this project: nothing was flushed".to_owned()
        } else {
            format!("all {} targets confirmed", results.len())
        };
        self.store.finish(job.id, me, Status::Done, None, Some(&done_note), now_ms()).await?;
        Ok(())
    }

    /// Calls one target up to `max_attempts` times with exponential backoff.
    async fn purge_target(&self, result: &TargetResult, target: Option<&Target>, req: &PurgeRequest) -> TargetOutcome {
        let started = Instant::now();
        let Some(target) = target.filter(|t| t.kind == result.kind) else {
            return TargetOutcome {
                target_id: result.target_id,
                state: TargetState::Skipped,
                attempts: 0,
                detail: Some("the target was removed from the project".into()),
                duration_ms: 0,
            };
        };
        let mut attempts = 0;
        let mut delay = self.cfg.backoff;
        let (state, detail) = loop {
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
        TargetOutcome {
            target_id: target.id,
            state,
            attempts: attempts as i32,
            detail: Some(detail),
            duration_ms: started.elapsed().as_millis() as i64,
        }
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

/// Renews the lease every third of its length; returns only once it is lost.
async fn heartbeat(worker: &Worker, id: crate::domain::InvalidationId) -> WorkerError {
    let every = worker.cfg.lease / 3;
    loop {
        tokio::time::sleep(every).await;
        let until = now_ms() + worker.cfg.lease.as_millis() as i64;
        match worker.store.extend_lease(id, &worker.cfg.id, until).await {
            Ok(()) => {}
            Err(StoreError::LeaseLost) => return WorkerError::LeaseLost,
            Err(e) => tracing::warn!(error = %e, "lease heartbeat failed"),
        }
    }
}
