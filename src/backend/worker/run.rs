//! The purge worker: a loop around [`Worker::try_execute_batch`], stopped by a
//! cancellation token. Jobs are leases: each claim gets a fresh token that
//! every write checks, a heartbeat keeps it alive, and a worker that dies
//! simply lets it expire. A task that cannot renew its lease stops calling
//! targets before the lease ends, so two claims never purge at the same time.

use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::lease::Lease;
use super::metrics::WorkerMetrics;
use super::setup::{SetupCache, SetupCell};
use crate::backend::handoff::Handoff;
use crate::backend::network::NetworkPolicy;
use crate::backend::now_ms;
use crate::backend::purge;
use crate::backend::store::*;
use crate::domain::Status;

/// Jobs a lane claims at once when there is a backlog (growing up to
/// [`MAX_CLAIM_BATCH`] while it lasts).
pub const CLAIM_BATCH: usize = 4;
/// While a backlog lasts (each claim comes back full), a lane doubles its
/// claim up to this many jobs, and goes back to [`CLAIM_BATCH`] at the first
/// claim that is not full. A lane waits for its whole batch before claiming
/// again, so with jobs that only touch the database (no target, or targets
/// that answer at once) the claim's own commit is most of a round: with 4
/// jobs a round, a backlog drained more slowly than the API filled it on
/// SQLite at 8,700 submissions a second, and once a backlog formed (new jobs
/// then queue instead of being handed over) it grew for as long as the load
/// lasted. Sixteen a round quarters the claims' share. `concurrency` lanes
/// hold at most `concurrency × MAX_CLAIM_BATCH` jobs, and as many may run
/// handed over (`handoff.rs`). With 4 × `concurrency` slots there, the
/// submissions of a short stall of SQLite's writer (its WAL started over)
/// overflowed into the queue, which closes the handoff until the lanes have
/// emptied it.
pub const MAX_CLAIM_BATCH: usize = 16;

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
    /// Purge CDN nodes once more this long after their first purge (see
    /// `purge::varnish`); `None`: once. Off here, so tests count one purge per
    /// node; the server's `worker.cdn_repeat_ms` (1000 by default) sets it.
    pub cdn_repeat: Option<Duration>,
    /// How often a provider that finishes purges later (CloudFront) is asked
    /// where they stand.
    pub provider_poll: Duration,
    /// How long a provider call may wait for its account's rate limit (or a
    /// `429`'s `Retry-After`) before the job gives way and runs again later.
    pub provider_wait: Duration,
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
            cdn_repeat: None,
            provider_poll: Duration::from_secs(2),
            provider_wait: Duration::from_secs(300),
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
    /// A provider's rate limit outlasted the time a call may wait: the job
    /// gives its lease back and runs again this much later (not a failure,
    /// not an abandoned claim).
    #[error("waiting for a provider's rate limit")]
    GiveWay(Duration),
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
    pub(super) store: DynStore,
    pub(super) wake: Arc<Notify>,
    /// Purges every kind of target (allowed networks, credential key, pacing).
    pub(super) purger: purge::Purger,
    pub(super) cfg: Arc<WorkerConfig>,
    pub(super) metrics: WorkerMetrics,
    /// The projects' setups, shared by the lanes.
    pub(super) setups: Arc<SetupCache>,
    /// New jobs handed straight to this worker by this process's submissions.
    pub(super) handoff: Option<Handoff>,
}

impl Worker {
    pub fn new(store: DynStore, wake: Arc<Notify>, cfg: WorkerConfig) -> Self {
        let purger = purge::Purger::new(cfg.target_timeout, NetworkPolicy::public_only())
            .with_pacing(purge::Pacing::new(store.clone()));
        Worker {
            store,
            wake,
            purger,
            cfg: Arc::new(cfg),
            metrics: Default::default(),
            setups: Default::default(),
            handoff: None,
        }
    }

    /// Jobs submitted through `invalidations` while a lane of this worker is
    /// idle are stored leased to it and handed over in memory (see
    /// `handoff.rs`), at most as many at once as the lanes could claim.
    pub fn take_new_jobs_from(mut self, invalidations: &crate::backend::invalidations::InvalidationService) -> Self {
        let handoff = Handoff::new(&self.cfg.id, self.cfg.lease, self.cfg.concurrency.max(1) * MAX_CLAIM_BATCH);
        invalidations.hand_new_jobs_to(handoff.clone());
        self.handoff = Some(handoff);
        self
    }

    /// Lets purges reach `policy`'s networks besides public addresses
    /// (the operator's `targets.allowed_networks`).
    pub fn with_network(mut self, policy: NetworkPolicy) -> Self {
        self.purger = self.purger.with_network(policy);
        self
    }

    /// Opens providers' credentials with the operator's key.
    pub fn with_vault(mut self, vault: crate::backend::vault::Vault) -> Self {
        self.purger = self.purger.with_vault(vault);
        self
    }

    /// Records into `metrics`' handles (a no-op recorder by default).
    pub fn with_metrics(mut self, metrics: WorkerMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn id(&self) -> &str {
        &self.cfg.id
    }

    /// Runs `concurrency` lanes, each a loop around [`Self::try_execute_batch`],
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
        if let Some(jobs) = self.handoff.as_ref().and_then(Handoff::take_receiver) {
            lanes.spawn(self.clone().handed(jobs, cancel.clone()));
        }
        while lanes.join_next().await.is_some() {}
        tracing::info!(worker = %self.cfg.id, "worker stopped");
    }

    /// Drives a claimed job to a final status (or ends a poison job); `sent`:
    /// when its claim was sent, on this process's monotonic clock.
    pub(super) async fn run_claimed(
        &self,
        claimed: Claimed,
        sent: Instant,
        setup: &SetupCell,
    ) -> Result<Invalidation, WorkerError> {
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
            return Ok(job);
        }
        self.execute(claimed, sent, setup).await?;
        Ok(job)
    }

    /// How long before the lease ends a task that could not renew it stops
    /// calling targets (and drops the calls in flight).
    pub(super) fn margin(&self) -> Duration {
        (self.cfg.lease / 5).max(Duration::from_millis(1))
    }

    pub(super) async fn execute(&self, claimed: Claimed, sent: Instant, setup: &SetupCell) -> Result<(), WorkerError> {
        let lease = Lease::new(claimed.lease, sent, self.cfg.lease, self.margin());
        let (job, version) = (claimed.job, claimed.setup_version);
        // The heartbeat lives inside the job's future: if the job is dropped
        // (worker killed), the lease stops being renewed and expires. When the
        // heartbeat gives up, the pipeline (and any purge call in flight) is dropped.
        // While traces are on, the job continues the trace of the request
        // that submitted it (one trace: request, job, every purge call).
        let span = tracing::info_span!("invalidation", id = %job.id, attempt = job.attempt);
        if crate::backend::trace_context::enabled() {
            if let Ok(Some(parent)) = self.store.trace_parent(job.id).await {
                crate::backend::trace_context::continue_trace(&span, &parent);
            }
        }
        let result = tokio::select! {
            r = self.pipeline(&job, &lease, setup, version).instrument(span) => r,
            lost = heartbeat(self, job.id, &lease) => Err(lost),
        };
        if matches!(result, Err(WorkerError::LeaseLost | WorkerError::LeaseExpiring)) {
            self.metrics.lease_lost.increment(1);
        }
        if let Err(WorkerError::GiveWay(wait)) = &result {
            let until = now_ms() + wait.as_millis() as i64;
            tracing::info!(id = %job.id, wait_ms = wait.as_millis() as u64, "giving way to a provider's rate limit");
            return self.store.give_way(job.id, &lease.token, until).await.map_err(Into::into);
        }
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
}

/// Renews the lease every third of its length; returns only once it is lost,
/// or once it could not be renewed and is about to end.
async fn heartbeat(worker: &Worker, id: crate::domain::InvalidationId, lease: &Lease) -> WorkerError {
    let every = worker.cfg.lease / 3;
    let retry = (every / 4).max(Duration::from_millis(50));
    let lease_ms = worker.cfg.lease.as_millis() as i64;
    let mut wait = every;
    loop {
        // Never sleep past the moment this task has to stop.
        if Instant::now() >= lease.stop_at() {
            tracing::error!(%id, "lease could not be renewed; stopping before it ends");
            return WorkerError::LeaseExpiring;
        }
        tokio::time::sleep_until((Instant::now() + wait).min(lease.stop_at()).into()).await;
        if Instant::now() >= lease.stop_at() {
            continue;
        }
        let sent = Instant::now();
        let renew = worker.store.extend_lease(id, &lease.token, now_ms(), lease_ms);
        match tokio::time::timeout_at(lease.stop_at().into(), renew).await {
            Ok(Ok(())) => {
                lease.renewed(sent);
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
