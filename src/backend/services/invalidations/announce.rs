//! Telling every instance's workers that a retried job is waiting.
//!
//! On PostgreSQL workers LISTEN on `imgflush_jobs`. New invalidations are
//! announced by the store, in the commit of their insert batch
//! (`store/postgres/insert.rs`). A Retry's requeue is announced here: PostgreSQL
//! serialises the commits of notifying transactions (a database-wide lock
//! taken at commit and held through the WAL flush), so one task sends the
//! NOTIFY after the commits, at most one in flight: the retries that commit
//! while it is sent share the next one. On SQLite (one process)
//! `announce_job` does nothing.

use tokio::sync::mpsc;

use crate::backend::store::DynStore;

#[derive(Clone)]
pub(super) struct Announcer {
    due: mpsc::Sender<()>,
}

impl Announcer {
    /// Starts the task on the current runtime; it ends with the last clone.
    pub(super) fn start(store: DynStore) -> Self {
        let (due, mut rx) = mpsc::channel(1);
        tokio::spawn(async move {
            while rx.recv().await.is_some() {
                if let Err(e) = store.announce_job().await {
                    tracing::warn!(error = %e, "could not announce a new job to other instances");
                }
            }
        });
        Announcer { due }
    }

    /// A job was committed: announce it soon. When an announcement is
    /// already due, that one covers this job too.
    pub(super) fn announce(&self) {
        let _ = self.due.try_send(());
    }
}
