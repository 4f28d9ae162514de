//! Storage: one trait per aggregate, with its SQL, over two dialects.
//!
//! Each aggregate's file (`users.rs`, `keys.rs`, `jobs.rs`…) holds its trait,
//! its SQL as constants both dialects run (sqlx accepts `$N` placeholders on
//! SQLite too) and its code. Where the dialects agree, the code is written
//! once inside [`both_dialects!`](dialect), which compiles it for
//! [`SqliteStore`] and for [`PgStore`]; where they differ, each dialect has a
//! plain impl. Each dialect's machinery sits in its folder: `sqlite/` (the
//! connection, the single writer with group commit, the inline reader, the
//! checkpointer) and `postgres/` (the connection, the batchers for inserts,
//! claims and progress, LISTEN/NOTIFY). Rows and their conversion to the
//! model live in `rows/`; the model itself is `crate::backend::model`, below
//! storage. Storage imports nothing from the services.

#[macro_use]
mod dialect;

mod audit;
mod batch_sizes;
mod changes;
mod connect;
mod dyn_store;
pub(crate) mod error;
mod health;
mod hooks;
mod housekeeping;
mod invalidations;
mod jobs;
mod keys;
pub mod maintenance;
mod overview;
mod pacing;
mod passkeys;
mod pool;
pub mod postgres;
mod projects;
mod rows;
mod second_factors;
mod seed;
mod sign_ins;
pub mod sqlite;
mod sso;
mod targets;
mod team;
mod traces;
mod users;

pub use audit::AuditStore;
pub use batch_sizes::{BatchKind, BatchMetrics};
pub use changes::ChangeFeed;
pub use connect::{connect, connect_sized, Connected, SessionDb};
pub use dyn_store::{DynStore, Store};
pub use error::{StoreError, StoreResult};
pub use health::Health;
pub use hooks::HookStore;
pub use housekeeping::{HousekeepingStore, NOT_CANCELLABLE};
pub use invalidations::InvalidationStore;
pub use jobs::JobQueue;
pub use keys::KeyStore;
pub use overview::OverviewStore;
pub use pacing::PacingStore;
pub use passkeys::{NewPasskey, PasskeyStore};
pub use pool::{PoolSize, ACQUIRE_TIMEOUT};
pub use postgres::PgStore;
pub use projects::ProjectStore;
pub use second_factors::SecondFactorStore;
pub use sign_ins::SignInStore;
pub use sqlite::SqliteStore;
pub use sso::SsoStore;
pub use targets::TargetStore;
pub use team::{TeamStore, LAST_ADMIN};
pub use traces::TraceStore;
pub use users::UserStore;

pub use crate::backend::model::*;
