//! The services every entry point calls: one per capability, each checking
//! the caller's role itself and holding the store.

pub mod accounts;
pub mod audit;
pub mod directory;
pub mod invalidations;
pub mod key_rules;
pub mod keys;
pub mod live;
pub mod notify;
mod preview;
pub mod projects;
pub mod second_factor;
pub mod sessions;
pub mod sso;
pub mod targets;
pub mod team;
mod wiring;

pub use wiring::Services;
