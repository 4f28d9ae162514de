//! `server user`: accounts, their passwords and instance roles.

use anyhow::{anyhow, bail};
use clap::Subcommand;

use imgflush::backend::auth::{normalize_email, random_password};
use imgflush::domain::{InstanceRole, Role};

use super::services::{explain, open, operator};
use crate::config::Config;

#[derive(Subcommand)]
pub enum UserCmd {
    /// Add a user (or a membership for an existing one); prints a generated password.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        project: String,
        #[arg(long, env = "IMGFLUSH_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Set a new password (ending the user's sessions); prints it when generated.
    Passwd {
        #[arg(long)]
        email: String,
        #[arg(long, env = "IMGFLUSH_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Remove a user from every project; their sessions end.
    Remove {
        #[arg(long)]
        email: String,
    },
    /// Give or take an instance role: `owner` (creates projects, admin of
    /// every project), `staff` (reads every project) or `none`.
    Role {
        #[arg(long)]
        email: String,
        #[arg(long)]
        instance: String,
    },
}

pub async fn user(config: &Config, cmd: UserCmd) -> anyhow::Result<()> {
    let services = open(config).await?;
    match cmd {
        UserCmd::Add { email, role, project, password } => {
            let role = Role::parse(&role).map_err(|e| anyhow!("--role: {e}"))?;
            let actor = operator(&services, &project).await?;
            let email = normalize_email(&email);
            if !email.contains('@') {
                bail!("--email: `{email}` is not an e-mail address");
            }
            let user = match services.accounts.find(&email).await.map_err(explain)? {
                Some(u) => {
                    println!("{email} already exists; setting the role only");
                    u
                }
                None => {
                    let (pw, show) = match password {
                        Some(p) => (p, false),
                        None => (random_password(), true),
                    };
                    let u = services.accounts.create(&email, pw.clone()).await.map_err(explain)?;
                    if show {
                        println!("password for {email}: {pw}");
                    }
                    u
                }
            };
            services.projects.set_member(&actor, user.id, role).await.map_err(explain)?;
            println!("{email} is {} of {}", role.as_str(), actor.project.token);
        }
        UserCmd::Passwd { email, password } => {
            let email = normalize_email(&email);
            let user =
                services.accounts.find(&email).await.map_err(explain)?.ok_or_else(|| anyhow!("no user {email}"))?;
            let (pw, show) = match password {
                Some(p) => (p, false),
                None => (random_password(), true),
            };
            services.accounts.set_password(&user, pw.clone()).await.map_err(explain)?;
            if show {
                println!("new password for {email}: {pw}");
            } else {
                println!("password changed for {email}");
            }
            println!("signed {email} out everywhere");
        }
        UserCmd::Remove { email } => {
            let email = normalize_email(&email);
            let user = services
                .accounts
                .find(&email)
                .await
                .map_err(explain)?
                .ok_or_else(|| anyhow!("--email: no user {email}"))?;
            services.accounts.remove(&user).await.map_err(explain)?;
            println!("removed {email} and their memberships; their sessions have ended");
        }
        UserCmd::Role { email, instance } => {
            let role = match instance.trim() {
                "none" => None,
                other => Some(InstanceRole::parse(other).map_err(|e| anyhow!("--instance: {e} (or \"none\")"))?),
            };
            let email = normalize_email(&email);
            let user = services.accounts.find(&email).await.map_err(explain)?;
            let user = user.ok_or_else(|| anyhow!("--email: no user {email}"))?;
            services.accounts.set_instance_role(&user, role).await.map_err(explain)?;
            println!("{email}: instance role {}", role.map_or("none", |r| r.as_str()));
        }
    }
    Ok(())
}
