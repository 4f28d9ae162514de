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
        /// The key stops working this many days from now.
        #[arg(long)]
        expires_in_days: Option<String>,
        /// The key works through this date (UTC, YYYY-MM-DD) or until this RFC 3339 time.
        #[arg(long)]
        expires_at: Option<String>,
        /// Accept the key only from this address or network (CIDR); repeatable.
        #[arg(long = "allow")]
        allow: Vec<String>,
    },
    /// Replace a key's secret: prints the successor's secret once; the old
    /// key keeps working for the grace period.
    Roll {
        #[arg(long)]
        project: String,
        #[arg(long)]
        name: String,
        /// Hours the old key stays valid (0 to 720).
        #[arg(long, default_value_t = 24)]
        grace_hours: i64,
    },
    List {
        #[arg(long)]
        project: String,
        /// One JSON array (never a secret or its hash).
        #[arg(long)]
        json: bool,
    },
    /// Revoke every key with this name (a rolled key and its successor
    /// share it), or the one key with this prefix.
    Revoke {
        #[arg(long)]
        project: String,
        #[arg(long, required_unless_present = "prefix", conflicts_with = "prefix")]
        name: Option<String>,
        /// The part after `imf_` of the key (`imf_<prefix>_…`).
        #[arg(long)]
        prefix: Option<String>,
    },
}

pub async fn key(config: &Config, cmd: KeyCmd) -> anyhow::Result<()> {
    let services = open(config).await?;
    match cmd {
        KeyCmd::Add { project, name, role, prefixes, tags, scopes, expires_in_days, expires_at, allow } => {
            let actor = operator(&services, &project).await?;
            let invalid = |e| explain(imgflush::backend::ServiceError::Invalid(e));
            let limits = imgflush::domain::key_limits::KeyLimits::parse(&prefixes.join("\n"), &tags.join(" "), &scopes)
                .map_err(invalid)?;
            let rules = imgflush::backend::key_rules::KeyRules::parse(
                expires_in_days.as_deref(),
                expires_at.as_deref(),
                &allow.join(" "),
                chrono::Utc::now(),
            )
            .map_err(invalid)?;
            let (key, secret) =
                services.keys.create_with(&actor, &name, &role, limits, rules).await.map_err(explain)?;
            let token = &actor.project.token;
            println!("created {} key `{}` for {token}; the secret is shown once:", key.role.as_str(), key.name);
            println!("{secret}");
        }
        KeyCmd::List { project, json } => {
            let actor = operator(&services, &project).await?;
            let now = chrono::Utc::now();
            let keys = services.keys.list(&actor).await.map_err(explain)?;
            if json {
                let docs: Vec<_> = keys.iter().map(|k| key_document(k, now)).collect();
                super::print_json(&docs)?;
                return Ok(());
            }
            for k in keys {
                let state = k.state_at(now, imgflush::backend::key_rules::NOTICE_BEFORE).label();
                let used = k.last_used.map_or("never".to_owned(), |t| t.to_rfc3339());
                let from = k.last_used_addr.as_deref().map(|a| format!(" from {a}")).unwrap_or_default();
                let expires = k.expires.map_or("never".to_owned(), |t| t.to_rfc3339());
                let nets = if k.allowed_ips.is_empty() { "any address".to_owned() } else { k.allowed_ips.join(" ") };
                let limits = k.limits.describe();
                println!(
                    "{}\timf_{}_…\t{}\t{state}\texpires {expires}\tlast used {used}{from}\tfrom {nets}\t{limits}",
                    k.name,
                    k.prefix,
                    k.role.as_str()
                );
            }
        }
        KeyCmd::Revoke { project, name, prefix } => {
            let actor = operator(&services, &project).await?;
            let keys = services.keys.list(&actor).await.map_err(explain)?;
            let chosen: Vec<_> = keys
                .into_iter()
                .filter(|k| k.revoked.is_none())
                .filter(|k| {
                    name.as_ref().is_none_or(|n| &k.name == n) && prefix.as_ref().is_none_or(|p| &k.prefix == p)
                })
                .collect();
            if chosen.is_empty() {
                let which = name.map_or_else(
                    || format!("with prefix `{}`", prefix.unwrap_or_default()),
                    |n| format!("named `{n}`"),
                );
                return Err(anyhow!("project {} has no unrevoked key {which}", actor.project.token));
            }
            for k in chosen {
                services.keys.revoke(&actor, k.id).await.map_err(explain)?;
                println!("revoked key {} (imf_{}_…)", k.name, k.prefix);
            }
        }
        KeyCmd::Roll { project, name, grace_hours } => {
            let actor = operator(&services, &project).await?;
            let keys = services.keys.list(&actor).await.map_err(explain)?;
            let now = chrono::Utc::now();
            let k = keys.into_iter().find(|k| k.name == name && k.active_at(now) && k.rolled_to.is_none());
            let k = k.ok_or_else(|| {
                anyhow!("--name: project {} has no active, unrolled key named `{name}`", actor.project.token)
            })?;
            let (key, secret) = services.keys.roll(&actor, k.id, grace_hours).await.map_err(explain)?;
            println!(
                "rolled key `{}`: imf_{}_… keeps working for {grace_hours} h; the new secret is shown once:",
                key.name, k.prefix
            );
            println!("{secret}");
        }
    }
    Ok(())
}

/// A key as `server key list --json` prints it: what the table says, in
/// fields (the secret and its hash never).
fn key_document(k: &imgflush::backend::model::ApiKey, now: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    serde_json::json!({
        "name": k.name,
        "prefix": format!("imf_{}_", k.prefix),
        "role": k.role.as_str(),
        "state": k.state_at(now, imgflush::backend::key_rules::NOTICE_BEFORE).label(),
        "created": k.created,
        "expires": k.expires,
        "revoked": k.revoked,
        "last_used": k.last_used,
        "last_used_addr": k.last_used_addr,
        "allowed_networks": k.allowed_ips,
        "limits": k.limits,
    })
}
