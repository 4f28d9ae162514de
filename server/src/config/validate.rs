//! The checks a configuration passes before anything starts: each refusal is
//! one sentence naming the setting and the fix (`server` exits with code 2).

use std::net::SocketAddr;

use imgflush::backend::network::NetworkPolicy;

use super::{env_name, refuse, Config, MIN_SETTINGS_TOKEN};

impl Config {
    /// The operator's `targets.allowed_networks` (checked by [`Self::validate`]),
    /// plus the embedded edge's own purge address while it runs: the operator
    /// configured it, so the defaults work without opening all of loopback.
    pub fn target_network(&self) -> NetworkPolicy {
        let policy = NetworkPolicy::parse(&self.targets.allowed_networks)
            .expect("targets.allowed_networks was validated at load");
        match self.embedded_admin() {
            Some(admin) => policy.with_endpoint(admin),
            None => policy,
        }
    }

    /// The embedded edge's admin address, when it runs on a fixed address.
    fn embedded_admin(&self) -> Option<SocketAddr> {
        let addr: SocketAddr = self.edge.embedded_admin_addr.parse().ok()?;
        (self.edge.embedded && addr.port() != 0).then_some(addr)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(key) = &self.secrets.key {
            imgflush::backend::vault::Vault::from_key_text(key.expose()).map_err(|e| {
                refuse(format!(
                    "secrets.key (IMGFLUSH_SECRETS_KEY) is not usable ({e}): make one with `server secrets new-key`"
                ))
            })?;
        }
        let url = self.database.url.expose();
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(refuse(
                "database.url (DATABASE_URL) must start with sqlite: or postgres://: set it to e.g. \
                 sqlite://data/imgflush.db or postgres://user@host/db",
            ));
        }
        if !matches!(self.security.secure_cookies.as_str(), "auto" | "always" | "never") {
            return Err(refuse(format!(
                "security.secure_cookies is `{}`: set it to auto, always or never",
                self.security.secure_cookies
            )));
        }
        self.check_positive()?;
        NetworkPolicy::parse(&self.targets.allowed_networks).map_err(|e| {
            refuse(format!("targets.allowed_networks has an entry that is not a network: {e}; fix or remove it"))
        })?;
        self.trusted_proxies()?;
        if let Some(url) = &self.server.public_url {
            let ok = url.parse::<axum::http::Uri>().is_ok_and(|u| {
                matches!(u.scheme_str(), Some("http" | "https"))
                    && u.host().is_some_and(|h| !h.is_empty())
                    && u.query().is_none()
                    && u.path().trim_end_matches('/').is_empty()
            });
            if !ok {
                return Err(refuse(format!(
                    "server.public_url ({url:?}) must be the console's http:// or https:// address without a path, \
                     e.g. https://purge.example.com, or unset"
                )));
            }
        }
        if let Some(url) = &self.telemetry.otlp_endpoint {
            // The exporter's HTTP client is built without TLS: traces go to a
            // collector (agent) on the same host or private network.
            let ok = url
                .parse::<axum::http::Uri>()
                .is_ok_and(|u| u.scheme_str() == Some("http") && u.host().is_some_and(|h| !h.is_empty()));
            if !ok {
                return Err(refuse(format!(
                    "telemetry.otlp_endpoint ({url:?}) must be the http:// URL of an OpenTelemetry collector on this \
                     host or network, e.g. http://127.0.0.1:4318 (TLS is not built in: run a collector agent beside \
                     imgflush), or unset"
                )));
            }
        }
        if self.metrics.token.as_ref().is_some_and(|t| t.expose().len() < 16) {
            return Err(refuse("metrics.token must be at least 16 characters: make one with `openssl rand -hex 16`"));
        }
        // It guards every project's signing salt: no short, guessable tokens.
        if self
            .edge
            .settings_token
            .as_ref()
            .is_some_and(|t| !t.expose().is_empty() && t.expose().len() < MIN_SETTINGS_TOKEN)
        {
            return Err(refuse(format!(
                "edge.settings_token (APP__EDGE__SETTINGS_TOKEN) must be at least {MIN_SETTINGS_TOKEN} characters: \
                 make one with `openssl rand -hex 32`"
            )));
        }
        if self.edge.embedded {
            for (key, value) in [
                ("edge.embedded_addr", &self.edge.embedded_addr),
                ("edge.embedded_admin_addr", &self.edge.embedded_admin_addr),
                ("edge.demo_origin_addr", &self.edge.demo_origin_addr),
            ] {
                if value.parse::<SocketAddr>().is_err() {
                    return Err(refuse(format!(
                        "{key} is `{value}`, not an address:port such as 127.0.0.1:3004: fix it, or set \
                         edge.embedded = false to run without the embedded edge"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Zeros would mean a busy loop, a lease that is always expired, a
    /// throttle that refuses everyone or a panic later: refuse them now.
    /// (A zero rate limit of the API or the console turns that limit off.)
    fn check_positive(&self) -> anyhow::Result<()> {
        let (w, sec, api) = (&self.worker, &self.security, &self.api);
        let positive: [(&str, bool); 14] = [
            ("worker.concurrency", w.concurrency > 0),
            ("worker.lease_secs", w.lease_secs > 0),
            ("worker.poll_ms", w.poll_ms > 0),
            ("worker.max_attempts", w.max_attempts > 0),
            ("worker.max_claims", w.max_claims > 0),
            ("worker.target_timeout_secs", w.target_timeout_secs > 0),
            ("security.session_hours", sec.session_hours > 0),
            ("security.login_attempts_per_account", sec.login_attempts_per_account > 0),
            ("security.login_attempts_per_ip", sec.login_attempts_per_ip > 0),
            ("security.login_window_secs", sec.login_window_secs > 0),
            ("security.live_recheck_secs", sec.live_recheck_secs > 0),
            ("security.live_streams_per_user", sec.live_streams_per_user > 0),
            ("api.max_body_bytes", api.max_body_bytes > 0),
            ("limits.sync_ms", self.limits.sync_ms > 0),
        ];
        match positive.iter().find(|(_, ok)| !ok) {
            Some((key, _)) => Err(refuse(format!(
                "{key} must be at least 1: set it ({}) to 1 or more, or remove it for its default",
                env_name(key)
            ))),
            None => Ok(()),
        }
    }
}
