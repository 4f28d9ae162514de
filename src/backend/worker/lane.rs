//! A lane: claims jobs from the queue, a batch at a time, and drives them
//! to a final status; asleep (and counted idle for the handoff) while the
//! queue is empty.

use std::collections::HashMap;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::run::{Worker, WorkerError, CLAIM_BATCH, MAX_CLAIM_BATCH};
use super::setup::SetupCell;
use crate::backend::handoff::{self, Handoff};
use crate::backend::now_ms;
use crate::backend::store::{Invalidation, LeaseToken};

impl Worker {
    /// Up to [`CLAIM_BATCH`] jobs at a time: run jobs while there are any,
    /// then sleep until a wake-up, the fallback poll, or cancellation.
    pub(super) async fn lane(self, cancel: CancellationToken) {
        // Counted idle for the handoff from a claim that found nothing until
        // one finds work: through its fallback polls too, which find nothing
        // while the queue stays empty.
        let mut idle = None;
        let mut batch = CLAIM_BATCH;
        while !cancel.is_cancelled() {
            let claimed = self.execute_batch(&mut idle, batch).await;
            batch = match claimed {
                Ok(n) if n == batch => (batch * 2).min(MAX_CLAIM_BATCH),
                _ => CLAIM_BATCH,
            };
            match claimed {
                Ok(n) if n > 0 => continue,
                // The queue is empty: new jobs may come straight here.
                Ok(_) => {
                    if idle.is_none() {
                        idle = self.handoff.as_ref().map(Handoff::idle);
                    }
                }
                Err(WorkerError::LeaseLost | WorkerError::LeaseExpiring | WorkerError::GiveWay(_)) => continue,
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
        let sent = Instant::now();
        let Some(claimed) = self.store.claim(&self.cfg.id, &token, now_ms(), lease_ms).await? else {
            return Ok(None);
        };
        // There may be more: let an idle lane look while this one works.
        self.wake.notify_one();
        self.run_claimed(claimed, sent, &SetupCell::new()).await.map(Some)
    }

    /// Claims up to [`CLAIM_BATCH`] jobs in one write and drives them to a
    /// final status side by side, each under its own lease and heartbeat: a
    /// backlog drains without a commit per claim. Answers how many it
    /// claimed; the first error among them, after all have stopped (each
    /// error is logged with its job).
    pub async fn try_execute_batch(&self) -> Result<usize, WorkerError> {
        self.execute_batch(&mut None, CLAIM_BATCH).await
    }

    /// [`Self::try_execute_batch`] of up to `batch` jobs, for a lane: its
    /// idle mark (see `lane`) ends as soon as a claim brings work (or
    /// fails), before the work runs.
    async fn execute_batch(&self, idle: &mut Option<handoff::IdleLane>, batch: usize) -> Result<usize, WorkerError> {
        let lease_ms = self.cfg.lease.as_millis() as i64;
        let leases = (0..batch).map(|_| LeaseToken::new()).collect();
        let sent = Instant::now();
        let claimed = self.store.claim_many(&self.cfg.id, leases, now_ms(), lease_ms).await;
        let claimed = claimed.inspect_err(|_| *idle = None)?;
        if claimed.is_empty() {
            return Ok(0);
        }
        *idle = None;
        // A full batch: there may be more, let an idle lane look. Fewer: the
        // queue was empty (new jobs wake a lane as they are stored).
        if claimed.len() == batch {
            self.wake.notify_one();
        }
        let n = claimed.len();
        let setups: HashMap<i64, SetupCell> = claimed.iter().map(|c| (c.job.project_id, SetupCell::new())).collect();
        let runs = claimed.into_iter().map(|c| {
            let setup = &setups[&c.job.project_id];
            self.run_claimed(c, sent, setup)
        });
        let results = futures::future::join_all(runs).await;
        results.into_iter().find_map(Result::err).map_or(Ok(n), Err)
    }
}
