//! `server secrets`: the key that seals CDN providers' credentials.

use anyhow::anyhow;
use clap::Subcommand;

use imgflush::backend::store;
use imgflush::backend::vault::{self, Vault};

use crate::config::Config;

#[derive(Subcommand)]
pub enum SecretsCmd {
    /// Print a new random key (32 bytes, base64) for `secrets.key`.
    NewKey,
    /// Re-seal every stored credential under a new key, read from the
    /// environment variable NAME (the configured `secrets.key` opens them);
    /// then configure the new key.
    Rotate {
        #[arg(long, value_name = "NAME", default_value = "IMGFLUSH_NEW_SECRETS_KEY")]
        new_key_env: String,
    },
    /// Check that the configured key opens every stored credential.
    Check,
}

pub async fn secrets(config: &Config, cmd: SecretsCmd) -> anyhow::Result<()> {
    match cmd {
        SecretsCmd::NewKey => println!("{}", Vault::new_key_text()),
        SecretsCmd::Rotate { new_key_env } => {
            let text = std::env::var(&new_key_env)
                .map_err(|_| anyhow!("--new-key-env: set {new_key_env} to the new key (`server secrets new-key`)"))?;
            let new = Vault::from_key_text(&text).map_err(|e| anyhow!("{new_key_env}: {e}"))?;
            let store = store::connect(config.database.url.expose()).await?.store;
            let n = vault::rotate(&store, &config.vault(), &new).await.map_err(|e| anyhow!(e))?;
            println!(
                "re-sealed {} under key {}; now set secrets.key (IMGFLUSH_SECRETS_KEY) to the new key",
                imgflush::domain::count(n as u64, "credential", "credentials"),
                new.key_id().unwrap_or("?")
            );
        }
        SecretsCmd::Check => {
            let store = store::connect(config.database.url.expose()).await?.store;
            let n = vault::check_stored(&store, &config.vault()).await.map_err(|e| anyhow!(e))?;
            println!(
                "{}; the configured key opens them",
                imgflush::domain::count(n as u64, "stored credential", "stored credentials")
            );
        }
    }
    Ok(())
}
