//! PostgreSQL: busy writes stored in batches, PostgreSQL's group commit.
//!
//! SQLite has one writer that runs whatever has queued in one transaction
//! (`writer.rs`). PostgreSQL takes many writers, but each statement and each
//! commit costs it executor start-up, lock and WAL work, and with the worker
//! running beside the API that per-statement cost, not the rows, is what
//! fills the CPU. So the busiest writes, new invalidations (`insert.rs`),
//! the worker's groups of changes (`group/`) and the lanes' claims
//! (`claim.rs`), queue here: a runner (one per queue, two for
//! claims) takes whatever has queued (up to a bound) and stores it with one
//! statement over arrays, in one transaction ([`Write`]). Callers hear back
//! after that commit. Alone, a write waits for nobody; under load a
//! statement carries dozens.

use std::sync::Arc;

use futures::future::{join_all, BoxFuture};
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Mutex};

use crate::backend::store::batch_sizes::{BatchKind, BatchSizes};
use crate::backend::store::error::{StoreError, StoreResult};

/// Stores one batch and answers each of its callers.
pub(super) type Handler<J> = Arc<dyn Fn(PgPool, Vec<J>) -> BoxFuture<'static, ()> + Send + Sync>;

/// The queue in front of the runners. They end once it is dropped.
pub(in crate::backend::store) struct Batcher<J> {
    jobs: mpsc::Sender<J>,
}

impl<J: Send + 'static> Batcher<J> {
    /// `runners` tasks, each taking up to `max` queued jobs at a time and
    /// handing them to `handler`; the batch sizes go to `sizes` (`/metrics`'
    /// `imgflush_store_batch_size{kind}`).
    pub(super) fn start(
        pool: PgPool,
        runners: usize,
        max: usize,
        (sizes, kind): (BatchSizes, BatchKind),
        handler: impl Fn(PgPool, Vec<J>) -> BoxFuture<'static, ()> + Send + Sync + 'static,
    ) -> Self {
        let handler: Handler<J> = Arc::new(handler);
        let (jobs, rx) = mpsc::channel(4 * max);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..runners {
            tokio::spawn(run(pool.clone(), rx.clone(), max, (sizes.clone(), kind), handler.clone()));
        }
        Batcher { jobs }
    }

    /// Queues the write `make` builds around its reply channel for the next
    /// batch (waiting while the queue is full), then waits for its answer:
    /// sent once the batch holding it has committed.
    pub(super) async fn call<T>(&self, make: impl FnOnce(oneshot::Sender<StoreResult<T>>) -> J) -> StoreResult<T> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(make(reply)).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The runners end only when the store is dropped.
fn stopped() -> StoreError {
    StoreError::Unavailable(sqlx::Error::PoolClosed)
}

/// One runner: takes everything queued (up to `max`), hands it on, again.
async fn run<J>(
    pool: PgPool,
    rx: Arc<Mutex<mpsc::Receiver<J>>>,
    max: usize,
    (sizes, kind): (BatchSizes, BatchKind),
    handler: Handler<J>,
) {
    loop {
        let mut batch = Vec::new();
        {
            let mut rx = rx.lock().await;
            if rx.recv_many(&mut batch, max).await == 0 {
                return;
            }
        }
        sizes.record(kind, batch.len());
        handler(pool.clone(), batch).await;
    }
}

/// One kind of batched write: how a batch is stored in one statement, and
/// how each of its callers hears back. [`store`] writes the fallback once.
pub(super) trait Write: Sized + Send + Sync + 'static {
    /// What every batch of this kind shares (e.g. the NOTIFY's payload).
    type Ctx: Sync;
    /// What the statement brings back for a batch.
    type Stored: Send;
    /// Failed batches retry their writes concurrently (else one by one).
    const ALONE_AT_ONCE: bool = true;
    /// Stores `batch` in one statement (one transaction).
    async fn store_many(pool: &PgPool, ctx: &Self::Ctx, batch: &[Self]) -> StoreResult<Self::Stored>;
    /// Tells each caller of a stored batch its own outcome.
    fn answer(batch: Vec<Self>, stored: Self::Stored);
    /// Tells this write's caller that it failed, and why.
    fn fail(self, e: StoreError);
}

/// Stores `batch` in one statement. If that fails (a duplicate key, a lost
/// lease), each write goes again alone, so each caller hears the answer its
/// own write deserves. A lone write is a batch of one.
pub(super) async fn store<W: Write>(pool: &PgPool, ctx: &W::Ctx, batch: Vec<W>) {
    if batch.len() > 1 {
        match W::store_many(pool, ctx, &batch).await {
            Ok(stored) => return W::answer(batch, stored),
            Err(_) if W::ALONE_AT_ONCE => {
                join_all(batch.into_iter().map(|w| alone(pool, ctx, w))).await;
                return;
            }
            Err(_) => {}
        }
    }
    for w in batch {
        alone(pool, ctx, w).await;
    }
}

/// One write in a statement (and transaction) of its own.
pub(super) async fn alone<W: Write>(pool: &PgPool, ctx: &W::Ctx, w: W) {
    match W::store_many(pool, ctx, std::slice::from_ref(&w)).await {
        Ok(stored) => W::answer(vec![w], stored),
        Err(e) => w.fail(e),
    }
}
