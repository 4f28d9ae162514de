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
    /// Proxies (CIDR blocks or addresses) whose `X-Forwarded-For` names the
    /// client; from any other peer the header is ignored.
    pub trusted_proxies: Vec<String>,
    /// State-changing console calls (submit, retry, keys, targets) per user per minute.
    pub console_writes_per_minute: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    pub requests_per_minute: u32,
    pub max_body_bytes: usize,
    /// API requests per client address per minute, whatever the key.
    pub requests_per_minute_per_source: u32,
    /// Refused keys per client address per 10 minutes; then 429 without a lookup.
    pub failed_keys_per_source: u32,
    /// Scope-All invalidations per project per hour (console and API together).
    pub all_per_hour: u32,
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

[security]
secure_cookies = "auto"
session_hours = 12
login_attempts_per_account = 5
login_attempts_per_ip = 20
login_window_secs = 900
trusted_proxies = []
console_writes_per_minute = 60

[api]
requests_per_minute = 120
max_body_bytes = 65536
requests_per_minute_per_source = 600
failed_keys_per_source = 20
all_per_hour = 10

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
                config::Environment::with_prefix("APP")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    .list_separator(",")
                    .with_list_parse_key("security.trusted_proxies"),
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
        if self.worker.concurrency == 0 || self.worker.lease_secs == 0 || self.worker.max_attempts == 0 {
            anyhow::bail!("invalid configuration: worker.concurrency, worker.lease_secs and worker.max_attempts must be at least 1");
        }
        self.trusted_proxies()?;
        Ok(())
    }

    /// `security.trusted_proxies`, parsed.
    pub fn trusted_proxies(&self) -> anyhow::Result<crate::client_ip::TrustedProxies> {
        crate::client_ip::TrustedProxies::parse(&self.security.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("invalid configuration: security.trusted_proxies: {e}"))
    }

    /// The rate limits of `[security]` and `[api]`.
    pub fn limit_settings(&self) -> imgflush::backend::limits::LimitSettings {
        use imgflush::backend::limits::{Limit, LimitSettings};
        let (sec, api) = (&self.security, &self.api);
        LimitSettings {
            sign_in_per_account: sec.login_attempts_per_account,
            sign_in_per_source: sec.login_attempts_per_ip,
            sign_in_window: Duration::from_secs(sec.login_window_secs),
            api_per_key: Limit::per_minute(api.requests_per_minute),
            api_per_source: Limit::per_minute(api.requests_per_minute_per_source),
            api_key_failures_per_source: Limit::new(api.failed_keys_per_source, Duration::from_secs(600)),
            scope_all_per_project: Limit::new(api.all_per_hour, Duration::from_secs(3600)),
            console_writes_per_user: Limit::per_minute(sec.console_writes_per_minute),
        }
    }

    pub fn worker_config(&self) -> imgflush::backend::worker::WorkerConfig {
        imgflush::backend::worker::WorkerConfig {
            lease: Duration::from_secs(self.worker.lease_secs),
            poll: Duration::from_millis(self.worker.poll_ms),
            concurrency: self.worker.concurrency,
            target_timeout: Duration::from_secs(self.worker.target_timeout_secs),
            max_attempts: self.worker.max_attempts,
            backoff: Duration::from_millis(self.worker.backoff_ms),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_match_the_services_defaults() {
        let cfg = Config::with_database("sqlite::memory:");
        assert_eq!(cfg.limit_settings(), imgflush::backend::limits::LimitSettings::default());
        assert!(cfg.trusted_proxies().is_ok());
        let mut bad = cfg.clone();
        bad.security.trusted_proxies = vec!["10.0.0.0/40".into()];
        assert!(bad.validate().unwrap_err().to_string().contains("security.trusted_proxies"));
    }

    #[test]
    fn trusted_proxies_from_the_environment_are_a_comma_separated_list() {
        // The only test that reads the environment.
        std::env::set_var("APP__SECURITY__TRUSTED_PROXIES", "10.0.0.0/8,192.0.2.1");
        let cfg = Config::load();
        std::env::remove_var("APP__SECURITY__TRUSTED_PROXIES");
        let cfg = cfg.unwrap();
        assert_eq!(cfg.security.trusted_proxies, ["10.0.0.0/8", "192.0.2.1"]);
    }

    #[test]
    fn secrets_do_not_print() {
        let cfg = Config::with_database("postgres://u:hunter2@localhost/db");
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }
}
