//! The live log: status changes pushed to the pages that show them. One
//! watcher per process reads the store's change feed while anyone listens,
//! and fans changes out; each subscriber sees only its own project's.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::broadcast;

use super::store::{Change, DynStore};
use super::{Actor, ServiceError};
use crate::domain::Role;

#[derive(Clone)]
pub struct LiveFeed {
    store: DynStore,
    tx: broadcast::Sender<Change>,
    running: Arc<AtomicBool>,
}

/// One page's subscription: the changes of one project.
pub struct Subscription {
    rx: broadcast::Receiver<Change>,
    project_id: i64,
}

impl Subscription {
    /// The next change in the project; `None` when the feed has stopped. A
    /// subscriber that fell behind gets the latest change (pages refetch anyway).
    pub async fn next(&mut self) -> Option<Change> {
        loop {
            match self.rx.recv().await {
                Ok(c) if c.project_id == self.project_id => return Some(c),
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

impl LiveFeed {
    pub fn new(store: DynStore) -> Self {
        let (tx, _) = broadcast::channel(256);
        LiveFeed { store, tx, running: Arc::new(AtomicBool::new(false)) }
    }

    /// The caller's project's changes from now on (every member may watch).
    pub fn subscribe(&self, actor: &Actor) -> Result<Subscription, ServiceError> {
        actor.require(Role::can_read)?;
        let rx = self.tx.subscribe();
        self.ensure_watching();
        Ok(Subscription { rx, project_id: actor.project.id })
    }

    fn ensure_watching(&self) {
        if self.running.swap(true, Ordering::SeqCst) {
            return;
        }
        let feed = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = feed.store.watch_changes(&feed.tx).await {
                    if feed.tx.receiver_count() > 0 {
                        tracing::warn!(error = %e, "live log: the change feed failed; retrying in 2 s");
                        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                        continue;
                    }
                }
                // Nobody listens any more; stop, unless someone subscribed meanwhile.
                feed.running.store(false, Ordering::SeqCst);
                if feed.tx.receiver_count() == 0 || feed.running.swap(true, Ordering::SeqCst) {
                    return;
                }
            }
        });
    }
}
