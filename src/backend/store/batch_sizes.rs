//! `imgflush_store_batch_size{kind}`: how many writes each batched statement
//! (PostgreSQL) or each group commit (SQLite) carried. The histograms belong
//! to whoever serves `/metrics` (the console, a worker process), which opens
//! the store first and hands them over after ([`Health::record_batches`]);
//! until then nothing is recorded.
//!
//! [`Health::record_batches`]: super::Health::record_batches

use std::sync::{Arc, OnceLock};

use ::metrics::Histogram;

/// The store's batch-size histograms, one per kind of batch.
#[derive(Clone)]
pub struct BatchMetrics {
    /// PostgreSQL: new invalidations per insert statement (`pg_insert.rs`).
    pub insert: Histogram,
    /// PostgreSQL: lanes' claims per claim statement (`jobs/pg_claim.rs`).
    pub claim: Histogram,
    /// PostgreSQL: jobs' groups of changes per statement (`jobs/pg_group/`).
    pub apply: Histogram,
    /// SQLite: writes per group commit of the single writer (`writer.rs`).
    pub commit: Histogram,
}

/// Which histogram a batch goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchKind {
    Insert,
    Claim,
    Apply,
    Commit,
}

impl BatchKind {
    /// The `kind` label.
    pub fn label(self) -> &'static str {
        match self {
            BatchKind::Insert => "insert",
            BatchKind::Claim => "claim",
            BatchKind::Apply => "apply",
            BatchKind::Commit => "commit",
        }
    }
}

/// Where the store's batchers record their sizes: shared by all of them,
/// empty until [`BatchSizes::set`].
#[derive(Clone, Default)]
pub(crate) struct BatchSizes(Arc<OnceLock<BatchMetrics>>);

impl BatchSizes {
    /// The first call wins: a store reports to one registry.
    pub(crate) fn set(&self, metrics: BatchMetrics) {
        let _ = self.0.set(metrics);
    }

    pub(crate) fn record(&self, kind: BatchKind, size: usize) {
        let Some(m) = self.0.get() else { return };
        let histogram = match kind {
            BatchKind::Insert => &m.insert,
            BatchKind::Claim => &m.claim,
            BatchKind::Apply => &m.apply,
            BatchKind::Commit => &m.commit,
        };
        histogram.record(size as f64);
    }
}
