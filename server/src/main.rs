use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use server::{bootstrap, cli, Config};

#[derive(Parser)]
#[command(name = "server", about = "imgflush: image CDN invalidation console, API and purge worker")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the console and the API (the default), with the worker unless --no-worker.
    Serve {
        #[arg(long)]
        no_worker: bool,
    },
    /// Run a purge worker alone.
    Worker {
        /// Serve this worker's `/metrics` (lease losses, purge times, the
        /// queue) here, e.g. 127.0.0.1:9101; same access rule as the console's.
        #[arg(long)]
        metrics_listen: Option<std::net::SocketAddr>,
    },
    /// Run an edge (image resizing server with a purgeable cache) alone; it
    /// reads project settings from a console's /internal/edge/projects.
    /// `server edge secret --token T` prints project T's purge secret.
    Edge(Box<EdgeCmd>),
    /// The embedded demo: `server demo swap` changes the demo origin's image.
    #[command(subcommand)]
    Demo(DemoCmd),
    #[command(subcommand)]
    User(cli::UserCmd),
    #[command(subcommand)]
    Member(cli::MemberCmd),
    #[command(subcommand)]
    Project(cli::ProjectCmd),
    #[command(subcommand)]
    Target(cli::TargetCmd),
    #[command(subcommand)]
    Key(cli::KeyCmd),
    /// The key that seals CDN providers' credentials: new-key, rotate, check.
    #[command(subcommand)]
    Secrets(cli::SecretsCmd),
    /// Print the audit trail (tab-separated, newest first).
    Audit(server::audit_cli::AuditArgs),
    /// Store many finished invalidations at once (for benchmarks of the log).
    Seed(server::seed_cli::SeedArgs),
    /// A consistent copy of the SQLite database while the console runs (`--to FILE`).
    Backup(cli::BackupArgs),
    /// Put a backup in place of the SQLite database (`--from FILE`) while nothing has it open.
    Restore(cli::RestoreArgs),
    /// Apply pending migrations; `--dry-run` lists the applied and pending ones.
    Migrate(cli::MigrateArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    // LOG_FORMAT=json for log shippers; human-readable lines otherwise.
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f == "json") {
        tracing_subscriber::fmt().json().with_env_filter(filter).init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let args = Cli::parse();
    let mut config = Config::load()?;
    match args.command.unwrap_or(Command::Serve { no_worker: false }) {
        Command::Serve { no_worker } => {
            config.worker.enabled &= !no_worker;
            server::demo::ensure_settings_token(&mut config);
            let app = server::build(config).await?;
            bootstrap::first_start(&app.services, &app.config).await?;
            let addr = server::app::leptos_options().site_addr;
            let listener = tokio::net::TcpListener::bind(addr).await?;
            let console = listener.local_addr()?;
            println!("  imgflush console listening on http://{console}");
            let shutdown = CancellationToken::new();
            tokio::spawn(stop_on_signal(shutdown.clone()));
            let _embedded = server::demo::start(&app.config, &app.services, console, shutdown.clone()).await?;
            app.serve(listener, shutdown).await
        }
        Command::Worker { metrics_listen } => {
            let url = config.database.url.expose();
            let connected = imgflush::backend::store::connect_sized(url, config.pool_size()).await?;
            let wake = std::sync::Arc::new(tokio::sync::Notify::new());
            let metrics = std::sync::Arc::new(server::metrics::ConsoleMetrics::new());
            connected.store.record_batches(metrics.store.clone());
            imgflush::backend::vault::check_stored(&connected.store, &config.vault())
                .await
                .map_err(|why| anyhow::anyhow!("refusing to start: {why}"))?;
            let worker = imgflush::backend::worker::Worker::new(connected.store.clone(), wake, config.worker_config())
                .with_network(config.target_network())
                .with_vault(config.vault())
                .with_metrics(metrics.worker.clone());
            let shutdown = CancellationToken::new();
            tokio::spawn(stop_on_signal(shutdown.clone()));
            if let Some(addr) = metrics_listen {
                let listener = tokio::net::TcpListener::bind(addr).await?;
                println!("  worker metrics on http://{}/metrics", listener.local_addr()?);
                let state = server::metrics::MetricsState {
                    metrics,
                    store: connected.store.clone(),
                    token: config.metrics.token.clone(),
                };
                tokio::spawn(server::metrics::serve(listener, state, shutdown.clone()));
            }
            worker.run(shutdown).await;
            Ok(())
        }
        Command::Edge(cmd) => match *cmd {
            EdgeCmd { action: Some(EdgeAction::Secret { token, node_secret }), .. } => {
                cli::edge_secret(&config, &token, node_secret)
            }
            EdgeCmd { run, .. } => run_edge(run).await,
        },
        Command::Demo(DemoCmd::Origin { listen }) => {
            server::demo::write_sample(&config, false)?;
            let listener = tokio::net::TcpListener::bind(listen).await?;
            println!("  demo origin on http://{}", listener.local_addr()?);
            let shutdown = CancellationToken::new();
            tokio::spawn(stop_on_signal(shutdown.clone()));
            server::demo::serve_origin(server::demo::origin_dir(&config), listener, shutdown).await;
            Ok(())
        }
        Command::Demo(DemoCmd::Wire { origin, targets, secret }) => {
            cli::demo_wire(&config, origin, &targets, secret).await
        }
        Command::Demo(DemoCmd::Swap) => {
            let version = server::demo::write_sample(&config, true)?;
            println!("the demo origin now serves version {version} of {}", server::demo::SAMPLE);
            Ok(())
        }
        Command::User(cmd) => cli::user(&config, cmd).await,
        Command::Member(cmd) => cli::member(&config, cmd).await,
        Command::Project(cmd) => cli::project(&config, cmd).await,
        Command::Target(cmd) => cli::target(&config, cmd).await,
        Command::Key(cmd) => cli::key(&config, cmd).await,
        Command::Secrets(cmd) => cli::secrets(&config, cmd).await,
        Command::Audit(args) => server::audit_cli::audit(&config, args).await,
        Command::Seed(args) => server::seed_cli::seed(&config, args).await,
        Command::Backup(args) => cli::backup(&config, args).await,
        Command::Restore(args) => cli::restore(&config, args).await,
        Command::Migrate(args) => cli::migrate(&config, args).await,
    }
}

async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
    shutdown.cancel();
}

// The run's arguments are required only without a subcommand; they are
// `Option`s so that `server edge secret` parses with EDGE_PURGE_SECRET set.
#[derive(clap::Args)]
#[command(subcommand_negates_reqs = true)]
struct EdgeCmd {
    #[command(subcommand)]
    action: Option<EdgeAction>,
    #[command(flatten)]
    run: EdgeArgs,
}

#[derive(Subcommand)]
enum EdgeAction {
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
struct EdgeArgs {
    /// Address to listen on (images).
    #[arg(long, default_value = "127.0.0.1:8081")]
    listen: std::net::SocketAddr,
    /// Address of the admin listener: `POST /_purge` (the workers) and
    /// `GET /metrics` (Prometheus); never served on `--listen`.
    #[arg(long, env = "EDGE_ADMIN_LISTEN", default_value = "127.0.0.1:8082")]
    admin_listen: std::net::SocketAddr,
    /// Another host name of this edge (repeatable): no project's custom host may take it.
    #[arg(long = "host-alias")]
    host_aliases: Vec<String>,
    /// Disk cache directory (created if missing; survives restarts).
    #[arg(long, default_value = "data/edge-cache")]
    cache_dir: std::path::PathBuf,
    /// Disk bytes the cache may use.
    #[arg(long, default_value_t = 1 << 30)]
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
    #[arg(long)]
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

async fn run_edge(args: EdgeArgs) -> anyhow::Result<()> {
    let workers = args.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let config = edge_config(args)?;
    let listener = std::net::TcpListener::bind(config.listen)?;
    let admin = tokio::net::TcpListener::bind(config.admin_listen).await?;
    println!("  imgflush edge listening on http://{} ({workers} workers)", listener.local_addr()?);
    println!("  purges and metrics on http://{}", admin.local_addr()?);
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    edge::serve_per_core(config, listener, admin, workers, async move { shutdown.cancelled().await }).await?;
    Ok(())
}

/// The edge's configuration from its flags; a bad one is refused by name.
fn edge_config(args: EdgeArgs) -> anyhow::Result<edge::EdgeConfig> {
    let missing = |name: &str| anyhow::anyhow!("server edge: {name} is required");
    let purge_secret = args.purge_secret.ok_or_else(|| missing("--purge-secret (EDGE_PURGE_SECRET)"))?;
    let console = args.console.ok_or_else(|| missing("--console (EDGE_CONSOLE_URL)"))?;
    let settings_token = args.settings_token.ok_or_else(|| missing("--settings-token (EDGE_SETTINGS_TOKEN)"))?;
    if settings_token.len() < server::config::MIN_SETTINGS_TOKEN {
        anyhow::bail!(
            "--settings-token (EDGE_SETTINGS_TOKEN) must be at least {} characters: the console's edge.settings_token",
            server::config::MIN_SETTINGS_TOKEN
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

#[derive(Subcommand)]
enum DemoCmd {
    /// Replace the demo origin's sample image with its other version.
    Swap,
    /// Serve the demo origin alone (the sample images in `{edge.data_dir}/demo-origin`).
    Origin {
        #[arg(long, default_value = "127.0.0.1:3003")]
        listen: std::net::SocketAddr,
    },
    /// Point the demo project at a demo origin and add purge targets (each
    /// once, by name): `--target kind,name,url` with the secret in
    /// IMGFLUSH_TARGET_SECRET (scripts/stack.sh uses this).
    Wire {
        /// The demo origin's host:port.
        #[arg(long)]
        origin: std::net::SocketAddr,
        /// `edge,edge-1,http://127.0.0.1:3004/_purge` (repeatable; an edge's admin listener).
        #[arg(long = "target")]
        targets: Vec<String>,
        #[arg(long, env = "IMGFLUSH_TARGET_SECRET", hide_env_values = true)]
        secret: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn edge(flags: &[&str]) -> anyhow::Result<edge::EdgeConfig> {
        let token = "a-settings-token-of-32-characters";
        let base = ["server", "edge", "--purge-secret", "p", "--console", "http://c", "--settings-token", token];
        let cli = Cli::try_parse_from(base.iter().chain(flags))?;
        let Some(Command::Edge(cmd)) = cli.command else { panic!("edge") };
        edge_config(cmd.run)
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
