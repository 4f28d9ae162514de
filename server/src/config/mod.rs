//! Typed configuration: defaults → optional TOML file (`IMGFLUSH_CONFIG` or
//! `imgflush.toml`) → `APP__SECTION__KEY` environment variables, plus the
//! ecosystem's own `DATABASE_URL`. Secrets never print through `Debug`.

mod keys;
pub mod layers;
mod sections;
mod validate;

pub use keys::{env_name, example, Key, KEYS};
pub use sections::*;

use std::time::Duration;

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
cdn_repeat_ms = 1000

[security]
secure_cookies = "auto"
session_hours = 12
login_attempts_per_account = 5
login_attempts_per_ip = 20
login_window_secs = 900
trusted_proxies = []
console_writes_per_minute = 60
live_recheck_secs = 15
live_streams_per_user = 8

[api]
requests_per_minute = 120
max_body_bytes = 65536
requests_per_minute_per_source = 600
failed_keys_per_source = 20
all_per_hour = 10

[targets]
allowed_networks = []

[edge]
embedded = true
embedded_addr = "127.0.0.1:3002"
embedded_admin_addr = "127.0.0.1:3004"
demo_origin_addr = "127.0.0.1:3003"
data_dir = "data"
names = []

[bootstrap]

[limits]
sync_ms = 1000

[metrics]

[server]

[telemetry]

[secrets]
"#;

/// Shortest `edge.settings_token` accepted (the edges' `EDGE_SETTINGS_TOKEN` too).
pub const MIN_SETTINGS_TOKEN: usize = 32;

/// What tests and local tools allow besides public addresses: loopback.
pub const LOOPBACK_NETWORKS: [&str; 2] = ["127.0.0.0/8", "::1/128"];

/// A configuration that cannot work, as one sentence naming the setting and
/// the fix. `server` prints it alone and exits with code 2.
#[derive(Debug)]
pub struct Refusal(pub String);

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

/// A [`Refusal`] as the error every loader returns.
pub fn refuse(sentence: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Refusal(sentence.into()))
}

impl Config {
    /// Defaults with the given database, for tests and tools; purge targets
    /// may also be on loopback (the test recorders listen there).
    pub fn with_database(url: &str) -> Config {
        let mut cfg: Config = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .expect("built-in defaults are valid");
        cfg.database.url = Secret::new(url);
        cfg.targets.allowed_networks = LOOPBACK_NETWORKS.map(str::to_owned).to_vec();
        cfg
    }

    /// The key that seals providers' credentials (`secrets.key`, checked by
    /// [`Self::load`]); none when unset.
    pub fn vault(&self) -> imgflush::backend::vault::Vault {
        match &self.secrets.key {
            Some(key) => {
                imgflush::backend::vault::Vault::from_key_text(key.expose()).expect("secrets.key was validated at load")
            }
            None => imgflush::backend::vault::Vault::none(),
        }
    }

    /// `server.public_url` without a trailing slash (checked at load).
    pub fn public_url(&self) -> Option<String> {
        self.server.public_url.as_deref().map(|u| u.trim_end_matches('/').to_owned())
    }

    /// The edges' own names, which no project may take as its custom host:
    /// `edge.names`, and the embedded edge's addresses while it runs.
    pub fn edge_names(&self) -> Vec<String> {
        let mut names = self.edge.names.clone();
        if self.edge.embedded {
            names.extend([self.edge.embedded_addr.clone(), self.edge.embedded_admin_addr.clone()]);
        }
        names
    }

    /// A pool with room for this configuration's worker lanes and their heartbeats.
    pub fn pool_size(&self) -> imgflush::backend::store::PoolSize {
        imgflush::backend::store::PoolSize::for_worker(self.worker.concurrency)
    }

    /// `security.trusted_proxies`, parsed.
    pub fn trusted_proxies(&self) -> anyhow::Result<crate::client_ip::TrustedProxies> {
        crate::client_ip::TrustedProxies::parse(&self.security.trusted_proxies).map_err(|e| {
            refuse(format!("security.trusted_proxies has an entry that is not a network: {e}; fix or remove it"))
        })
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

    /// The live log's re-check interval and per-user stream cap.
    pub fn live_settings(&self) -> imgflush::backend::live::LiveSettings {
        imgflush::backend::live::LiveSettings {
            recheck: Duration::from_secs(self.security.live_recheck_secs),
            streams_per_user: self.security.live_streams_per_user,
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
            max_claims: self.worker.max_claims,
            cdn_repeat: (self.worker.cdn_repeat_ms > 0).then(|| Duration::from_millis(self.worker.cdn_repeat_ms)),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::layers::show;
    use super::*;

    #[test]
    fn zero_values_are_refused_naming_the_key() {
        type SetZero = fn(&mut Config);
        let keys: [(&str, SetZero); 11] = [
            ("worker.concurrency", |c| c.worker.concurrency = 0),
            ("worker.lease_secs", |c| c.worker.lease_secs = 0),
            ("worker.poll_ms", |c| c.worker.poll_ms = 0),
            ("worker.max_attempts", |c| c.worker.max_attempts = 0),
            ("worker.target_timeout_secs", |c| c.worker.target_timeout_secs = 0),
            ("security.session_hours", |c| c.security.session_hours = 0),
            ("security.login_attempts_per_account", |c| c.security.login_attempts_per_account = 0),
            ("security.login_attempts_per_ip", |c| c.security.login_attempts_per_ip = 0),
            ("security.login_window_secs", |c| c.security.login_window_secs = 0),
            ("api.max_body_bytes", |c| c.api.max_body_bytes = 0),
            ("limits.sync_ms", |c| c.limits.sync_ms = 0),
        ];
        assert!(Config::with_database("sqlite::memory:").validate().is_ok());
        for (key, zero) in keys {
            let mut cfg = Config::with_database("sqlite::memory:");
            zero(&mut cfg);
            let err = cfg.validate().unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
        let mut cfg = Config::with_database("sqlite::memory:");
        cfg.api.requests_per_minute = 0;
        assert!(cfg.validate().is_ok(), "a zero rate limit turns it off, as docs/API.md says");
        let mut cfg = Config::with_database("sqlite::memory:");
        cfg.worker.concurrency = 0;
        let err = cfg.validate().unwrap_err();
        let refusal = err.downcast_ref::<Refusal>().expect("a refusal: exit code 2");
        assert!(refusal.0.contains("APP__WORKER__CONCURRENCY") && refusal.0.contains("1 or more"), "{refusal}");
        let mut cfg = Config::with_database("sqlite::memory:");
        cfg.security.session_hours = -1;
        assert!(cfg.validate().unwrap_err().to_string().contains("security.session_hours"));
    }

    #[test]
    fn allowed_networks_default_to_public_only_and_are_checked() {
        let mut cfg = Config::with_database("sqlite::memory:");
        assert!(cfg.target_network().permits("127.0.0.1".parse().unwrap()), "tests allow loopback");
        cfg.targets.allowed_networks = vec![];
        assert!(!cfg.target_network().permits("127.0.0.1".parse().unwrap()));
        // The embedded edge's own purge address stays allowed, and nothing else on loopback.
        let purge = |c: &Config, u: &str| c.target_network().check_url(&reqwest::Url::parse(u).unwrap());
        assert!(purge(&cfg, "http://127.0.0.1:3004/_purge").is_ok());
        assert!(purge(&cfg, "http://127.0.0.1:3000/").is_err());
        cfg.edge.embedded = false;
        assert!(purge(&cfg, "http://127.0.0.1:3004/_purge").is_err(), "no embedded edge, no exception");
        cfg.targets.allowed_networks = vec!["10.0.0.0/8".into(), "not-a-net".into()];
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("targets.allowed_networks") && err.contains("not-a-net"), "{err}");
        let defaults: Config = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .unwrap();
        assert!(defaults.targets.allowed_networks.is_empty(), "public unicast only by default");
    }

    #[test]
    fn cdn_nodes_are_purged_again_after_a_second_by_default() {
        let mut cfg = Config::with_database("sqlite::memory:");
        assert_eq!(cfg.worker_config().cdn_repeat, Some(Duration::from_secs(1)));
        cfg.worker.cdn_repeat_ms = 0;
        assert_eq!(cfg.worker_config().cdn_repeat, None, "0: once");
    }

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
    fn a_short_settings_token_is_refused_naming_the_setting() {
        let mut cfg = Config::with_database("sqlite::memory:");
        cfg.edge.settings_token = Some(Secret::new("a".repeat(MIN_SETTINGS_TOKEN - 1)));
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("edge.settings_token") && err.contains("32"), "{err}");
        cfg.edge.settings_token = Some(Secret::new("a".repeat(MIN_SETTINGS_TOKEN)));
        assert!(cfg.validate().is_ok());
        cfg.edge.settings_token = None;
        assert!(cfg.validate().is_ok(), "unset: the endpoint is not served");
    }

    /// The table `server config example` prints is the defaults the server uses.
    #[test]
    fn the_example_holds_every_key_at_its_default() {
        let defaults = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()
            .unwrap();
        let example = config::Config::builder()
            .add_source(config::File::from_str(&example(), config::FileFormat::Toml))
            .build()
            .unwrap();
        for key in KEYS {
            let d = defaults.get::<config::Value>(key.name).ok().map(show);
            assert_eq!(d, example.get::<config::Value>(key.name).ok().map(show), "{}", key.name);
            assert_eq!(d.is_some(), key.default.is_some(), "{}: default in the table and in DEFAULTS", key.name);
        }
        // Every key the server reads is in the table.
        let table = defaults.try_deserialize::<std::collections::HashMap<String, config::Value>>().unwrap();
        for (section, value) in table {
            for name in value.into_table().unwrap().keys() {
                let key = format!("{section}.{name}");
                assert!(KEYS.iter().any(|k| k.name == key), "{key} is not documented in config/keys.rs");
            }
        }
        let cfg: Config = example.try_deserialize().unwrap();
        cfg.validate().unwrap();
    }

    #[test]
    fn secrets_do_not_print() {
        let cfg = Config::with_database("postgres://u:hunter2@localhost/db");
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }
}
