//! The purge worker: a loop around [`Worker::try_execute_batch`], stopped by a
//! cancellation token. Jobs are leases: each claim gets a fresh token that
//! every write checks, a heartbeat keeps it alive, and a worker that dies
//! simply lets it expire. A task that cannot renew its lease stops calling
//! targets before the lease ends, so two claims never purge at the same time.

mod handed;
mod job;
mod lane;
mod lease;
mod metrics;
mod run;
mod setup;
mod target;

pub use crate::backend::handoff::{Handoff, Reserved};
pub use metrics::{TargetCounter, WorkerMetrics};
pub use run::{Worker, WorkerConfig, WorkerError, CLAIM_BATCH, MAX_CLAIM_BATCH};
