//! `server demo wire`: point the demo project at an origin and targets.

use anyhow::anyhow;

use imgflush::backend::targets::TargetInput;
use imgflush::backend::ServiceError;

use super::services::{explain, open};
use crate::config::Config;

/// `server demo wire`: the demo project fetches from `origin` and lists
/// `targets` (`kind,name,url`, each with `secret`).
pub async fn demo_wire(
    config: &Config,
    origin: std::net::SocketAddr,
    targets: &[String],
    secret: Option<String>,
) -> anyhow::Result<()> {
    let services = open(config).await?;
    let inputs = targets
        .iter()
        .map(|t| match t.splitn(3, ',').collect::<Vec<_>>()[..] {
            [kind, name, url] => Ok(TargetInput {
                kind: kind.into(),
                name: name.into(),
                url: url.into(),
                secret: secret.clone(),
                settings: Default::default(),
            }),
            _ => Err(anyhow!(
                "--target: expected kind,name,url (e.g. edge,edge-1,http://127.0.0.1:3004/_purge), got {t:?}"
            )),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    crate::demo::wire_demo(&services, origin, &inputs).await.map_err(|e| match e.downcast::<ServiceError>() {
        Ok(e) => explain(e),
        Err(e) => e,
    })?;
    println!(
        "the demo project now fetches from {origin} and lists {}",
        imgflush::domain::count(inputs.len() as u64, "target", "targets")
    );
    Ok(())
}
