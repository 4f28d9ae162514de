//! A claim's lease as the task holding it sees it, and the heartbeat that
//! renews it or stops the job before the lease can run out.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use super::{Worker, WorkerError};
use crate::backend::now_ms;
use crate::backend::store::{LeaseToken, StoreError};

/// One claim's lease as this task knows it: the token and the end of the
/// lease last confirmed by the database.
pub(super) struct Lease {
    pub(super) token: LeaseToken,
    pub(super) until_ms: AtomicI64,
    /// Stop calling targets this long before `until_ms`.
    pub(super) margin: i64,
}

impl Lease {
    /// When this task must have stopped calling targets.
    pub(super) fn stop_at(&self) -> i64 {
        self.until_ms.load(Ordering::SeqCst) - self.margin
    }

    /// Whether a purge call may still start at `now`.
    pub(super) fn usable(&self, now: i64) -> bool {
        now < self.stop_at()
    }
}

/// Renews the lease every third of its length; returns only once it is lost,
/// or once it could not be renewed and is about to end.
pub(super) async fn heartbeat(worker: &Worker, id: crate::domain::InvalidationId, lease: &Lease) -> WorkerError {
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
