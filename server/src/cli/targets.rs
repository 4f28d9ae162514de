//! `server target`: a project's purge targets.

use std::collections::BTreeMap;

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
        TargetCmd::List { project } => {
            let actor = operator(&services, &project).await?;
            for t in services.targets.list(&actor).await.map_err(explain)? {
                let secret = match (&t.secret, &t.credentials) {
                    (Some(_), _) => "secret set",
                    (_, Some(_)) => "credentials set",
                    _ => "no secret",
                };
                let settings: Vec<String> = t.settings.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!("{}\t{}\t{}\t{}\t{}", t.name, t.kind.as_str(), redact_url(&t.url), secret, settings.join(" "));
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
