//! `server sso`: the identity providers for single sign-on, as on the
//! owners' `/sso` page (the client secret from the environment, never an
//! argument: arguments show in `ps` and shell history).

use anyhow::{anyhow, bail};
use clap::Subcommand;

use imgflush::backend::ServiceError;
use imgflush::domain::sso::ProviderInput;

use super::services::{explain, open};
use crate::config::Config;

#[derive(Subcommand)]
pub enum SsoCmd {
    /// Add an OpenID Connect provider; the client secret is read from
    /// IMGFLUSH_SSO_CLIENT_SECRET and sealed with the credential key.
    Add {
        /// What the sign-in page's button says: "Sign in with NAME".
        #[arg(long)]
        name: String,
        #[arg(long)]
        issuer: String,
        #[arg(long)]
        client_id: String,
        /// Allowed e-mail domains, comma-separated.
        #[arg(long)]
        domains: String,
        /// The ID token claim listing the user's groups.
        #[arg(long, default_value = "")]
        groups_claim: String,
        /// `group=project_token:role`, repeatable.
        #[arg(long = "group")]
        groups: Vec<String>,
    },
    /// List the providers (the secret shown as "set").
    List {
        /// One JSON array (the client secret only as set).
        #[arg(long)]
        json: bool,
    },
    /// Remove a provider by its id (see `list`).
    Remove {
        #[arg(long)]
        id: i64,
    },
}

pub async fn sso(config: &Config, cmd: SsoCmd) -> anyhow::Result<()> {
    let services = open(config).await?;
    match cmd {
        SsoCmd::Add { name, issuer, client_id, domains, groups_claim, groups } => {
            let client_secret = std::env::var("IMGFLUSH_SSO_CLIENT_SECRET")
                .map_err(|_| anyhow!("set IMGFLUSH_SSO_CLIENT_SECRET to the client secret"))?;
            let input = ProviderInput {
                name,
                issuer,
                client_id,
                client_secret,
                domains,
                groups_claim,
                group_map: groups.join("\n"),
            };
            let id = services.sso.operator_add(&input).await.map_err(explain)?;
            println!("added identity provider {id}: register <console>/login/sso/callback as its redirect URI");
        }
        SsoCmd::List { json } => {
            let providers = services.sso.operator_providers().await.map_err(explain)?;
            if json {
                let docs: Vec<_> = providers
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "id": p.id,
                            "name": p.name,
                            "issuer": p.issuer,
                            "client_id": p.client_id,
                            "client_secret_set": true,
                            "domains": p.domains,
                            "groups_claim": p.groups_claim,
                            "group_map": p.group_map.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                super::print_json(&docs)?;
                return Ok(());
            }
            for p in providers {
                let groups = p.group_map.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
                let claim = p.groups_claim.as_deref().unwrap_or("-");
                println!(
                    "{}\t{}\t{}\t{}\tsecret set\t{}\t{claim}\t{groups}",
                    p.id,
                    p.name,
                    p.issuer,
                    p.client_id,
                    p.domains.join(",")
                );
            }
        }
        SsoCmd::Remove { id } => match services.sso.operator_remove(id).await {
            Ok(()) => println!("removed identity provider {id}"),
            Err(ServiceError::NotFound) => bail!("--id: no identity provider {id}"),
            Err(e) => return Err(explain(e)),
        },
    }
    Ok(())
}
