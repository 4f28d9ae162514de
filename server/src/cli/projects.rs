//! `server project`: create and list projects.

use anyhow::{anyhow, bail};
use clap::Subcommand;

use imgflush::backend::store::NewProject;
use imgflush::domain::ProjectToken;

use super::services::{explain, open};
use crate::config::Config;

#[derive(Subcommand)]
pub enum ProjectCmd {
    Add {
        #[arg(long)]
        token: String,
        #[arg(long)]
        name: String,
        /// Origin host the edge may fetch from (repeatable).
        #[arg(long = "origin-host")]
        origin_hosts: Vec<String>,
    },
    List,
}

pub async fn project(config: &Config, cmd: ProjectCmd) -> anyhow::Result<()> {
    let services = open(config).await?;
    match cmd {
        ProjectCmd::Add { token, name, origin_hosts } => {
            let token = ProjectToken::parse(&token).map_err(|e| anyhow!("--token: {e}"))?;
            if name.trim().is_empty() {
                bail!("--name: give the project a name");
            }
            let new = NewProject { token: token.as_str().into(), name: name.trim().into(), origin_hosts };
            let p = services.projects.create(&new).await.map_err(|e| explain(e).context("creating the project"))?;
            println!("created project {} ({})", p.token, p.name);
        }
        ProjectCmd::List => {
            for p in services.projects.list_all().await.map_err(explain)? {
                println!("{}\t{}", p.token, p.name);
            }
        }
    }
    Ok(())
}
