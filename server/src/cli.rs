//! Administrative subcommands: users, projects, purge targets, API keys.

use std::sync::Arc;

use anyhow::{anyhow, bail};
use clap::Subcommand;

use tokio::sync::Notify;

use imgflush::backend::auth::{normalize_email, random_password};
use imgflush::backend::store::{self, NewProject};
use imgflush::backend::targets::{redact_url, TargetInput};
use imgflush::backend::{Actor, ServiceError, Services};
use imgflush::domain::{InstanceRole, ProjectToken, Role};

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

/// The services, opened as the operator: the CLI holds the database
/// credentials, so every project is its own.
pub(crate) async fn open(config: &Config) -> anyhow::Result<Services> {
    let store = store::connect(config.database.url.expose()).await?.store;
    let limits = imgflush::backend::limits::Limits::in_memory(config.limit_settings());
    Ok(Services::new(store, Arc::new(Notify::new()), limits).with_target_network(config.target_network()))
}

pub(crate) async fn operator(services: &Services, token: &str) -> anyhow::Result<Actor> {
    services
        .projects
        .operator_actor(token)
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

pub async fn key(config: &Config, cmd: KeyCmd) -> anyhow::Result<()> {
    let services = open(config).await?;
    match cmd {
        KeyCmd::Add { project, name, role } => {
            let actor = operator(&services, &project).await?;
            let (key, secret) = services.keys.create(&actor, &name, &role).await.map_err(explain)?;
            let token = &actor.project.token;
            println!("created {} key `{}` for {token}; the secret is shown once:", key.role.as_str(), key.name);
            println!("{secret}");
        }
        KeyCmd::List { project } => {
            let actor = operator(&services, &project).await?;
            for k in services.keys.list(&actor).await.map_err(explain)? {
                let state = if k.revoked.is_some() { "revoked" } else { "active" };
                let used = k.last_used.map_or("never".to_owned(), |t| t.to_rfc3339());
                println!("{}\timf_{}_…\t{}\t{}\tlast used {}", k.name, k.prefix, k.role.as_str(), state, used);
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
            [kind, name, url] => {
                Ok(TargetInput { kind: kind.into(), name: name.into(), url: url.into(), secret: secret.clone() })
            }
            _ => Err(anyhow!(
                "--target: expected kind,name,url (e.g. edge,edge-1,http://127.0.0.1:3004/_purge), got {t:?}"
            )),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    crate::demo::wire_demo(&services, origin, &inputs).await.map_err(|e| match e.downcast::<ServiceError>() {
        Ok(e) => explain(e),
        Err(e) => e,
    })?;
    println!("the demo project now fetches from {origin} and lists {} target(s)", inputs.len());
    Ok(())
}

/// `server edge secret --token T`: the purge secret of project `T` on the
/// node whose secret is `node_secret` (EDGE_PURGE_SECRET), else on the
/// embedded edge (its `{edge.data_dir}/edge.secret`, made by `server serve`).
pub fn edge_secret(config: &Config, token: &str, node_secret: Option<String>) -> anyhow::Result<()> {
    let token = ProjectToken::parse(token).map_err(|e| anyhow!("--token: {e}"))?;
    let node = match node_secret.filter(|s| !s.trim().is_empty()) {
        Some(s) => s.trim().to_owned(),
        None => {
            let file = crate::demo::node_secret_file(config);
            let s = std::fs::read_to_string(&file).map_err(|e| {
                anyhow!(
                    "no node secret: set EDGE_PURGE_SECRET to the edge's --purge-secret, \
                     or run `server` once so the embedded edge makes {} ({e})",
                    file.display()
                )
            })?;
            s.trim().to_owned()
        }
    };
    if node.is_empty() {
        bail!("the node secret is empty: set EDGE_PURGE_SECRET");
    }
    println!("{}", edge::project_secret(&edge::Secret::new(node), token.as_str()));
    Ok(())
}
