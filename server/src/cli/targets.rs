//! `server target`: a project's purge targets.

use anyhow::anyhow;
use clap::Subcommand;

use imgflush::backend::targets::{redact_url, TargetInput};

use super::services::{explain, open, operator};
use crate::config::Config;

#[derive(Subcommand)]
pub enum TargetCmd {
    Add {
        #[arg(long)]
        project: String,
        #[arg(long)]
        kind: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        url: String,
        #[arg(long, env = "IMGFLUSH_TARGET_SECRET", hide_env_values = true)]
        secret: Option<String>,
    },
    List {
        #[arg(long)]
        project: String,
    },
    Remove {
        #[arg(long)]
        project: String,
        #[arg(long)]
        name: String,
    },
}

pub async fn target(config: &Config, cmd: TargetCmd) -> anyhow::Result<()> {
    let services = open(config).await?;
    match cmd {
        TargetCmd::Add { project, kind, name, url, secret } => {
            let actor = operator(&services, &project).await?;
            let input = TargetInput { kind, name, url, secret };
            let t = services.targets.add(&actor, &input).await.map_err(explain)?;
            println!("added {} target {} -> {}", t.kind.as_str(), t.name, redact_url(&t.url));
        }
        TargetCmd::List { project } => {
            let actor = operator(&services, &project).await?;
            for t in services.targets.list(&actor).await.map_err(explain)? {
                let secret = if t.secret.is_some() { "secret set" } else { "no secret" };
                println!("{}\t{}\t{}\t{}", t.name, t.kind.as_str(), redact_url(&t.url), secret);
            }
        }
        TargetCmd::Remove { project, name } => {
            let actor = operator(&services, &project).await?;
            let t = services.targets.list(&actor).await.map_err(explain)?.into_iter().find(|t| t.name == name);
            let t = t.ok_or_else(|| anyhow!("--name: project {} has no target named `{name}`", actor.project.token))?;
            services.targets.remove(&actor, t.id).await.map_err(explain)?;
            println!("removed target {name}");
        }
    }
    Ok(())
}
