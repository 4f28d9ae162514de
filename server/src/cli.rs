//! Administrative subcommands: users, projects, purge targets, API keys.

use anyhow::{anyhow, bail, Context};
use clap::Subcommand;

use imgflush::backend::auth::{hash_password, normalize_email, random_password};
use imgflush::backend::invalidations::ServiceError;
use imgflush::backend::store::{self, DynStore, NewProject, Project};
use imgflush::backend::targets::{self, redact_url, TargetInput};
use imgflush::backend::{keys, now_ms};
use imgflush::domain::{ProjectToken, Role};

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
    /// Set a new password; prints it when generated.
    Passwd {
        #[arg(long)]
        email: String,
        #[arg(long, env = "IMGFLUSH_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

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

async fn open(config: &Config) -> anyhow::Result<DynStore> {
    Ok(store::connect(config.database.url.expose()).await?.store)
}

async fn project_of(store: &DynStore, token: &str) -> anyhow::Result<Project> {
    store
        .project_by_token(token)
        .await
        .map_err(|_| anyhow!("no project with token `{token}` (see `server project list`)"))
}

fn explain(e: ServiceError) -> anyhow::Error {
    match e {
        ServiceError::Invalid(errors) => {
            anyhow!(errors.iter().map(|e| format!("--{}: {}", e.field, e.message)).collect::<Vec<_>>().join("\n"))
        }
        other => anyhow!(other.to_string()),
    }
}

pub async fn user(config: &Config, cmd: UserCmd) -> anyhow::Result<()> {
    let store = open(config).await?;
    match cmd {
        UserCmd::Add { email, role, project, password } => {
            let role = Role::parse(&role).map_err(|e| anyhow!("--role: {e}"))?;
            let project = project_of(&store, &project).await?;
            let email = normalize_email(&email);
            if !email.contains('@') {
                bail!("--email: `{email}` is not an e-mail address");
            }
            let user = match store.user_by_email(&email).await {
                Ok(u) => {
                    println!("{email} already exists; setting the role only");
                    u
                }
                Err(store::StoreError::NotFound) => {
                    let (pw, show) = match password {
                        Some(p) => (p, false),
                        None => (random_password(), true),
                    };
                    let u = store.create_user(&email, &hash_password(pw.clone()).await?, now_ms()).await?;
                    if show {
                        println!("password for {email}: {pw}");
                    }
                    u
                }
                Err(e) => return Err(e.into()),
            };
            store.set_membership(user.id, project.id, role).await?;
            println!("{email} is {} of {}", role.as_str(), project.token);
        }
        UserCmd::Passwd { email, password } => {
            let email = normalize_email(&email);
            let user = store.user_by_email(&email).await.map_err(|_| anyhow!("no user {email}"))?;
            let (pw, show) = match password {
                Some(p) => (p, false),
                None => (random_password(), true),
            };
            store.set_password(user.id, &hash_password(pw.clone()).await?).await?;
            if show {
                println!("new password for {email}: {pw}");
            } else {
                println!("password changed for {email}");
            }
        }
    }
    Ok(())
}

pub async fn project(config: &Config, cmd: ProjectCmd) -> anyhow::Result<()> {
    let store = open(config).await?;
    match cmd {
        ProjectCmd::Add { token, name, origin_hosts } => {
            let token = ProjectToken::parse(&token).map_err(|e| anyhow!("--token: {e}"))?;
            if name.trim().is_empty() {
                bail!("--name: give the project a name");
            }
            let p = store
                .create_project(
                    &NewProject { token: token.as_str().into(), name: name.trim().into(), origin_hosts },
                    now_ms(),
                )
                .await
                .context("creating the project")?;
            println!("created project {} ({})", p.token, p.name);
        }
        ProjectCmd::List => {
            for p in store.list_projects().await? {
                println!("{}\t{}", p.token, p.name);
            }
        }
    }
    Ok(())
}

pub async fn target(config: &Config, cmd: TargetCmd) -> anyhow::Result<()> {
    let store = open(config).await?;
    match cmd {
        TargetCmd::Add { project, kind, name, url, secret } => {
            let p = project_of(&store, &project).await?;
            let t = targets::add(&store, p.id, &TargetInput { kind, name, url, secret }).await.map_err(explain)?;
            println!("added {} target {} -> {}", t.kind.as_str(), t.name, redact_url(&t.url));
        }
        TargetCmd::List { project } => {
            let p = project_of(&store, &project).await?;
            for t in store.list_targets(p.id).await? {
                let secret = if t.secret.is_some() { "secret set" } else { "no secret" };
                println!("{}\t{}\t{}\t{}", t.name, t.kind.as_str(), redact_url(&t.url), secret);
            }
        }
        TargetCmd::Remove { project, name } => {
            let p = project_of(&store, &project).await?;
            let t = store.list_targets(p.id).await?.into_iter().find(|t| t.name == name);
            let t = t.ok_or_else(|| anyhow!("--name: project {} has no target named `{name}`", p.token))?;
            store.remove_target(p.id, t.id).await?;
            println!("removed target {name}");
        }
    }
    Ok(())
}

pub async fn key(config: &Config, cmd: KeyCmd) -> anyhow::Result<()> {
    let store = open(config).await?;
    match cmd {
        KeyCmd::Add { project, name, role } => {
            let p = project_of(&store, &project).await?;
            let (key, secret) = keys::create(&store, p.id, &name, &role).await.map_err(explain)?;
            println!("created {} key `{}` for {}; the secret is shown once:", key.role.as_str(), key.name, p.token);
            println!("{secret}");
        }
        KeyCmd::List { project } => {
            let p = project_of(&store, &project).await?;
            for k in store.list_api_keys(p.id).await? {
                let state = if k.revoked.is_some() { "revoked" } else { "active" };
                let used = k.last_used.map_or("never".to_owned(), |t| t.to_rfc3339());
                println!("{}\timf_{}_…\t{}\t{}\tlast used {}", k.name, k.prefix, k.role.as_str(), state, used);
            }
        }
        KeyCmd::Revoke { project, name } => {
            let p = project_of(&store, &project).await?;
            let k = store.list_api_keys(p.id).await?.into_iter().find(|k| k.name == name && k.revoked.is_none());
            let k = k.ok_or_else(|| anyhow!("--name: project {} has no active key named `{name}`", p.token))?;
            store.revoke_api_key(p.id, k.id, now_ms()).await?;
            println!("revoked key {name}");
        }
    }
    Ok(())
}
