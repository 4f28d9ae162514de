//! `server edge`: an edge (image resizing server with a purgeable cache)
//! alone, configured by flags and environment variables.

use clap::Subcommand;
use tokio_util::sync::CancellationToken;

// The run's arguments are required only without a subcommand; they are
// `Option`s so that `server edge secret` parses with EDGE_PURGE_SECRET set.
#[derive(clap::Args)]
#[command(subcommand_negates_reqs = true)]
pub struct EdgeCmd {
    #[command(subcommand)]
    pub action: Option<EdgeAction>,
    #[command(flatten)]
    pub run: EdgeArgs,
}

#[derive(Subcommand)]
pub enum EdgeAction {
    /// Print project `--token`'s purge secret on this node: what its `edge`
    /// target carries. The node secret is EDGE_PURGE_SECRET (a standalone
    /// edge's), else the embedded edge's `{edge.data_dir}/edge.secret`.
    Secret {
        #[arg(long)]
        token: String,
        #[arg(long, env = "EDGE_PURGE_SECRET", hide_env_values = true)]
        node_secret: Option<String>,
    },
}

#[derive(clap::Args)]
pub struct EdgeArgs {
    /// Address to listen on (images).
    #[arg(long, env = "EDGE_LISTEN", default_value = "127.0.0.1:8081")]
    listen: std::net::SocketAddr,
    /// Address of the admin listener: `POST /_purge` (the workers) and
    /// `GET /metrics` (Prometheus); never served on `--listen`.
    #[arg(long, env = "EDGE_ADMIN_LISTEN", default_value = "127.0.0.1:8082")]
    admin_listen: std::net::SocketAddr,
    /// Another host name of this edge (repeatable): no project's custom host may take it.
    #[arg(long = "host-alias")]
    host_aliases: Vec<String>,
    /// Disk cache directory (created if missing; survives restarts).
    #[arg(long, env = "EDGE_CACHE_DIR", default_value = "data/edge-cache")]
    cache_dir: std::path::PathBuf,
    /// Disk bytes the cache may use.
    #[arg(long, env = "EDGE_CACHE_MAX_BYTES", default_value_t = 1 << 30)]
    cache_max_bytes: u64,
    /// This node's secret: a project's `edge` target carries the secret
    /// derived from it (`server edge secret --token T`), never this one.
    #[arg(long, env = "EDGE_PURGE_SECRET", hide_env_values = true, required = true)]
    purge_secret: Option<String>,
    /// The console's base URL, e.g. http://127.0.0.1:3000
    #[arg(long, env = "EDGE_CONSOLE_URL", required = true)]
    console: Option<String>,
    /// The console's `edge.settings_token`.
    #[arg(long, env = "EDGE_SETTINGS_TOKEN", hide_env_values = true, required = true)]
    settings_token: Option<String>,
    /// Seconds between settings polls.
    #[arg(long, default_value_t = 2)]
    poll_secs: u64,
    /// `{token}.{edge_domain}` host names address projects, e.g. img.example.com
    #[arg(long, env = "EDGE_DOMAIN")]
    edge_domain: Option<String>,
    /// Threads serving requests, each with its own single-threaded runtime
    /// (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
    /// Largest output (width × height) and resize buffer.
    #[arg(long, default_value_t = edge::DEFAULT_MAX_OUTPUT_PIXELS, value_parser = clap::value_parser!(u64).range(1..))]
    max_output_pixels: u64,
    /// Misses (origin fetch + resize) a minute per project token; 0: no limit.
    #[arg(long, default_value_t = edge::Limits::default().misses_per_minute_per_token)]
    misses_per_token: u32,
    /// Misses a minute per client address; 0: no limit.
    #[arg(long, default_value_t = edge::Limits::default().misses_per_minute_per_client)]
    misses_per_client: u32,
    /// Proxies (CIDRs, comma-separated) whose X-Forwarded-For names the
    /// client: the Varnish or CDN nodes in front of this edge.
    #[arg(long, env = "EDGE_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<String>,
    /// This edge's shield: the parent edge's image port, e.g. http://10.0.0.5:8081.
    /// Misses fetch the transformed variant there (the origin when it fails).
    #[arg(long, env = "EDGE_PARENT")]
    parent: Option<String>,
    /// On a shield: its child edges' addresses (CIDRs, comma-separated or
    /// repeated), the only peers whose internal requests it answers.
    #[arg(long = "shield-children", env = "EDGE_SHIELD_CHILDREN", value_delimiter = ',')]
    shield_children: Vec<String>,
    /// The secret a shield and its children share (at least 16 characters);
    /// required with --parent or --shield-children.
    #[arg(long, env = "EDGE_SHIELD_SECRET", hide_env_values = true)]
    shield_secret: Option<String>,
}

pub async fn run_edge(args: EdgeArgs) -> anyhow::Result<()> {
    let workers = args.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let config = edge_config(args)?;
    let listener = std::net::TcpListener::bind(config.listen)?;
    let admin = tokio::net::TcpListener::bind(config.admin_listen).await?;
    println!("  imgflush edge listening on http://{} ({workers} workers)", listener.local_addr()?);
    println!("  purges and metrics on http://{}", admin.local_addr()?);
    let shutdown = CancellationToken::new();
    tokio::spawn(super::signal::stop_on_signal(shutdown.clone()));
    edge::serve_per_core(config, listener, admin, workers, async move { shutdown.cancelled().await }).await?;
    Ok(())
}

/// The edge's configuration from its flags; a bad one is refused by name.
fn edge_config(args: EdgeArgs) -> anyhow::Result<edge::EdgeConfig> {
    let missing = |name: &str| anyhow::anyhow!("server edge: {name} is required");
    let purge_secret = args.purge_secret.ok_or_else(|| missing("--purge-secret (EDGE_PURGE_SECRET)"))?;
    let console = args.console.ok_or_else(|| missing("--console (EDGE_CONSOLE_URL)"))?;
    let settings_token = args.settings_token.ok_or_else(|| missing("--settings-token (EDGE_SETTINGS_TOKEN)"))?;
    if settings_token.len() < crate::config::MIN_SETTINGS_TOKEN {
        anyhow::bail!(
            "--settings-token (EDGE_SETTINGS_TOKEN) must be at least {} characters: the console's edge.settings_token",
            crate::config::MIN_SETTINGS_TOKEN
        );
    }
    let settings = edge::SettingsConfig::Console {
        url: format!("{}/internal/edge/projects", console.trim_end_matches('/')),
        secret: edge::Secret::new(settings_token),
        poll_interval: std::time::Duration::from_secs(args.poll_secs.max(1)),
    };
    let mut config = edge::EdgeConfig::new(args.cache_dir, edge::Secret::new(purge_secret), settings);
    (config.listen, config.admin_listen) = (args.listen, args.admin_listen);
    config.cache_max_bytes = args.cache_max_bytes;
    config.edge_domain = args.edge_domain;
    config.trusted_proxies = edge::TrustedProxies::parse(&args.trusted_proxies)
        .map_err(|e| anyhow::anyhow!("invalid --trusted-proxies: {e}"))?;
    config.limits.max_output_pixels = args.max_output_pixels;
    config.limits.misses_per_minute_per_token = args.misses_per_token;
    config.limits.misses_per_minute_per_client = args.misses_per_client;
    config.host_aliases = args.host_aliases;
    config.parent = args
        .parent
        .map(|p| edge::parse_parent(&p))
        .transpose()
        .map_err(|e| anyhow::anyhow!("invalid --parent: {e}"))?;
    config.shield_children = args
        .shield_children
        .iter()
        .map(|c| c.parse::<edge::Cidr>())
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("invalid --shield-children: {e}"))?;
    let in_tier = config.parent.is_some() || !config.shield_children.is_empty();
    if in_tier && args.shield_secret.as_ref().is_none_or(|s| s.len() < edge::MIN_SHIELD_SECRET_LEN) {
        anyhow::bail!(
            "--shield-secret (EDGE_SHIELD_SECRET) of at least {} characters is required with --parent or --shield-children",
            edge::MIN_SHIELD_SECRET_LEN
        );
    }
    config.shield_secret = args.shield_secret.map(edge::Secret::new);
    edge::check_shield(&config).map_err(|e| anyhow::anyhow!("invalid --parent: {e}"))?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        edge: EdgeCmd,
    }

    fn edge(flags: &[&str]) -> anyhow::Result<edge::EdgeConfig> {
        let token = "a-settings-token-of-32-characters";
        let base = ["edge", "--purge-secret", "p", "--console", "http://c", "--settings-token", token];
        edge_config(Cli::try_parse_from(base.iter().chain(flags))?.edge.run)
    }

    #[test]
    fn edge_flags_set_the_output_budget_miss_limits_and_trusted_proxies() {
        Cli::command().debug_assert();
        let default = edge(&[]).unwrap();
        assert_eq!(default.limits.max_output_pixels, edge::DEFAULT_MAX_OUTPUT_PIXELS);
        assert_eq!(default.trusted_proxies, edge::TrustedProxies::default());
        let c = edge(&[
            "--trusted-proxies",
            "10.0.0.0/8,192.0.2.1",
            "--misses-per-token",
            "0",
            "--misses-per-client",
            "30",
            "--max-output-pixels",
            "1000000",
        ])
        .unwrap();
        assert!(
            c.trusted_proxies.trusts("192.0.2.1".parse().unwrap())
                && c.trusted_proxies.trusts("10.1.2.3".parse().unwrap())
        );
        assert_eq!((c.limits.misses_per_minute_per_token, c.limits.misses_per_minute_per_client), (0, 30));
        assert_eq!(c.limits.max_output_pixels, 1_000_000);
        let bad = edge(&["--trusted-proxies", "10.0.0.0/40"]).unwrap_err().to_string();
        assert!(bad.contains("--trusted-proxies"), "{bad}");
        assert!(edge(&["--max-output-pixels", "0"]).is_err());
        let short = edge(&["--settings-token", "short"]).unwrap_err().to_string();
        assert!(short.contains("--settings-token"), "{short}");
    }

    #[test]
    fn shield_flags_name_the_parent_children_and_secret() {
        let secret = "a-shield-secret-of-length";
        let c = edge(&["--parent", "http://10.0.0.5:8081", "--shield-secret", secret]).unwrap();
        assert_eq!(c.parent.map(String::from).as_deref(), Some("http://10.0.0.5:8081/"));
        let c = edge(&["--shield-children", "10.0.0.0/24,192.0.2.7", "--shield-secret", secret]).unwrap();
        assert!(c.shield_children.iter().any(|n| n.contains("192.0.2.7".parse().unwrap())));
        assert!(edge(&[]).unwrap().parent.is_none());
        for (flags, named) in [
            (&["--parent", "10.0.0.5:8081", "--shield-secret", secret][..], "--parent"),
            (&["--parent", "http://10.0.0.5:8081/x", "--shield-secret", secret][..], "--parent"),
            (&["--shield-children", "10.0.0.0/33", "--shield-secret", secret][..], "--shield-children"),
            (&["--parent", "http://10.0.0.5:8081"][..], "--shield-secret"),
            (&["--shield-children", "10.0.0.0/24", "--shield-secret", "short"][..], "--shield-secret"),
        ] {
            let e = edge(flags).unwrap_err().to_string();
            assert!(e.contains(named), "{flags:?}: {e}");
        }
    }
}
