//! What every group shares: the services opened as the operator, and
//! service errors in the CLI's words.

use std::sync::Arc;

use anyhow::anyhow;
use tokio::sync::Notify;

use imgflush::backend::store;
use imgflush::backend::{Actor, ServiceError, Services};

use crate::config::Config;

/// The services, opened as the operator: the CLI holds the database
/// credentials, so every project is its own.
pub(crate) async fn open(config: &Config) -> anyhow::Result<Services> {
    let store = store::connect(config.database.url.expose()).await?.store;
    let limits = imgflush::backend::limits::Limits::in_memory(config.limit_settings());
    Ok(Services::new(store, Arc::new(Notify::new()), limits)
        .with_target_network(config.target_network())
        .with_vault(config.vault()))
}

pub(crate) async fn operator(services: &Services, token: &str) -> anyhow::Result<Actor> {
    services
        .projects
        .operator_actor(token)
        .await
        .map_err(|_| anyhow!("no project with token `{token}` (see `server project list`)"))
}

pub(super) fn explain(e: ServiceError) -> anyhow::Error {
    match e {
        ServiceError::Invalid(errors) => {
            anyhow!(errors.iter().map(|e| format!("--{}: {}", e.field, e.message)).collect::<Vec<_>>().join("\n"))
        }
        other => anyhow!(other.to_string()),
    }
}

/// A listing's or a document's `--json`: pretty-printed, one value.
pub(crate) fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
