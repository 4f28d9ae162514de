//! The whole store as one object: every aggregate's trait, in one dialect.

use std::sync::Arc;

use super::audit::AuditStore;
use super::changes::ChangeFeed;
use super::health::Health;
use super::hooks::HookStore;
use super::housekeeping::HousekeepingStore;
use super::invalidations::InvalidationStore;
use super::jobs::JobQueue;
use super::keys::KeyStore;
use super::overview::OverviewStore;
use super::pacing::PacingStore;
use super::passkeys::PasskeyStore;
use super::projects::ProjectStore;
use super::second_factors::SecondFactorStore;
use super::sign_ins::SignInStore;
use super::sso::SsoStore;
use super::targets::TargetStore;
use super::team::TeamStore;
use super::traces::TraceStore;
use super::users::UserStore;

/// Everything the console, the API and the worker persist.
pub trait Store:
    Health
    + UserStore
    + SignInStore
    + SecondFactorStore
    + PasskeyStore
    + SsoStore
    + ProjectStore
    + TeamStore
    + OverviewStore
    + HousekeepingStore
    + AuditStore
    + HookStore
    + ChangeFeed
    + TargetStore
    + PacingStore
    + KeyStore
    + InvalidationStore
    + JobQueue
    + TraceStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: Health
        + UserStore
        + SignInStore
        + SecondFactorStore
        + PasskeyStore
        + SsoStore
        + ProjectStore
        + TeamStore
        + OverviewStore
        + HousekeepingStore
        + AuditStore
        + HookStore
        + ChangeFeed
        + TargetStore
        + PacingStore
        + KeyStore
        + InvalidationStore
        + JobQueue
        + TraceStore
        + Send
        + Sync
        + 'static
{
}

pub type DynStore = Arc<dyn Store>;
