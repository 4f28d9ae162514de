//! `server config check` and `server config example`.

use clap::Subcommand;

use crate::config::layers::Layers;
use crate::config::{example, KEYS};

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Print the effective configuration (secrets redacted) and where each
    /// value came from, then check it as `server serve` does: a refusal
    /// exits with code 2.
    Check {
        /// One JSON object: `{"keys": [{"key", "value", "source"}], "ok", "refusal"}`.
        #[arg(long)]
        json: bool,
    },
    /// Print a commented `imgflush.toml` with every key and its default.
    Example,
}

pub fn config(cmd: ConfigCmd) -> anyhow::Result<()> {
    match cmd {
        ConfigCmd::Example => {
            print!("{}", example());
            Ok(())
        }
        ConfigCmd::Check { json } => {
            let layers = Layers::read()?;
            let rows: Vec<(&str, Option<String>, String)> =
                KEYS.iter().map(|k| (k.name, layers.shown(k), layers.source(k).to_string())).collect();
            let verdict = layers.config().map(drop);
            if json {
                let keys: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|(key, value, source)| serde_json::json!({ "key": key, "value": value, "source": source }))
                    .collect();
                let refusal = verdict.as_ref().err().map(|e| e.to_string());
                let out = serde_json::json!({ "keys": keys, "ok": verdict.is_ok(), "refusal": refusal });
                super::print_json(&out)?;
            } else {
                let width = rows.iter().map(|(k, ..)| k.len()).max().unwrap_or(0);
                for (key, value, source) in &rows {
                    let value = value.as_deref().unwrap_or("(unset)");
                    println!("{key:width$}  {value}  [{source}]");
                }
                if verdict.is_ok() {
                    println!("\nok: `server serve` starts with this configuration");
                }
            }
            verdict
        }
    }
}
