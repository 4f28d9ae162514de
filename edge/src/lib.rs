//! The imgflush edge: an image resizing server whose disk cache the
//! invalidation pipeline empties. See `edge/README.md` for the URL forms,
//! parameters, headers and the purge contract.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use edge::{EdgeConfig, ProjectSettings, Secret, SettingsConfig};
//! let mut demo = ProjectSettings::new("demo");
//! demo.allowed_origin_hosts = vec!["sample.li".into()];
//! let config = EdgeConfig::new("/var/cache/imgflush-edge", Secret::new("s3cret"), SettingsConfig::Static(vec![demo]));
//! let listener = tokio::net::TcpListener::bind(config.listen).await?;
//! let admin = tokio::net::TcpListener::bind(config.admin_listen).await?;
//! edge::serve(config, listener, admin, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

#[doc(hidden)]
pub mod avif;
pub mod cache;
mod config;
mod error;
mod jpeg;
mod linear;
mod make;
mod metrics;
mod misses;
mod negotiate;
mod origin;
mod params;
mod pipeline;
mod plan;
#[cfg(test)]
mod proptests;
mod purge;
mod request;
mod secret;
mod settings;
pub mod shield;
mod sign;
mod state;
mod tags;
mod transform;
mod variant;

use std::future::{Future, IntoFuture};
use std::io;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::{any, get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

pub use config::{EdgeConfig, Limits, SettingsConfig};
pub use error::EdgeError;
pub use imgflush::domain::proxies::{Cidr, TrustedProxies};
pub use origin::is_public;
pub use params::{Format, Func, Params};
pub use plan::{OutputRules, DEFAULT_MAX_OUTPUT_PIXELS};
pub use purge::{project_secret, PurgeRequest, PurgeResponse};
pub use secret::Secret;
pub use settings::{
    ConsoleSettings, OriginScheme, ProjectSettings, Projects, ProjectsResponse, SettingsSource, StaticSettings,
};
pub use shield::wire::{check as check_shield, parse_parent, MIN_SECRET_LEN as MIN_SHIELD_SECRET_LEN};
pub use sign::{seal, signature};
pub use transform::{render, Output};

use state::EdgeState;

/// A built edge: its router, and the settings poller it owns.
pub struct Edge {
    state: Arc<EdgeState>,
    poller: Option<JoinHandle<()>>,
}

impl Edge {
    /// Opens the disk cache (rebuilding its index) and starts the settings
    /// source named in `config.settings`.
    pub async fn build(config: EdgeConfig) -> io::Result<Edge> {
        let (source, poller): (Arc<dyn SettingsSource>, _) = match &config.settings {
            SettingsConfig::Static(list) => (Arc::new(StaticSettings::new(list.clone())), None),
            SettingsConfig::Console { url, secret, poll_interval } => {
                let (s, task) = ConsoleSettings::start(url.clone(), secret.clone(), *poll_interval).await;
                (s, Some(task))
            }
        };
        let mut edge = Edge::with_settings(config, source).await?;
        edge.poller = poller;
        Ok(edge)
    }

    /// Like [`build`](Self::build) with a caller-provided settings source
    /// (an embedding console can hand its own).
    pub async fn with_settings(config: EdgeConfig, settings: Arc<dyn SettingsSource>) -> io::Result<Edge> {
        shield::wire::check(&config).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let (dir, max, memory) = (config.cache_dir.clone(), config.cache_max_bytes, config.memory_cache_bytes);
        let cache = tokio::task::spawn_blocking(move || cache::DiskCache::open(&dir, max, memory))
            .await
            .map_err(io::Error::other)??;
        let state = EdgeState {
            origin: origin::OriginClient::new(&config.limits),
            parent: shield::client::ParentClient::new(&config),
            transforms: Arc::new(Semaphore::new(config.limits.transform_workers.max(1))),
            misses: misses::MissLimits::new(
                config.limits.misses_per_minute_per_token,
                config.limits.misses_per_minute_per_client,
            ),
            config,
            settings,
            cache: Arc::new(cache),
            metrics: metrics::Metrics::default(),
            inflight: Mutex::new(Default::default()),
        };
        state.metrics.set_budget(state.config.cache_max_bytes);
        let state = Arc::new(state);
        // Folds recorded latencies into the histogram until the edge is gone.
        let weak = Arc::downgrade(&state);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                match weak.upgrade() {
                    Some(state) => state.metrics.upkeep(),
                    None => break,
                }
            }
        });
        Ok(Edge { state, poller: None })
    }

    /// The image port: `GET /healthz` and every other GET/HEAD as an image
    /// URL. The admin paths answer 404 here: they are served on the admin
    /// listener only ([`admin_router`](Self::admin_router)). Serve it with
    /// `into_make_service_with_connect_info::<SocketAddr>()` (as
    /// [`Edge::serve`] does) for the per-client miss limit.
    pub fn router(&self) -> Router {
        let mut router = Router::new().route("/healthz", get(|| async { "ok\n" }));
        for path in self.admin_paths() {
            router = router.route(path, any(admin_only));
        }
        router.fallback(shield::serve::image).with_state(self.state.clone())
    }

    /// The admin listener: `GET /healthz`, `GET /metrics`, `POST /_purge`
    /// and `/purge` (and `config.purge_path`). Bind it where the workers and
    /// Prometheus reach it, never where image clients do.
    pub fn admin_router(&self) -> Router {
        let mut router =
            Router::new().route("/healthz", get(|| async { "ok\n" })).route("/metrics", get(render_metrics));
        for path in self.admin_paths().filter(|p| *p != "/metrics") {
            router = router.route(path, post(purge::purge));
        }
        router.route("/_lookup", post(purge::lookup)).with_state(self.state.clone())
    }

    fn admin_paths(&self) -> impl Iterator<Item = &str> {
        let custom = self.state.config.purge_path.as_str();
        let custom = (custom.starts_with('/') && !matches!(custom, "/_purge" | "/purge" | "/metrics" | "/healthz"))
            .then_some(custom);
        ["/metrics", "/_purge", "/purge"].into_iter().chain(custom)
    }

    /// Serves images on `listener` and the admin paths on `admin` until
    /// `shutdown` completes, then finishes in-flight requests.
    pub async fn serve(
        self,
        listener: TcpListener,
        admin: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        use axum::serve::ListenerExt;
        use futures::FutureExt;
        let shutdown = shutdown.shared();
        // Nagle would hold back the tail of a response behind the client's
        // delayed ACK on keep-alive connections (nginx's `tcp_nodelay on`).
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let images = axum::serve(listener, self.router().into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(shutdown.clone());
        let admin = axum::serve(admin, self.admin_router()).with_graceful_shutdown(shutdown);
        let (images, admin) = tokio::join!(images.into_future(), admin.into_future());
        images.and(admin)
    }
}

async fn admin_only() -> EdgeError {
    EdgeError::new(axum::http::StatusCode::NOT_FOUND, "not_found", "not found")
}

impl Drop for Edge {
    fn drop(&mut self) {
        if let Some(p) = self.poller.take() {
            p.abort();
        }
    }
}

/// The entry point the `server` binary runs as `server edge`: builds the
/// edge on the calling runtime (which keeps its settings poller and metrics
/// upkeep, and serves the `admin` listener), then serves `listener` from
/// `workers` threads, each with its own single-threaded runtime accepting on
/// the same socket (nginx's worker model: no cross-thread wake-ups per
/// request; see README "Figures"), all sharing one cache. Returns once `shutdown` completed and every worker has
/// finished its in-flight requests.
pub async fn serve_per_core(
    config: EdgeConfig,
    listener: std::net::TcpListener,
    admin: TcpListener,
    workers: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let edge = Edge::build(config).await?;
    let router = edge.router();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let admin = {
        let mut stop = stop_rx.clone();
        let stopped = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        tokio::spawn(axum::serve(admin, edge.admin_router()).with_graceful_shutdown(stopped).into_future())
    };
    let mut threads = Vec::new();
    for i in 0..workers.max(1) {
        let (listener, router, mut stop) = (listener.try_clone()?, router.clone(), stop_rx.clone());
        let thread = std::thread::Builder::new().name(format!("edge-worker-{i}")).spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            rt.block_on(async move {
                use axum::serve::ListenerExt;
                let listener = TcpListener::from_std(listener)?.tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                let stopped = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
                axum::serve(listener, service).with_graceful_shutdown(stopped).await
            })
        })?;
        threads.push(thread);
    }
    shutdown.await;
    let _ = stop_tx.send(true);
    tokio::task::spawn_blocking(move || {
        for t in threads {
            t.join().map_err(|_| io::Error::other("an edge worker panicked"))??;
        }
        Ok::<_, io::Error>(())
    })
    .await
    .map_err(io::Error::other)??;
    admin.await.map_err(io::Error::other)??;
    drop(edge);
    Ok(())
}

/// Builds from `config` and serves `listener` (images) and `admin` on the
/// calling runtime until `shutdown` (tests, the console's embedded edge).
pub async fn serve(
    config: EdgeConfig,
    listener: TcpListener,
    admin: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    Edge::build(config).await?.serve(listener, admin, shutdown).await
}

async fn render_metrics(State(edge): State<Arc<EdgeState>>) -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], edge.metrics.render(edge.cache.stats()))
}
