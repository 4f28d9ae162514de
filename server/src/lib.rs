//! The imgflush server: configuration, router, worker start-up and CLI glue.

pub mod api;
pub mod app;
pub mod audit_cli;
pub mod auth_routes;
pub mod bootstrap;
pub mod cli;
pub mod client_ip;
pub mod config;
pub mod demo;
pub mod export;
pub mod health;
pub mod internal;
pub mod live;
pub mod metrics;
pub mod second_step_routes;
pub mod security;
pub mod seed_cli;
pub mod sessions;
pub mod site_files;
pub mod sso_policy;
pub mod sso_routes;
pub mod telemetry;

pub use app::{build, build_with_store, App};
pub use config::Config;
