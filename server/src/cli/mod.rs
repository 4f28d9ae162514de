//! Administrative subcommands: users, members, projects, purge targets, API
//! keys, the demo's wiring and edge purge secrets, one file per group.

mod config;
mod data;
mod demo;
mod edge;
mod edge_secret;
mod keys;
mod members;
mod project_set;
mod projects;
mod secrets;
mod services;
mod signal;
mod sso;
mod targets;
mod users;

pub use config::{config, ConfigCmd};
pub use data::{backup, migrate, restore, BackupArgs, MigrateArgs, RestoreArgs};
pub use demo::demo_wire;
pub use edge::{run_edge, EdgeAction, EdgeCmd};
pub use edge_secret::edge_secret;
pub use keys::{key, KeyCmd};
pub use members::{member, MemberCmd};
pub use projects::{project, ProjectCmd};
pub use secrets::{secrets, SecretsCmd};
pub(crate) use services::{open, operator, print_json};
pub use signal::stop_on_signal;
pub use sso::{sso, SsoCmd};
pub use targets::{target, TargetCmd};
pub use users::{user, UserCmd};
