//! Typed configuration of one edge node. The caller (the `server` binary, a
//! test) fills it; nothing here reads the environment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use imgflush::domain::proxies::{Cidr, TrustedProxies};

use crate::secret::Secret;
use crate::settings::ProjectSettings;

#[derive(Clone, Debug)]
pub struct EdgeConfig {
    /// Where the caller binds the listener it hands to `edge::serve`.
    pub listen: SocketAddr,
    pub cache_dir: PathBuf,
    /// Disk bytes the cached objects may use; least recently used go first.
    pub cache_max_bytes: u64,
    /// Memory for small, recently used bodies on top of the disk cache
    /// (0 = always read from disk).
    pub memory_cache_bytes: u64,
    /// Where the caller binds the admin listener (`/_purge`, `/metrics`).
    pub admin_listen: SocketAddr,
    /// The node secret. A purge of project `T` carries
    /// `Authorization: Bearer {project_secret(node, T)}`, never this.
    pub purge_secret: Secret,
    /// Route of the purge endpoint; `/_purge` and `/purge` are always served.
    pub purge_path: String,
    /// `{token}.{edge_domain}` addresses a project by its host name.
    pub edge_domain: Option<String>,
    /// Peers whose `X-Forwarded-For` names the client the miss limit counts
    /// (the CDN nodes or Varnish in front of this edge); others count as themselves.
    pub trusted_proxies: TrustedProxies,
    /// Other host names of this edge: no project's custom host may take them.
    pub host_aliases: Vec<String>,
    pub settings: SettingsConfig,
    pub limits: Limits,
    /// A shield (parent) edge's image port, e.g. `http://10.0.0.5:8081`:
    /// misses fetch the transformed variant from it, not the origin (README
    /// "Shield tier"). Its address is allowed whatever the origin rules say.
    pub parent: Option<url::Url>,
    /// On a shield: the child edges' addresses, the only peers whose internal
    /// requests (signed with `shield_secret`) it answers.
    pub shield_children: Vec<Cidr>,
    /// Shared by a shield and its children; required with either field above.
    pub shield_secret: Option<Secret>,
}

impl EdgeConfig {
    /// A config with the defaults for everything but the three things an
    /// edge cannot guess.
    pub fn new(cache_dir: impl Into<PathBuf>, purge_secret: Secret, settings: SettingsConfig) -> Self {
        EdgeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            cache_dir: cache_dir.into(),
            cache_max_bytes: 1 << 30,
            memory_cache_bytes: 64 << 20,
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 8082)),
            purge_secret,
            purge_path: "/_purge".to_owned(),
            edge_domain: None,
            trusted_proxies: TrustedProxies::default(),
            host_aliases: Vec::new(),
            settings,
            limits: Limits::default(),
            parent: None,
            shield_children: Vec::new(),
            shield_secret: None,
        }
    }
}

impl EdgeConfig {
    /// The names that address this edge itself, for [`crate::request::parse`].
    pub(crate) fn host_names(&self) -> crate::request::HostNames<'_> {
        crate::request::HostNames { edge_domain: self.edge_domain.as_deref(), aliases: &self.host_aliases }
    }
}

/// Where the per-project settings come from.
#[derive(Clone, Debug)]
pub enum SettingsConfig {
    /// A fixed list (tests, the embedded demo).
    Static(Vec<ProjectSettings>),
    /// Poll `GET {url}` (the console's `/internal/edge/projects`) with
    /// `Authorization: Bearer {secret}` every `poll_interval`.
    Console { url: String, secret: Secret, poll_interval: Duration },
}

#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest origin body fetched; larger ones are refused while streaming.
    pub max_origin_bytes: u64,
    /// Largest decoded image (width × height), checked before decoding.
    pub max_pixels: u64,
    /// Largest `w` / `h` accepted.
    pub max_output_side: u32,
    /// Largest output (width × height), and largest buffer a resize makes
    /// (unless the source itself is larger): over it, a 400 naming `w`/`h`.
    pub max_output_pixels: u64,
    pub connect_timeout: Duration,
    /// Whole origin request, body included.
    pub origin_timeout: Duration,
    /// How long an origin 404 stays cached.
    pub not_found_ttl: Duration,
    /// Concurrent decode/resize/encode jobs (CPU bound).
    pub transform_workers: usize,
    /// Misses (origin fetch + transform) a minute per project token, in
    /// bursts of up to as many; past it a 429 with `Retry-After`. 0 = no limit.
    pub misses_per_minute_per_token: u32,
    /// The same per client address (see `trusted_proxies`).
    pub misses_per_minute_per_client: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_origin_bytes: 32 << 20,
            max_pixels: 50_000_000,
            max_output_side: 8192,
            max_output_pixels: crate::plan::DEFAULT_MAX_OUTPUT_PIXELS,
            connect_timeout: Duration::from_secs(3),
            origin_timeout: Duration::from_secs(20),
            not_found_ttl: Duration::from_secs(60),
            transform_workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            misses_per_minute_per_token: 6000,
            misses_per_minute_per_client: 1200,
        }
    }
}
