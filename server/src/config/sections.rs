//! The configuration's sections as they deserialize, and [`Secret`].

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
    pub targets: TargetSettings,
    pub edge: EdgeSection,
    pub bootstrap: BootstrapSettings,
    pub limits: LimitsSection,
    pub metrics: MetricsSection,
    pub server: ServerSection,
    pub telemetry: TelemetrySection,
    pub secrets: SecretsSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// The console's address as its users reach it (`https://purge.example.com`):
    /// links meant to leave the console (invitations, permalinks, the API
    /// reference's base URL) start with it. Unset: each request's own host.
    pub public_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySection {
    /// An OpenTelemetry collector's OTLP/HTTP base URL (`/v1/traces` is
    /// added). Unset: no traces are made or sent.
    pub otlp_endpoint: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsSection {
    /// The key that seals CDN providers' credentials in the database: 32
    /// random bytes in base64 (`server secrets new-key`). Also
    /// `IMGFLUSH_SECRETS_KEY`. Unset: no credential can be stored.
    pub key: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// On PostgreSQL, how often each instance reconciles its rate-limit
    /// counts with the others (README "Running at scale": the tolerance).
    pub sync_ms: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// Bearer token for `GET /metrics` from anywhere; while unset, only
    /// direct (unproxied) loopback connections may read it.
    pub token: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSection {
    /// Bearer token edges present to `GET /internal/edge/projects`; the
    /// endpoint answers 404 while it is empty.
    pub settings_token: Option<Secret>,
    /// `server` (serve) also runs one edge and a demo origin on loopback.
    pub embedded: bool,
    pub embedded_addr: String,
    /// The embedded edge's admin listener (`/_purge`, `/metrics`).
    pub embedded_admin_addr: String,
    pub demo_origin_addr: String,
    /// Where the embedded edge keeps its cache, secret and the demo images.
    pub data_dir: String,
    /// The edges' own host names (their `--edge-domain`, `--host-alias`
    /// and public addresses): no project may take one as its custom host.
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSettings {
    /// Networks (CIDRs) purge targets may use besides public unicast addresses.
    pub allowed_networks: Vec<String>,
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
    /// CDN nodes are purged again this long after their first purge; 0: once.
    pub cdn_repeat_ms: u64,
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
    /// How often an open live log stream re-checks its user's access (and
    /// sends its keep-alive); the stream ends once access is gone.
    pub live_recheck_secs: u64,
    /// Live log streams one user may hold open at once; past it, 429.
    pub live_streams_per_user: usize,
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
