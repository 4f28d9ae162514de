//! New invalidations handed straight to this process's idle worker.
//!
//! Queued, a new job costs the worker a claim: a statement that finds it in
//! the runnable index and writes its lease (a commit of its own on
//! PostgreSQL, a write of the single writer on SQLite). When a lane of this
//! process has just found the queue empty, that claim can only ever pick the
//! job just stored, so the submission stores it already leased to this
//! worker ([`NewLease`]: its first claim, counted as one) and hands it over
//! in memory once committed. The job then runs as any claimed job, with the
//! same heartbeat; if this process dies first, the lease expires and any
//! worker claims it, as after a crash mid-job.
//!
//! Only while a lane is idle: with a backlog every lane is busy and new jobs
//! queue behind it, in order. At most [`Handoff::new`]'s `slots` handed jobs
//! run at once (`concurrency × MAX_CLAIM_BATCH`, as many as the lanes may
//! hold); past it submissions queue.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::backend::model::{Claimed, Inserted, LeaseToken, NewLease};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

/// A handed-over job, when its lease was taken (sent with the insert) and
/// its slot, freed when the job ends.
pub(crate) type Delivery = (Claimed, Instant, OwnedSemaphorePermit);

/// The hand-over point between this process's submissions and its worker.
/// Cheap to clone; inert until the worker runs (`Worker::take_new_jobs_from`).
#[derive(Clone)]
pub struct Handoff {
    inner: Arc<Inner>,
}

struct Inner {
    /// The worker's id and lease length: the lease a handed job is stored under.
    owner: String,
    lease: Duration,
    /// Lanes asleep after their last claim found nothing.
    idle: AtomicUsize,
    slots: Arc<Semaphore>,
    jobs: mpsc::UnboundedSender<Delivery>,
    /// Taken by the worker when it starts.
    receiver: Mutex<Option<mpsc::UnboundedReceiver<Delivery>>>,
}

/// A slot taken for one submission: the lease to store it under, then
/// [`Reserved::deliver`] once it is committed. Dropped unused (the insert
/// failed), the slot is free again.
pub struct Reserved {
    permit: OwnedSemaphorePermit,
    lease: NewLease,
    /// Before the insert that stores the lease is sent.
    sent: Instant,
    handoff: Handoff,
}

impl Handoff {
    /// For the worker `owner` with leases of `lease`, running at most `slots`
    /// handed jobs at once.
    pub fn new(owner: &str, lease: Duration, slots: usize) -> Self {
        let (jobs, receiver) = mpsc::unbounded_channel();
        Handoff {
            inner: Arc::new(Inner {
                owner: owner.to_owned(),
                lease,
                idle: AtomicUsize::new(0),
                slots: Arc::new(Semaphore::new(slots)),
                jobs,
                receiver: Mutex::new(Some(receiver)),
            }),
        }
    }

    /// A slot and a lease for a job stored at `now_ms`, if a lane of the
    /// running worker is idle and a slot is free; `None`: queue the job.
    pub fn reserve(&self, now_ms: i64) -> Option<Reserved> {
        let inner = &self.inner;
        if inner.idle.load(Ordering::SeqCst) == 0 || inner.jobs.is_closed() {
            return None;
        }
        let permit = inner.slots.clone().try_acquire_owned().ok()?;
        let lease = NewLease {
            owner: inner.owner.clone(),
            token: LeaseToken::new(),
            until_ms: now_ms + inner.lease.as_millis() as i64,
        };
        Some(Reserved { permit, lease, sent: Instant::now(), handoff: self.clone() })
    }

    /// The worker's end of the hand-over; `None` if a worker already took it.
    pub(crate) fn take_receiver(&self) -> Option<mpsc::UnboundedReceiver<Delivery>> {
        self.inner.receiver.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// A lane goes to sleep after finding nothing to claim; the guard wakes it.
    pub(crate) fn idle(&self) -> IdleLane {
        self.inner.idle.fetch_add(1, Ordering::SeqCst);
        IdleLane(self.clone())
    }
}

/// Counts a lane as idle while it lives.
pub(crate) struct IdleLane(Handoff);

impl Drop for IdleLane {
    fn drop(&mut self) {
        self.0.inner.idle.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Reserved {
    /// The lease to store the new job under.
    pub fn lease(&self) -> &NewLease {
        &self.lease
    }

    /// Hands the stored job to the worker. If the worker has stopped, the job
    /// stays leased until the lease ends, then any worker claims it.
    pub fn deliver(self, stored: &Inserted) {
        let claimed = Claimed {
            job: stored.invalidation.clone(),
            lease: self.lease.token,
            lease_until_ms: self.lease.until_ms,
            claims: 1,
            setup_version: stored.setup_version,
        };
        let _ = self.handoff.inner.jobs.send((claimed, self.sent, self.permit));
    }
}
