//! Server-only services: storage, authentication, the services every entry
//! point calls, purge drivers and the worker. Compiled only with the `ssr`
//! feature.
//!
//! Entry points (server functions, API handlers, the CLI) authenticate the
//! caller, call one service method with it and map the error. Each service
//! checks the caller's role itself; only the services hold the store.

pub mod accounts;
mod actor;
pub mod audit;
pub mod auth;
pub mod directory;
mod error;
mod handoff;
pub mod invalidations;
pub mod keys;
pub mod limits;
pub mod live;
pub mod model;
pub mod network;
pub mod notify;
pub mod projects;
pub mod purge;
pub mod store;
pub mod targets;
pub mod team;
pub mod verify;
pub mod worker;

pub use actor::Actor;
pub use error::ServiceError;
pub use store::{DynStore, StoreError};

/// `n` random ASCII letters and digits: generated passwords and API keys.
pub fn random_alphanumeric(n: usize) -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), n)
}

/// The client address of a request, as the server's `client_ip` layer
/// resolved it; `None` when the connection has no peer address (in-process tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub Option<std::net::IpAddr>);

/// The clock every service and the worker read; the store never does.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

use std::sync::Arc;

/// The services every handler and server function needs, cloned per request.
#[derive(Clone)]
pub struct Services {
    store: DynStore,
    pub invalidations: invalidations::InvalidationService,
    pub keys: keys::KeyService,
    pub targets: targets::TargetService,
    pub projects: projects::ProjectService,
    pub accounts: accounts::AccountService,
    pub team: team::TeamService,
    pub directory: directory::UserDirectory,
    pub audit: audit::AuditService,
    pub notify: notify::NotifyService,
    pub live: live::LiveFeed,
    /// The rate limits the front doors apply (per API key and address, per
    /// console user); sign-in and scope All are limited inside the services.
    pub limits: limits::Limits,
}

impl Services {
    pub fn new(store: DynStore, wake: Arc<tokio::sync::Notify>, limits: limits::Limits) -> Self {
        let accounts = accounts::AccountService::new(store.clone(), limits.login_throttle());
        Services {
            invalidations: invalidations::InvalidationService::new(store.clone(), wake, limits.clone()),
            keys: keys::KeyService::new(store.clone()),
            targets: targets::TargetService::new(store.clone()),
            projects: projects::ProjectService::new(store.clone()),
            accounts: accounts.clone(),
            team: team::TeamService::new(store.clone(), accounts),
            directory: directory::UserDirectory::new(store.clone()),
            audit: audit::AuditService::new(store.clone()),
            notify: notify::NotifyService::new(store.clone()),
            live: live::LiveFeed::new(store.clone()),
            limits,
            store,
        }
    }

    /// How open live streams re-check access, and how many a user may hold.
    pub fn with_live(mut self, settings: live::LiveSettings) -> Self {
        self.live = self.live.with_settings(settings);
        self
    }

    /// Which networks besides public addresses purge targets may be added in.
    /// The edges' own host names (see [`projects::ProjectService::with_edge_names`]).
    pub fn with_edge_names(mut self, names: Vec<String>) -> Self {
        self.projects = self.projects.with_edge_names(names);
        self
    }

    pub fn with_target_network(mut self, policy: network::NetworkPolicy) -> Self {
        self.targets = self.targets.with_network(policy.clone());
        self.notify = self.notify.with_network(policy);
        self
    }

    /// Whether the database answers (`/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
}
