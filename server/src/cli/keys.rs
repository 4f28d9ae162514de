//! `server key`: a project's API keys.

use anyhow::anyhow;
use clap::Subcommand;

use super::services::{explain, open, operator};
use crate::config::Config;

#[derive(Subcommand)]
pub enum KeyCmd {
    /// Create an API key; its secret is printed once, on the last line.
    Add {
        #[arg(long)]
        project: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "editor")]
        role: String,
        /// Limit the key to paths under this prefix (`/host/blog/*`) or this
        /// path; repeatable.
        #[arg(long = "prefix")]
        prefixes: Vec<String>,
        /// Limit the key to this tag; repeatable.
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Limit the key to this scope (original, tag, all); repeatable.
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
    List {
        #[arg(long)]
        project: String,
    },
    Revoke {
        #[arg(long)]
        project: String,
        #[arg(long)]
        name: String,
    },
}

pub async fn key(config: &Config, cmd: KeyCmd) -> anyhow::Result<()> {
    let services = open(config).await?;
    match cmd {
        KeyCmd::Add { project, name, role, prefixes, tags, scopes } => {
            let actor = operator(&services, &project).await?;
            let limits = imgflush::domain::key_limits::KeyLimits::parse(&prefixes.join("\n"), &tags.join(" "), &scopes)
                .map_err(|e| explain(imgflush::backend::ServiceError::Invalid(e)))?;
            let (key, secret) = services.keys.create_limited(&actor, &name, &role, limits).await.map_err(explain)?;
            let token = &actor.project.token;
            println!("created {} key `{}` for {token}; the secret is shown once:", key.role.as_str(), key.name);
            println!("{secret}");
        }
        KeyCmd::List { project } => {
            let actor = operator(&services, &project).await?;
            for k in services.keys.list(&actor).await.map_err(explain)? {
                let state = if k.revoked.is_some() { "revoked" } else { "active" };
                let used = k.last_used.map_or("never".to_owned(), |t| t.to_rfc3339());
                let limits = k.limits.describe();
                println!("{}\timf_{}_…\t{}\t{}\tlast used {used}\t{limits}", k.name, k.prefix, k.role.as_str(), state);
            }
        }
        KeyCmd::Revoke { project, name } => {
            let actor = operator(&services, &project).await?;
            let keys = services.keys.list(&actor).await.map_err(explain)?;
            let k = keys.into_iter().find(|k| k.name == name && k.revoked.is_none());
            let k =
                k.ok_or_else(|| anyhow!("--name: project {} has no active key named `{name}`", actor.project.token))?;
            services.keys.revoke(&actor, k.id).await.map_err(explain)?;
            println!("revoked key {name}");
        }
    }
    Ok(())
}
