//! `server member`: one project's memberships.

use anyhow::{anyhow, bail};
use clap::Subcommand;

use imgflush::backend::auth::normalize_email;
use imgflush::backend::ServiceError;

use super::services::{explain, open, operator};
use crate::config::Config;

#[derive(Subcommand)]
pub enum MemberCmd {
    /// End a user's membership of one project (their access ends at the next request).
    Remove {
        #[arg(long)]
        email: String,
        #[arg(long)]
        project: String,
    },
}

pub async fn member(config: &Config, cmd: MemberCmd) -> anyhow::Result<()> {
    let services = open(config).await?;
    match cmd {
        MemberCmd::Remove { email, project } => {
            let actor = operator(&services, &project).await?;
            let email = normalize_email(&email);
            let user = services
                .accounts
                .find(&email)
                .await
                .map_err(explain)?
                .ok_or_else(|| anyhow!("--email: no user {email}"))?;
            match services.projects.remove_member(&actor, user.id).await {
                Ok(()) => println!("{email} is no longer a member of {}", actor.project.token),
                Err(ServiceError::NotFound) => bail!("--email: {email} is not a member of {}", actor.project.token),
                Err(e) => return Err(explain(e)),
            }
        }
    }
    Ok(())
}
