//! `imgflush_store_batch_size{kind}`: how many writes each batched statement
//! (PostgreSQL) or each group commit (SQLite) carried. The histograms belong
//! to whoever serves `/metrics` (the console, a worker process), which opens
//! the store first and hands them over after ([`Health::record_batches`]);
//! until then nothing is recorded.
//!
//! [`Health::record_batches`]: super::Health::record_batches

use std::sync::{Arc, OnceLock};

use ::metrics::Histogram;

/// The store's batch-size histograms, one per [`BatchKind`].
#[derive(Clone)]
pub struct BatchMetrics([Histogram; 4]);

impl BatchMetrics {
    /// Each kind's histogram, as `histogram` registers it.
    pub fn new(histogram: impl FnMut(BatchKind) -> Histogram) -> Self {
        BatchMetrics(BatchKind::ALL.map(histogram))
    }
}

/// Which histogram a batch goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchKind {
    /// PostgreSQL: new invalidations per insert statement (`postgres/insert.rs`).
    Insert,
    /// PostgreSQL: lanes' claims per claim statement (`postgres/claim.rs`).
    Claim,
    /// PostgreSQL: jobs' groups of changes per statement (`postgres/group/`).
    Apply,
    /// SQLite: writes per group commit of the single writer (`writer.rs`).
    Commit,
}

impl BatchKind {
    /// Every kind, in the order of [`BatchMetrics`]' histograms.
    pub const ALL: [BatchKind; 4] = [BatchKind::Insert, BatchKind::Claim, BatchKind::Apply, BatchKind::Commit];

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
        if let Some(m) = self.0.get() {
            m.0[kind as usize].record(size as f64);
        }
    }
}
