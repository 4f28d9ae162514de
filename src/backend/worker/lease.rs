//! A claim's lease as the task holding it sees it, and the heartbeat that
//! renews it or stops the job before the lease can run out.
//!
//! The task's deadline is kept on its own monotonic clock and counted from
//! the moment the claim or the last successful renewal was SENT: the
//! database starts the lease no earlier than it receives the statement (on
//! PostgreSQL by its own clock, see `store/jobs.rs`), so the lease it
//! records cannot end before `sent + lease`, whatever the database, the
//! network or the wall clocks do meanwhile (an answer that comes late, a
//! restart, a clock stepped back). The task stops calling targets `margin`
//! before that, without asking anyone.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::backend::model::LeaseToken;

/// One claim's lease as this task knows it.
pub(super) struct Lease {
    pub(super) token: LeaseToken,
    /// When this task must have stopped calling targets: the last confirmed
    /// start of the lease (when it was sent) + its length − the margin.
    stop_at: Mutex<Instant>,
    /// The lease's length minus the margin.
    usable_for: Duration,
}

impl Lease {
    /// A lease of `length` whose claim was sent at `sent`; usable until
    /// `margin` before it ends.
    pub(super) fn new(token: LeaseToken, sent: Instant, length: Duration, margin: Duration) -> Lease {
        let usable_for = length.saturating_sub(margin);
        Lease { token, stop_at: Mutex::new(sent + usable_for), usable_for }
    }

    pub(super) fn stop_at(&self) -> Instant {
        *self.stop_at.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A renewal sent at `sent` succeeded.
    pub(super) fn renewed(&self, sent: Instant) {
        let mut stop_at = self.stop_at.lock().unwrap_or_else(|e| e.into_inner());
        *stop_at = (*stop_at).max(sent + self.usable_for);
    }

    /// Whether a purge call may still start now.
    pub(super) fn usable(&self) -> bool {
        Instant::now() < self.stop_at()
    }
}
