//! Server-only services: storage, authentication, the invalidation service,
//! purge drivers and the worker. Compiled only with the `ssr` feature.

pub mod auth;
pub mod invalidations;
pub mod keys;
pub mod purge;
pub mod store;
pub mod targets;
pub mod worker;

pub use store::{DynStore, StoreError};

/// `n` random ASCII letters and digits: generated passwords and API keys.
pub fn random_alphanumeric(n: usize) -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), n)
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

use std::sync::Arc;

/// The services every handler and server function needs, cloned per request.
#[derive(Clone)]
pub struct Services {
    pub store: DynStore,
    pub invalidations: invalidations::InvalidationService,
    pub throttle: Arc<auth::LoginThrottle>,
}

impl Services {
    pub fn new(store: DynStore, wake: Arc<tokio::sync::Notify>, throttle: auth::LoginThrottle) -> Self {
        Services {
            invalidations: invalidations::InvalidationService::new(store.clone(), wake),
            store,
            throttle: Arc::new(throttle),
        }
    }
}
