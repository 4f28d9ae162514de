//! `server target`: a project's purge targets.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail};
use clap::Subcommand;

use imgflush::backend::store::Target;
use imgflush::backend::targets::{redact_url, TargetBody, TargetDocument, TargetInput};
use imgflush::backend::{Actor, Services};

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
        /// Empty for a provider's public API (cloudflare, fastly, cloudfront, bunny).
        #[arg(long, default_value = "")]
        url: String,
        #[arg(long, env = "IMGFLUSH_TARGET_SECRET", hide_env_values = true)]
        secret: Option<String>,
        /// A setting of the kind, `KEY=VALUE` (repeat it), e.g. `--setting zone_id=023e…`;
        /// `KEY=env:NAME` reads the value from the environment variable NAME, so
        /// credentials stay out of the shell's history: `--setting api_token=env:CF_TOKEN`.
        #[arg(long = "setting", value_name = "KEY=VALUE")]
        settings: Vec<String>,
    },
    List {
        #[arg(long)]
        project: String,
        /// One JSON array (the same documents as `GET /api/v1/targets`).
        #[arg(long)]
        json: bool,
    },
    /// One target's settings (secrets and credentials only as set or not).
    Show {
        #[arg(long)]
        project: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a target: only what is given changes; a secret or credential
    /// is replaced only when given (`--setting api_token=env:CF_TOKEN`).
    Edit {
        #[arg(long)]
        project: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        rename: Option<String>,
        #[arg(long)]
        url: Option<String>,
        #[arg(long, env = "IMGFLUSH_TARGET_SECRET", hide_env_values = true)]
        secret: Option<String>,
        #[arg(long = "setting", value_name = "KEY=VALUE")]
        settings: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Ask the target whether it works (a harmless purge or an authenticated read).
    Test {
        #[arg(long)]
        project: String,
        #[arg(long)]
        name: String,
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
        TargetCmd::Add { project, kind, name, url, secret, settings } => {
            let actor = operator(&services, &project).await?;
            let settings = parse_settings(&settings)?;
            let input = TargetInput { kind, name, url, secret, settings };
            let t = services.targets.add(&actor, &input).await.map_err(explain)?;
            println!("added {} target {} -> {}", t.kind.as_str(), t.name, redact_url(&t.url));
        }
        TargetCmd::List { project, json } => {
            let actor = operator(&services, &project).await?;
            let docs = services.targets.documents(&actor).await.map_err(explain)?;
            if json {
                super::print_json(&docs)?;
            }
            for t in docs.iter().filter(|_| !json) {
                let secret = match (t.secret_set, t.credentials_set) {
                    (true, _) => "secret set",
                    (_, true) => "credentials set",
                    _ => "no secret",
                };
                let settings: Vec<String> = t.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!("{}\t{}\t{}\t{}\t{}", t.name, t.kind, t.url, secret, settings.join(" "));
            }
        }
        TargetCmd::Show { project, name, json } => {
            let actor = operator(&services, &project).await?;
            let t = find(&services, &actor, &name).await?;
            show(&TargetDocument::new(&t, actor.role), json)?;
        }
        TargetCmd::Edit { project, name, rename, url, secret, settings, json } => {
            let actor = operator(&services, &project).await?;
            let t = find(&services, &actor, &name).await?;
            let settings = parse_settings(&settings)?;
            let body = TargetBody { kind: None, name: rename, url, secret, settings: Some(settings) };
            let doc = services.targets.change(&actor, &t, &body).await.map_err(explain)?;
            if !json {
                println!("changed target {}", doc.name);
            }
            show(&doc, json)?;
        }
        TargetCmd::Test { project, name } => {
            let actor = operator(&services, &project).await?;
            let t = find(&services, &actor, &name).await?;
            let answer = services.targets.test(&actor, t.id).await.map_err(explain)?;
            println!("{}: {answer}", t.name);
            if answer.starts_with("failed") {
                bail!("target {} failed its test", t.name);
            }
        }
        TargetCmd::Remove { project, name } => {
            let actor = operator(&services, &project).await?;
            let t = find(&services, &actor, &name).await?;
            services.targets.remove(&actor, t.id).await.map_err(explain)?;
            println!("removed target {name}");
        }
    }
    Ok(())
}

async fn find(services: &Services, actor: &Actor, name: &str) -> anyhow::Result<Target> {
    let targets = services.targets.list(actor).await.map_err(explain)?;
    let token = &actor.project.token;
    targets
        .into_iter()
        .find(|t| t.name == name)
        .ok_or_else(|| anyhow!("--name: project {token} has no target named `{name}`"))
}

fn show(doc: &TargetDocument, json: bool) -> anyhow::Result<()> {
    if json {
        super::print_json(doc)?;
        return Ok(());
    }
    println!("name         {}\nkind         {}\nurl          {}", doc.name, doc.kind, doc.url);
    println!("secret       {}\ncredentials  {}", set(doc.secret_set), set(doc.credentials_set));
    for (k, v) in &doc.settings {
        println!("setting      {k}={v}");
    }
    Ok(())
}

fn set(yes: bool) -> &'static str {
    if yes {
        "set"
    } else {
        "not set"
    }
}

/// `KEY=VALUE` pairs, `env:NAME` values read from the environment.
fn parse_settings(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| anyhow!("--setting: expected KEY=VALUE (e.g. zone_id=023e…), got {pair:?}"))?;
        let value = match value.strip_prefix("env:") {
            Some(name) => std::env::var(name)
                .map_err(|_| anyhow!("--setting {key}: the environment variable {name} is not set"))?,
            None => value.to_owned(),
        };
        out.insert(key.trim().to_owned(), value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::parse_settings;

    #[test]
    fn settings_are_pairs_and_credentials_may_come_from_the_environment() {
        std::env::set_var("IMGFLUSH_TEST_CLI_CF_TOKEN", "tok-from-env");
        let s = parse_settings(&["zone_id=abc".into(), "api_token=env:IMGFLUSH_TEST_CLI_CF_TOKEN".into()]).unwrap();
        assert_eq!(s.get("zone_id").map(String::as_str), Some("abc"));
        assert_eq!(s.get("api_token").map(String::as_str), Some("tok-from-env"));
        let e = parse_settings(&["zone_id".into()]).unwrap_err().to_string();
        assert!(e.contains("KEY=VALUE"), "{e}");
        let e = parse_settings(&["api_token=env:IMGFLUSH_TEST_CLI_UNSET".into()]).unwrap_err().to_string();
        assert!(e.contains("IMGFLUSH_TEST_CLI_UNSET is not set"), "{e}");
    }
}
