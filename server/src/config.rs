//! Typed configuration: defaults → optional TOML file (`IMGFLUSH_CONFIG` or
//! `imgflush.toml`) → `APP__SECTION__KEY` environment variables, plus the
//! ecosystem's own `DATABASE_URL`. Secrets never print through `Debug`.

use std::time::Duration;

use serde::Deserialize;

/// A string that `Debug` and `Display` never reveal.
#[derive(Clone, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub database: DatabaseConfig,
    pub worker: WorkerSettings,
    pub security: SecuritySettings,
    pub api: ApiSettings,
    pub bootstrap: BootstrapSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite:` path or `postgres://` URL; the URL may carry a password.
    pub url: Secret,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    pub enabled: bool,
    pub concurrency: usize,
    pub lease_secs: u64,
    pub poll_ms: u64,
    pub target_timeout_secs: u64,
    pub max_attempts: u32,
    pub backoff_ms: u64,
    /// Claims of one attempt before a job that keeps losing its worker ends `ERROR`.
    pub max_claims: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// `auto` (Secure when the request came over https), `always` or `never`.
    pub secure_cookies: String,
    pub session_hours: i64,
    pub login_attempts_per_account: u32,
    pub login_attempts_per_ip: u32,
    pub login_window_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    pub requests_per_minute: u32,
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapSettings {
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret>,
}

const DEFAULTS: &str = r#"
[database]
url = "sqlite://data/imgflush.db"

[worker]
enabled = true
concurrency = 16
lease_secs = 30
poll_ms = 2000
target_timeout_secs = 10
max_attempts = 3
backoff_ms = 500
max_claims = 5

[security]
secure_cookies = "auto"
session_hours = 12
login_attempts_per_account = 5
login_attempts_per_ip = 20
login_window_secs = 900

[api]
requests_per_minute = 120
max_body_bytes = 65536

[bootstrap]
"#;

impl Config {
    /// Loads the layered configuration; the error names the offending key.
    pub fn load() -> anyhow::Result<Config> {
        let file = std::env::var("IMGFLUSH_CONFIG").unwrap_or_else(|_| "imgflush.toml".to_owned());
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .add_source(config::File::with_name(&file).required(false))
            .add_source(
                config::Environment::with_prefix("APP").prefix_separator("__").separator("__").try_parsing(true),
            );
        if let Ok(url) = std::env::var("DATABASE_URL") {
            builder = builder.set_override("database.url", url)?;
        }
        for (var, key) in [("ADMIN_EMAIL", "bootstrap.admin_email"), ("ADMIN_PASSWORD", "bootstrap.admin_password")] {
            if let Ok(v) = std::env::var(var) {
                builder = builder.set_override(key, v)?;
            }
        }
        let cfg: Config =
            builder.build()?.try_deserialize().map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Defaults with the given database, for tests and tools.
    pub fn with_database(url: &str) -> Config {
        let mut cfg: Config = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .expect("built-in defaults are valid");
        cfg.database.url = Secret::new(url);
        cfg
    }

    fn validate(&self) -> anyhow::Result<()> {
        let url = self.database.url.expose();
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            anyhow::bail!("invalid configuration: database.url (DATABASE_URL) must start with sqlite: or postgres://");
        }
        if !matches!(self.security.secure_cookies.as_str(), "auto" | "always" | "never") {
            anyhow::bail!("invalid configuration: security.secure_cookies must be auto, always or never");
        }
        if self.worker.concurrency == 0
            || self.worker.lease_secs == 0
            || self.worker.max_attempts == 0
            || self.worker.max_claims == 0
        {
            anyhow::bail!("invalid configuration: worker.concurrency, worker.lease_secs, worker.max_attempts and worker.max_claims must be at least 1");
        }
        Ok(())
    }

    /// A pool with room for this configuration's worker lanes and their heartbeats.
    pub fn pool_size(&self) -> imgflush::backend::store::PoolSize {
        imgflush::backend::store::PoolSize::for_worker(self.worker.concurrency)
    }

    pub fn worker_config(&self) -> imgflush::backend::worker::WorkerConfig {
        imgflush::backend::worker::WorkerConfig {
            lease: Duration::from_secs(self.worker.lease_secs),
            poll: Duration::from_millis(self.worker.poll_ms),
            concurrency: self.worker.concurrency,
            target_timeout: Duration::from_secs(self.worker.target_timeout_secs),
            max_attempts: self.worker.max_attempts,
            backoff: Duration::from_millis(self.worker.backoff_ms),
            max_claims: self.worker.max_claims,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let cfg = Config::with_database("postgres://u:hunter2@localhost/db");
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }
}
