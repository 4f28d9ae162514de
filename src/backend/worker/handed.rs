//! The worker's side of the hand-over (`crate::backend::handoff`): running
//! the jobs this process's submissions handed over, each in its slot.

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::run::{Worker, WorkerError};
use super::setup::SetupCell;
use crate::backend::handoff::Delivery;

impl Worker {
    /// Runs the jobs handed over by this process's submissions, each in its
    /// slot, until `cancel` fires; then refuses new ones, runs those already
    /// handed over and waits for all of them.
    pub(super) async fn handed(self, mut jobs: mpsc::UnboundedReceiver<Delivery>, cancel: CancellationToken) {
        let mut running = JoinSet::new();
        let start = |running: &mut JoinSet<()>, (claimed, sent, slot): Delivery| {
            let worker = self.clone();
            self.metrics.handed.increment(1);
            running.spawn(async move {
                let _slot = slot;
                if let Err(WorkerError::Fatal(e)) = worker.run_claimed(claimed, sent, &SetupCell::new()).await {
                    tracing::error!(error = %e, "job failed");
                }
            });
        };
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                next = jobs.recv() => match next {
                    Some(delivery) => start(&mut running, delivery),
                    None => break,
                },
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        }
        jobs.close();
        while let Ok(delivery) = jobs.try_recv() {
            start(&mut running, delivery);
        }
        while running.join_next().await.is_some() {}
    }
}
