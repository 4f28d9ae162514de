//! The services every handler and server function needs, put together once.

use std::sync::Arc;

use super::{
    accounts, audit, directory, invalidations, keys, live, notify, projects, second_factor, sessions, sso, targets,
    team,
};
use crate::backend::limits;
use crate::backend::network;
use crate::backend::store::{DynStore, StoreError};

/// The services every handler and server function needs, cloned per request.
#[derive(Clone)]
pub struct Services {
    store: DynStore,
    pub invalidations: invalidations::InvalidationService,
    pub keys: keys::KeyService,
    pub targets: targets::TargetService,
    pub projects: projects::ProjectService,
    pub accounts: accounts::AccountService,
    pub sessions: sessions::SessionService,
    pub second_factor: second_factor::SecondFactorService,
    /// Single sign-on: identity providers, the policy, the sign-in flow.
    pub sso: sso::SsoService,
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
            sessions: sessions::SessionService::new(store.clone()),
            second_factor: second_factor::SecondFactorService::new(store.clone(), limits.login_throttle()),
            sso: sso::SsoService::new(store.clone()),
            team: team::TeamService::new(store.clone(), accounts),
            directory: directory::UserDirectory::new(store.clone()),
            audit: audit::AuditService::new(store.clone()),
            notify: notify::NotifyService::new(store.clone()),
            live: live::LiveFeed::new(store.clone()),
            limits,
            store,
        }
        .wired()
    }

    /// The invalidations' previews count with the targets' network and key.
    fn wired(mut self) -> Self {
        self.invalidations = self.invalidations.with_previewer(self.targets.clone()).with_notifier(self.notify.clone());
        self
    }

    /// Sessions end after `hours` without a request (`security.session_hours`):
    /// older ones are not listed as signed in.
    pub fn with_session_hours(mut self, hours: i64) -> Self {
        self.sessions = self.sessions.with_idle_hours(hours);
        self
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
        self.wired()
    }

    /// The key that seals providers' credentials (CDN targets, identity
    /// providers' client secrets).
    pub fn with_vault(mut self, vault: crate::backend::vault::Vault) -> Self {
        self.sso = self.sso.with_vault(vault.clone());
        self.targets = self.targets.with_vault(vault);
        self.wired()
    }

    /// Whether the database answers (`/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
}
