//! Every configuration key: its default, its environment variables and what
//! it does. `server config example` prints this table as a commented
//! `imgflush.toml`; `server config check` walks it to say where each value
//! came from. A test keeps it and the built-in defaults the same.

/// One key of `imgflush.toml`.
pub struct Key {
    /// `section.name`.
    pub name: &'static str,
    /// As TOML; `None`: unset unless configured.
    pub default: Option<&'static str>,
    /// Shown as `[redacted]` (a database URL shows all but its password).
    pub secret: bool,
    /// Variables read besides `APP__SECTION__NAME`, strongest last.
    pub aliases: &'static [&'static str],
    pub doc: &'static str,
}

const fn key(name: &'static str, default: &'static str, doc: &'static str) -> Key {
    Key { name, default: Some(default), secret: false, aliases: &[], doc }
}

const fn unset(name: &'static str, secret: bool, aliases: &'static [&'static str], doc: &'static str) -> Key {
    Key { name, default: None, secret, aliases, doc }
}

pub const KEYS: &[Key] = &[
    Key {
        name: "database.url",
        default: Some("\"sqlite://data/imgflush.db\""),
        secret: true,
        aliases: &["DATABASE_URL"],
        doc: "sqlite: path (one instance) or postgres:// URL (several instances sharing one database).",
    },
    key("worker.enabled", "true", "Run a purge worker inside `server serve` (`--no-worker` turns it off)."),
    key("worker.concurrency", "16", "Lanes per worker; each claims up to 4 jobs at once from a backlog."),
    key("worker.lease_secs", "30", "A job whose worker died is resumed after this many seconds."),
    key("worker.poll_ms", "2000", "Fallback poll for due jobs (milliseconds)."),
    key("worker.target_timeout_secs", "10", "Timeout of one purge call (seconds)."),
    key("worker.max_attempts", "3", "Automatic attempts per target before it counts as failed."),
    key("worker.backoff_ms", "500", "Wait before the first automatic retry, doubling after each."),
    key("worker.max_claims", "5", "Claims of one attempt before a job that keeps losing its worker ends ERROR."),
    key("worker.cdn_repeat_ms", "1000", "CDN nodes are purged once more this long after their first purge; 0: once."),
    key("security.secure_cookies", "\"auto\"", "auto (Secure behind https), always or never."),
    key("security.session_hours", "12", "Sign-in sessions end after this many hours without activity."),
    key("security.login_attempts_per_account", "5", "Sign-in attempts per account and client address, per window."),
    key("security.login_attempts_per_ip", "20", "Sign-in attempts per client address, per window."),
    key("security.login_window_secs", "900", "The sign-in attempts' window (seconds)."),
    key("security.trusted_proxies", "[]", "Reverse proxies (CIDRs) whose X-Forwarded-For names the client."),
    key("security.console_writes_per_minute", "60", "State-changing console calls per user per minute; 0: no limit."),
    key("security.live_recheck_secs", "15", "How often an open live log re-checks its user's access (seconds)."),
    key("security.live_streams_per_user", "8", "Live log streams one user may hold open at once."),
    key("api.requests_per_minute", "120", "API requests per key per minute; 0: no limit."),
    key("api.max_body_bytes", "65536", "Largest API request body (bytes)."),
    key("api.requests_per_minute_per_source", "600", "API requests per client address per minute; 0: no limit."),
    key("api.failed_keys_per_source", "20", "Refused keys per client address per 10 minutes; 0: no limit."),
    key("api.all_per_hour", "10", "Scope-All invalidations per project per hour; 0: no limit."),
    key(
        "targets.allowed_networks",
        "[]",
        "Networks (CIDRs) purge targets may use besides public addresses, e.g. [\"10.20.0.0/16\"]. \
         The embedded edge's own purge address is always allowed.",
    ),
    unset(
        "edge.settings_token",
        true,
        &[],
        "Bearer token (32+ characters) edges present to /internal/edge/projects; `server serve` makes one for \
         its embedded edge when unset.",
    ),
    key("edge.embedded", "true", "`server serve` also runs one edge and a demo origin on loopback."),
    key("edge.embedded_addr", "\"127.0.0.1:3002\"", "The embedded edge's image address."),
    key("edge.embedded_admin_addr", "\"127.0.0.1:3004\"", "The embedded edge's purge and metrics address."),
    key("edge.demo_origin_addr", "\"127.0.0.1:3003\"", "The demo origin's address."),
    key("edge.data_dir", "\"data\"", "Where the embedded edge keeps its cache, its secret and the demo images."),
    key("edge.names", "[]", "The edges' own host names: no project may take one as its custom host."),
    unset(
        "bootstrap.admin_email",
        false,
        &["ADMIN_EMAIL"],
        "The first start's owner account (admin@example.com when unset).",
    ),
    unset("bootstrap.admin_password", true, &["ADMIN_PASSWORD"], "Its password (a random one is printed when unset)."),
    key("limits.sync_ms", "1000", "PostgreSQL: how often instances reconcile their rate-limit counts (ms)."),
    unset(
        "metrics.token",
        true,
        &[],
        "Bearer token (16+ characters) for GET /metrics; unset: only direct loopback connections may read it.",
    ),
    unset(
        "server.public_url",
        false,
        &[],
        "The console's address as its users reach it, e.g. https://purge.example.com: invitation links, permalinks \
         and the API reference start with it; unset: the address each request came to (its Host header).",
    ),
    unset(
        "telemetry.otlp_endpoint",
        false,
        &[],
        "OpenTelemetry collector (OTLP over HTTP) receiving traces of each invalidation, from the request through \
         the worker to every purge call, e.g. http://127.0.0.1:4318; unset: no traces.",
    ),
    unset(
        "secrets.key",
        true,
        &["IMGFLUSH_SECRETS_KEY"],
        "Key sealing CDN credentials in the database (`server secrets new-key`); unset: none can be stored.",
    ),
];

/// The environment variable `APP__SECTION__NAME` of `name`.
pub fn env_name(name: &str) -> String {
    format!("APP__{}", name.replace('.', "__").to_uppercase())
}

/// A commented `imgflush.toml` with every key at its default.
pub fn example() -> String {
    let mut out = String::from(
        "# imgflush.toml: every key with its default (`server config example`).\n\
         # Read from ./imgflush.toml or the file IMGFLUSH_CONFIG names; each key can\n\
         # also be set as APP__SECTION__KEY (lists comma-separated), which wins.\n",
    );
    let mut section = "";
    for k in KEYS {
        let (sec, name) = k.name.split_once('.').expect("section.key");
        if sec != section {
            out.push_str(&format!("\n[{sec}]\n"));
            section = sec;
        }
        let mut vars = vec![env_name(k.name)];
        vars.extend(k.aliases.iter().map(|a| (*a).to_owned()));
        out.push_str(&format!("# {} (env: {})\n", k.doc, vars.join(", ")));
        match k.default {
            Some(v) => out.push_str(&format!("{name} = {v}\n")),
            None => out.push_str(&format!("# {name} = \n")),
        }
    }
    out
}
