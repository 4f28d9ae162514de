//! `server project`: create, list, show and change projects.

use anyhow::{anyhow, bail};
use clap::Subcommand;

use imgflush::backend::projects::SettingsPatch;
use imgflush::backend::store::NewProject;
use imgflush::domain::ProjectToken;

use super::project_set::patch_from_pairs;
use super::services::{explain, open, operator};
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
    List {
        /// One JSON array of `{token, name}`.
        #[arg(long)]
        json: bool,
    },
    /// Print every setting of a project (the signing salt only as set or not).
    Show {
        #[arg(long)]
        token: String,
        /// The settings as one JSON object (the same as `GET /api/v1/project`).
        #[arg(long)]
        json: bool,
    },
    /// Change settings, as the Settings page does (same checks): `KEY=VALUE`
    /// pairs, e.g. `server project set --token demo soft_purge=true
    /// origin_hosts=img.example.com,cdn.example.com custom_host=`. Keys:
    /// name, origin_hosts, origin_scheme, max_age_secs, s_maxage_secs,
    /// custom_host, allow_private_origins, private_origins_allowed, sign_salt,
    /// sign_length, sealed, strict_seal, no_upscale, auto_format,
    /// linear_light, soft_purge, verify, tag_sources, tag_rules (repeat the
    /// key, one `pattern tag` rule each), confirm_above_objects,
    /// confirm_above_mb, approval_for_all, approval_hours, retention_days.
    /// Lists are comma-separated; an empty value clears (or empties a list).
    Set {
        #[arg(long)]
        token: String,
        /// A JSON object of the same keys (`-`: standard input), applied before the pairs.
        #[arg(long = "from-json", value_name = "FILE")]
        from_json: Option<String>,
        #[arg(value_name = "KEY=VALUE")]
        pairs: Vec<String>,
        /// Print the settings after the change as JSON.
        #[arg(long)]
        json: bool,
    },
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
        ProjectCmd::List { json } => {
            let projects = services.projects.list_all().await.map_err(explain)?;
            if json {
                let rows: Vec<_> =
                    projects.iter().map(|p| serde_json::json!({ "token": p.token, "name": p.name })).collect();
                super::print_json(&rows)?;
            } else {
                for p in projects {
                    println!("{}\t{}", p.token, p.name);
                }
            }
        }
        ProjectCmd::Show { token, json } => {
            let actor = operator(&services, &token).await?;
            let doc = services.projects.document(&actor).await.map_err(explain)?;
            print_document(&serde_json::to_value(doc)?, json)?;
        }
        ProjectCmd::Set { token, from_json, pairs, json } => {
            let actor = operator(&services, &token).await?;
            let mut doc = match from_json {
                Some(file) => read_json(&file)?,
                None => serde_json::Map::new(),
            };
            doc.extend(patch_from_pairs(&pairs)?);
            if doc.is_empty() {
                bail!("nothing to change: give KEY=VALUE pairs or --from-json (see `server project set --help`)");
            }
            let patch: SettingsPatch = serde_json::from_value(serde_json::Value::Object(doc))
                .map_err(|e| anyhow!("the settings do not read: {e}"))?;
            let after = services.projects.patch_settings(&actor, &patch).await.map_err(explain)?;
            if !json {
                println!("updated project {token}:");
            }
            print_document(&serde_json::to_value(after)?, json)?;
        }
    }
    Ok(())
}

fn read_json(file: &str) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let text = if file == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(file).map_err(|e| anyhow!("--from-json {file}: {e}"))?
    };
    match serde_json::from_str(&text).map_err(|e| anyhow!("--from-json {file}: {e}"))? {
        serde_json::Value::Object(map) => Ok(map),
        _ => bail!("--from-json {file}: give one JSON object of settings, e.g. {{\"soft_purge\": true}}"),
    }
}

fn print_document(doc: &serde_json::Value, json: bool) -> anyhow::Result<()> {
    if json {
        super::print_json(doc)?;
        return Ok(());
    }
    let Some(map) = doc.as_object() else { return Ok(()) };
    let width = map.keys().map(String::len).max().unwrap_or(0);
    for (key, value) in map {
        let shown = match value {
            serde_json::Value::Null => "(none)".to_owned(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        println!("{key:width$}  {shown}");
    }
    Ok(())
}
