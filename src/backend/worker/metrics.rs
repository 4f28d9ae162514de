//! The worker's metric handles. The recorder (and so the registry) belongs
//! to whoever builds the worker (the console's `/metrics`, a worker
//! process's own listener); by default every handle is a no-op.

use std::sync::Arc;
use std::time::Duration;

use ::metrics::{Counter, Histogram};

use crate::backend::store::TargetState;
use crate::domain::TargetKind;

/// A target's purge counter, registered (or found) by the recorder's owner:
/// (project token, target name, kind, result: `ok` or `error`).
pub type TargetCounter = Arc<dyn Fn(&str, &str, TargetKind, &'static str) -> Counter + Send + Sync>;

#[derive(Clone)]
pub struct WorkerMetrics {
    /// Claims that ended without their lease: taken over by another
    /// worker, or not renewable (the database away) before it ran out.
    pub lease_lost: Counter,
    /// Purge calls' time (retries included), per target kind, in
    /// [`TargetKind::ALL`] order.
    pub purge_seconds: [Histogram; TargetKind::ALL.len()],
    /// Targets that ended in error after their retries.
    pub purge_failed: Counter,
    /// Each target's purges, per result; `None`: not counted.
    pub target_purges: Option<TargetCounter>,
    /// Reads of a project's setup (settings, targets, hooks): once per
    /// project and change to its setup, not once per job.
    pub setup_reads: Counter,
    /// Jobs handed straight to this worker by its process's submissions,
    /// stored leased to it (no claim statement, see `handoff.rs`).
    pub handed: Counter,
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        WorkerMetrics {
            lease_lost: Counter::noop(),
            purge_seconds: std::array::from_fn(|_| Histogram::noop()),
            purge_failed: Counter::noop(),
            target_purges: None,
            setup_reads: Counter::noop(),
            handed: Counter::noop(),
        }
    }
}

impl WorkerMetrics {
    /// Records one target's result (`project`: its project's token).
    pub fn purged(&self, project: &str, target: &str, kind: TargetKind, duration_ms: i64, state: TargetState) {
        if state == TargetState::Skipped {
            return;
        }
        let seconds = Duration::from_millis(duration_ms.max(0) as u64).as_secs_f64();
        self.purge_seconds[kind.index()].record(seconds);
        if state == TargetState::Error {
            self.purge_failed.increment(1);
        }
        let result = match state {
            TargetState::Ok => "ok",
            TargetState::Error => "error",
            TargetState::Pending | TargetState::Skipped => return,
        };
        if let Some(count) = &self.target_purges {
            count(project, target, kind, result).increment(1);
        }
    }
}
