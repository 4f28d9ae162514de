//! The live log: status changes pushed to the pages that show them. One
//! watcher per process reads the store's change feed while anyone listens,
//! and hands each change to its project's own channel, so a subscriber
//! wakes only for its project. A user holds a bounded number of streams,
//! and a stream that is open re-checks its access at every keep-alive (the
//! entry point does that with [`LiveFeed::recheck_every`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;

use crate::backend::store::{Change, DynStore, Submitter};
use crate::backend::{Actor, ServiceError};
use crate::domain::Role;

/// How a stream is kept honest: how often it re-checks access, and how many
/// one user may hold open at once.
#[derive(Debug, Clone, Copy)]
pub struct LiveSettings {
    pub recheck: Duration,
    pub streams_per_user: usize,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings { recheck: Duration::from_secs(15), streams_per_user: 8 }
    }
}

#[derive(Clone)]
pub struct LiveFeed {
    store: DynStore,
    /// Every change the store reports; only the dispatcher listens here.
    tx: broadcast::Sender<Change>,
    projects: Arc<Mutex<HashMap<i64, broadcast::Sender<Change>>>>,
    streams: Arc<Mutex<HashMap<i64, usize>>>,
    running: Arc<AtomicBool>,
    settings: LiveSettings,
}

/// One page's subscription: the changes of one project. Dropping it gives
/// the user's stream back.
pub struct Subscription {
    rx: broadcast::Receiver<Change>,
    _slot: Option<StreamSlot>,
}

/// One of a user's open streams, counted while it lives.
struct StreamSlot {
    streams: Arc<Mutex<HashMap<i64, usize>>>,
    user_id: i64,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = streams.get_mut(&self.user_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                streams.remove(&self.user_id);
            }
        }
    }
}

impl Subscription {
    /// The next change in the project; `None` when the feed has stopped. A
    /// subscriber that fell behind gets the latest change (pages refetch anyway).
    pub async fn next(&mut self) -> Option<Change> {
        loop {
            match self.rx.recv().await {
                Ok(c) => return Some(c),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// The answer when a user already holds [`LiveSettings::streams_per_user`] streams.
pub const TOO_MANY_STREAMS: &str = "too many live streams open: close another tab of this console and reload";

impl LiveFeed {
    pub fn new(store: DynStore) -> Self {
        let (tx, _) = broadcast::channel(256);
        LiveFeed {
            store,
            tx,
            projects: Arc::default(),
            streams: Arc::default(),
            running: Arc::new(AtomicBool::new(false)),
            settings: LiveSettings::default(),
        }
    }

    pub fn with_settings(mut self, settings: LiveSettings) -> Self {
        self.settings = settings;
        self
    }

    /// How often an open stream re-checks that its user may still watch.
    pub fn recheck_every(&self) -> Duration {
        self.settings.recheck
    }

    /// The caller's project's changes from now on (every member may watch).
    /// A user past [`LiveSettings::streams_per_user`] open streams gets
    /// `Conflict` ([`TOO_MANY_STREAMS`]).
    pub fn subscribe(&self, actor: &Actor) -> Result<Subscription, ServiceError> {
        actor.require(Role::can_read)?;
        let slot = match &actor.submitter {
            Submitter::User { id, .. } => {
                let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
                let open = streams.entry(*id).or_default();
                if *open >= self.settings.streams_per_user {
                    return Err(ServiceError::Conflict(TOO_MANY_STREAMS.into()));
                }
                *open += 1;
                Some(StreamSlot { streams: self.streams.clone(), user_id: *id })
            }
            Submitter::ApiKey { .. } => None,
        };
        let rx = {
            let mut projects = self.projects.lock().unwrap_or_else(|e| e.into_inner());
            projects.entry(actor.project.id).or_insert_with(|| broadcast::channel(64).0).subscribe()
        };
        self.ensure_watching();
        Ok(Subscription { rx, _slot: slot })
    }

    /// Open streams of `user_id` (for tests and the metrics).
    pub fn open_streams(&self, user_id: i64) -> usize {
        self.streams.lock().unwrap_or_else(|e| e.into_inner()).get(&user_id).copied().unwrap_or(0)
    }

    /// Drops the channels nobody listens to; answers whether anyone listens.
    fn prune(&self) -> bool {
        let mut projects = self.projects.lock().unwrap_or_else(|e| e.into_inner());
        projects.retain(|_, tx| tx.receiver_count() > 0);
        !projects.is_empty()
    }

    /// Hands each change to its project's channel until nobody listens.
    async fn dispatch(&self, mut rx: broadcast::Receiver<Change>) {
        loop {
            tokio::select! {
                change = rx.recv() => match change {
                    Ok(change) => {
                        let projects = self.projects.lock().unwrap_or_else(|e| e.into_inner());
                        if let Some(tx) = projects.get(&change.project_id) {
                            let _ = tx.send(change);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            if !self.prune() {
                return;
            }
        }
    }

    fn ensure_watching(&self) {
        if self.running.swap(true, Ordering::SeqCst) {
            return;
        }
        let feed = self.clone();
        tokio::spawn(async move {
            loop {
                // The dispatcher's receiver keeps the store's poll going; when
                // the dispatcher stops (nobody listens) the poll ends too.
                let rx = feed.tx.subscribe();
                tokio::select! {
                    watched = feed.store.watch_changes(&feed.tx) => {
                        if let Err(e) = watched {
                            tracing::warn!(error = %e, "live log: the change feed failed; retrying in 2 s");
                            tokio::time::sleep(Duration::from_secs(2)).await;
                        }
                    }
                    _ = feed.dispatch(rx) => {}
                }
                // Nobody listens any more; stop, unless someone subscribed meanwhile.
                feed.running.store(false, Ordering::SeqCst);
                if !feed.prune() || feed.running.swap(true, Ordering::SeqCst) {
                    return;
                }
            }
        });
    }
}
