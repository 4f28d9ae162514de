//! PostgreSQL: busy writes stored in batches, PostgreSQL's group commit.
//!
//! SQLite has one writer that runs whatever has queued in one transaction
//! (`writer.rs`). PostgreSQL takes many writers, but each statement and each
//! commit costs it executor start-up, lock and WAL work, and with the worker
//! running beside the API that per-statement cost, not the rows, is what
//! fills the CPU. So the two busiest writes, new invalidations
//! (`pg_insert.rs`) and the worker's groups of changes (`jobs/pg_group.rs`),
//! queue here: a runner (one per queue, two for claims) takes whatever has
//! queued (up to a bound) and stores it with one statement over arrays, in one transaction.
//! Callers hear back after that commit. Alone, a write waits for nobody;
//! under load a statement carries dozens.

use std::sync::Arc;

use futures::future::BoxFuture;
use sqlx::PgPool;
use tokio::sync::{mpsc, Mutex};

use super::{StoreError, StoreResult};

/// Stores one batch and answers each of its callers.
pub(super) type Handler<J> = Arc<dyn Fn(PgPool, Vec<J>) -> BoxFuture<'static, ()> + Send + Sync>;

/// The queue in front of the runners. They end once it is dropped.
pub(super) struct Batcher<J> {
    jobs: mpsc::Sender<J>,
}

impl<J: Send + 'static> Batcher<J> {
    /// `runners` tasks, each taking up to `max` queued jobs at a time and
    /// handing them to `handler`; the batch sizes go to `/metrics` as
    /// `imgflush_store_batch_size{kind}`.
    pub(super) fn start(
        pool: PgPool,
        runners: usize,
        max: usize,
        kind: &'static str,
        handler: impl Fn(PgPool, Vec<J>) -> BoxFuture<'static, ()> + Send + Sync + 'static,
    ) -> Self {
        let handler: Handler<J> = Arc::new(handler);
        let (jobs, rx) = mpsc::channel(4 * max);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..runners {
            tokio::spawn(run(pool.clone(), rx.clone(), max, kind, handler.clone()));
        }
        Batcher { jobs }
    }

    /// Queues `job` for the next batch (waits while the queue is full).
    pub(super) async fn send(&self, job: J) -> StoreResult<()> {
        self.jobs.send(job).await.map_err(|_| stopped())
    }
}

/// The runners end only when the store is dropped.
pub(super) fn stopped() -> StoreError {
    StoreError::Unavailable(sqlx::Error::PoolClosed)
}

/// One runner: takes everything queued (up to `max`), hands it on, again.
async fn run<J>(pool: PgPool, rx: Arc<Mutex<mpsc::Receiver<J>>>, max: usize, kind: &'static str, handler: Handler<J>) {
    let size = ::metrics::histogram!("imgflush_store_batch_size", "kind" => kind);
    loop {
        let mut batch = Vec::new();
        {
            let mut rx = rx.lock().await;
            if rx.recv_many(&mut batch, max).await == 0 {
                return;
            }
        }
        size.record(batch.len() as f64);
        handler(pool.clone(), batch).await;
    }
}
