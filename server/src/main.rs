use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use server::cli::{EdgeAction, EdgeCmd};
use server::config::Refusal;
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
        #[arg(long, env = "WORKER_METRICS_LISTEN")]
        metrics_listen: Option<std::net::SocketAddr>,
    },
    /// Run an edge (image resizing server with a purgeable cache) alone; it
    /// reads project settings from a console's /internal/edge/projects.
    /// `server edge secret --token T` prints project T's purge secret.
    Edge(Box<EdgeCmd>),
    /// The configuration: `check` prints it with each value's source and
    /// checks it; `example` prints a commented imgflush.toml.
    #[command(subcommand)]
    Config(cli::ConfigCmd),
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
    /// Single sign-on's identity providers: add, list, remove.
    #[command(subcommand)]
    Sso(cli::SsoCmd),
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

/// A refused configuration exits with code 2 and one sentence; any other
/// failure with code 1.
#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            match e.downcast_ref::<Refusal>() {
                Some(refusal) => eprintln!("imgflush: {refusal}"),
                None => eprintln!("Error: {e:#}"),
            }
            let refused = e.downcast_ref::<Refusal>().is_some();
            std::process::ExitCode::from(if refused { 2 } else { 1 })
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let args = Cli::parse();
    if let Some(Command::Config(cmd)) = args.command {
        return cli::config(cmd);
    }
    let mut config = Config::load()?;
    // Traces come from the long-running services; a command line's are not worth a collector's time.
    let service = match &args.command {
        None | Some(Command::Serve { .. }) => Some("imgflush-console"),
        Some(Command::Worker { .. }) => Some("imgflush-worker"),
        Some(Command::Edge(_)) => Some("imgflush-edge"),
        _ => None,
    };
    let endpoint = service.and(config.telemetry.otlp_endpoint.as_deref());
    let _telemetry = server::telemetry::init(endpoint, service.unwrap_or("imgflush"))?;
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
            tokio::spawn(cli::stop_on_signal(shutdown.clone()));
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
                .map_err(server::config::refuse)?;
            let worker = imgflush::backend::worker::Worker::new(connected.store.clone(), wake, config.worker_config())
                .with_network(config.target_network())
                .with_vault(config.vault())
                .with_metrics(metrics.worker.clone());
            let shutdown = CancellationToken::new();
            tokio::spawn(cli::stop_on_signal(shutdown.clone()));
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
            EdgeCmd { run, .. } => cli::run_edge(run).await,
        },
        Command::Demo(DemoCmd::Origin { listen }) => {
            server::demo::write_sample(&config, false)?;
            let listener = tokio::net::TcpListener::bind(listen).await?;
            println!("  demo origin on http://{}", listener.local_addr()?);
            let shutdown = CancellationToken::new();
            tokio::spawn(cli::stop_on_signal(shutdown.clone()));
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
        Command::Sso(cmd) => cli::sso(&config, cmd).await,
        Command::Secrets(cmd) => cli::secrets(&config, cmd).await,
        Command::Audit(args) => server::audit_cli::audit(&config, args).await,
        Command::Seed(args) => server::seed_cli::seed(&config, args).await,
        Command::Config(cmd) => cli::config(cmd),
        Command::Backup(args) => cli::backup(&config, args).await,
        Command::Restore(args) => cli::restore(&config, args).await,
        Command::Migrate(args) => cli::migrate(&config, args).await,
    }
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
