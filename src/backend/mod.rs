//! Server-only services: storage, authentication, the services every entry
//! point calls, purge drivers and the worker. Compiled only with the `ssr`
//! feature.
//!
//! Entry points (server functions, API handlers, the CLI) authenticate the
//! caller, call one service method with it and map the error. Each service
//! (`services/`) checks the caller's role itself; only the services hold the
//! store. Below them: storage (`store/`), the entities it returns (`model/`),
//! and the parts the services and the worker share (authentication, rate
//! limits, networks, purge drivers, the clock).

mod actor;
pub mod auth;
mod clock;
mod error;
mod handoff;
pub mod limits;
pub mod model;
pub mod network;
pub mod purge;
pub mod services;
pub mod store;
pub mod trace_context;
pub mod vault;
pub mod verify;
pub mod worker;

pub use actor::{Actor, ClientIp};
pub use auth::random_alphanumeric;
pub use clock::now_ms;
pub use error::ServiceError;
pub use services::{
    accounts, audit, directory, invalidations, key_rules, keys, live, notify, projects, targets, team, Services,
};
pub use store::{DynStore, StoreError};
