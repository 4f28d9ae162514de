//! A constructible app: [`build`] wires storage, services, routes and the
//! worker; [`App::serve`] runs it on any listener until `shutdown` fires.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes, ResponseOptions};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use app::{shell, App as Console};
use imgflush::backend::limits::{self, Limits, SharedLimiter};
use imgflush::backend::store::{self, Connected, DynStore, SessionDb};
use imgflush::backend::worker::{Worker, WorkerConfig};
use imgflush::backend::Services;

use crate::config::Config;
use crate::metrics::{ConsoleMetrics, MetricsState};
use crate::sessions::AnySessionStore;
use crate::{api, auth_routes, client_ip, export, health, internal, live, metrics, security, sso_routes};

pub struct App {
    pub router: Router,
    /// Start-up wiring only: the worker gets it; tests may read it.
    store: DynStore,
    pub services: Services,
    pub config: Config,
    /// This app's registry behind `/metrics` (its in-process worker records into it).
    pub metrics: Arc<ConsoleMetrics>,
    wake: Arc<Notify>,
    session_cleanup: tokio::task::JoinHandle<()>,
    /// The rate-limit sync (PostgreSQL) and the metrics upkeep.
    background: Vec<tokio::task::JoinHandle<()>>,
}

/// The console's pages, listed once per process. Listing them runs the app
/// with Leptos's process-wide "do not load resources" switch on, and a page
/// that starts loading a resource at that moment in another app of the same
/// process (the tests build one per test, in parallel) then never finishes
/// (leptos-rs/leptos#4773). One listing per process removes the window.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(Console)).clone()
}

/// Leptos options from cargo-leptos's environment, with the workspace's defaults.
pub fn leptos_options() -> LeptosOptions {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    LeptosOptions::builder()
        .output_name(env("LEPTOS_OUTPUT_NAME", "imgflush"))
        .site_root(env("LEPTOS_SITE_ROOT", "target/site"))
        .site_pkg_dir(env("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(
            env("LEPTOS_SITE_ADDR", "127.0.0.1:3000").parse::<SocketAddr>().unwrap_or(([127, 0, 0, 1], 3000).into()),
        )
        .build()
}

pub async fn build(config: Config) -> anyhow::Result<App> {
    let connected = store::connect_sized(config.database.url.expose(), config.pool_size()).await?;
    build_with_store(config, connected).await
}

/// [`build`] on a database already open (tests keep a handle on its store).
pub async fn build_with_store(config: Config, connected: Connected) -> anyhow::Result<App> {
    let Connected { store, sessions } = connected;
    let wake = Arc::new(Notify::new());
    let sec = &config.security;
    let mut background = Vec::new();
    // On PostgreSQL other instances may share the database: count together.
    let limits = match &sessions {
        SessionDb::Postgres(pool) => {
            let shared = Arc::new(SharedLimiter::new());
            let every = Duration::from_millis(config.limits.sync_ms);
            background.push(limits::spawn_sync(&shared, pool.clone(), every));
            Limits::shared(shared, config.limit_settings())
        }
        SessionDb::Sqlite(_) => Limits::in_memory(config.limit_settings()),
    };
    let metrics = Arc::new(ConsoleMetrics::new());
    store.record_batches(metrics.store.clone());
    background.push(metrics::spawn_upkeep(&metrics));
    let metrics_state =
        MetricsState { metrics: metrics.clone(), store: store.clone(), token: config.metrics.token.clone() };
    imgflush::backend::vault::check_stored(&store, &config.vault()).await.map_err(crate::config::refuse)?;
    let trusted = Arc::new(config.trusted_proxies()?);
    let services = Services::new(store.clone(), wake.clone(), limits)
        .with_target_network(config.target_network())
        .with_vault(config.vault())
        .with_live(config.live_settings())
        .with_edge_names(config.edge_names())
        .with_session_hours(sec.session_hours);
    let session_store = AnySessionStore::open(sessions).await?;
    let session_cleanup = session_store.spawn_cleanup(Duration::from_secs(600));
    let sessions = SessionManagerLayer::new(session_store)
        .with_name("imgflush_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(sec.secure_cookies == "always")
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(sec.session_hours)));

    let options = leptos_options();
    let routes = route_list();
    let public_url = app::ssr::PublicUrl(config.public_url());
    let context = {
        let services = services.clone();
        move || {
            provide_context(services.clone());
            provide_context(public_url.clone());
            if let (Some(nonce), Some(resp)) = (leptos::nonce::use_nonce(), use_context::<ResponseOptions>()) {
                if let Ok(v) = axum::http::HeaderValue::from_str(&security::csp(&nonce.to_string())) {
                    resp.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, v);
                }
            }
        }
    };
    let pages = Router::new()
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback({
            let not_found = leptos_axum::file_and_error_handler_with_context(context, shell);
            move |State(options): State<LeptosOptions>, req: axum::extract::Request| {
                let not_found = not_found.clone();
                async move { crate::site_files::or_not_found(options, req, not_found).await }
            }
        })
        .with_state(options);

    let browser = Router::new()
        .route("/login", post(auth_routes::login).layer(DefaultBodyLimit::max(auth_routes::MAX_FORM_BYTES)))
        .route(
            "/login/code",
            post(crate::second_step_routes::code).layer(DefaultBodyLimit::max(auth_routes::MAX_FORM_BYTES)),
        )
        .route(
            "/account/two-step",
            post(crate::second_step_routes::set_up).layer(DefaultBodyLimit::max(auth_routes::MAX_FORM_BYTES)),
        )
        .route("/logout", post(auth_routes::logout))
        .route("/login/sso/callback", get(sso_routes::callback))
        .route("/login/sso/{id}", get(sso_routes::start))
        .route("/p/{token}/invalidations.csv", get(export::invalidations_csv))
        .route("/p/{token}/live", get(live::changes))
        .merge(pages)
        .layer(axum::middleware::from_fn_with_state(services.clone(), security::require_session))
        .layer(axum::middleware::from_fn(security::same_origin))
        .layer(axum::Extension(app::ssr::PublicUrl(config.public_url())));

    let mut router = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(Router::new().route("/metrics", get(metrics::render)).with_state(metrics_state))
        .merge(Router::new().route("/internal/edge/projects", get(internal::edge_projects)).with_state(
            internal::EdgeSettingsState { services: services.clone(), token: config.edge.settings_token.clone() },
        ))
        .merge(api::router(&config))
        .merge(browser.with_state(services.clone()))
        .with_state(services.clone())
        .layer(sessions);
    match sec.secure_cookies.as_str() {
        "auto" => router = router.layer(axum::middleware::from_fn(security::secure_cookies_behind_https)),
        "always" => router = router.layer(axum::middleware::from_fn(security::secure_cookies_always)),
        _ => {}
    }
    let router = router
        .layer(axum::middleware::from_fn_with_state(trusted, client_ip::layer))
        .layer(axum::middleware::from_fn(security::headers))
        .layer(axum::middleware::from_fn_with_state(metrics.clone(), metrics::count_requests))
        .layer(TraceLayer::new_for_http().make_span_with(crate::telemetry::request_span));

    Ok(App { router, store, services, config, metrics, wake, session_cleanup, background })
}

impl App {
    pub fn store(&self) -> &DynStore {
        &self.store
    }

    /// A worker with `cfg`, purging within the operator's allowed networks.
    pub fn worker(&self, cfg: WorkerConfig) -> Worker {
        Worker::new(self.store.clone(), self.wake.clone(), cfg)
            .with_network(self.config.target_network())
            .with_vault(self.config.vault())
            .with_metrics(self.metrics.worker.clone())
    }

    /// Serves until `shutdown` fires; runs the in-process worker unless disabled.
    pub async fn serve(self, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
        let worker = self.config.worker.enabled.then(|| {
            // Beside the API: a job submitted while a lane is idle comes
            // straight to it, stored leased (no claim statement).
            let w = self.worker(self.config.worker_config()).take_new_jobs_from(&self.services.invalidations);
            tokio::spawn(w.run(shutdown.child_token()))
        });
        let pruning = tokio::spawn(prune_periodically(self.services.clone(), shutdown.child_token()));
        let notifier = tokio::spawn(imgflush::backend::notify::run_notifier(
            self.store.clone(),
            self.config.target_network(),
            shutdown.child_token(),
        ));
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let stop = shutdown.clone();
        axum::serve(listener, service).with_graceful_shutdown(async move { stop.cancelled().await }).await?;
        shutdown.cancel();
        if let Some(w) = worker {
            let _ = w.await;
        }
        self.session_cleanup.abort();
        self.background.iter().for_each(|t| t.abort());
        pruning.abort();
        let _ = notifier.await;
        Ok(())
    }
}

/// Deletes invalidations past their project's retention, at start and then
/// hourly; cancels requests awaiting approval past their window every minute.
async fn prune_periodically(services: Services, stop: CancellationToken) {
    let mut minutes = 0u32;
    loop {
        if minutes.is_multiple_of(60) {
            if let Err(e) = services.invalidations.prune_expired(imgflush::backend::now_ms()).await {
                tracing::warn!(error = %e, "pruning old invalidations failed; trying again in an hour");
            }
        }
        if let Err(e) = services.invalidations.expire_approvals(imgflush::backend::now_ms()).await {
            tracing::warn!(error = %e, "expiring requests awaiting approval failed; trying again in a minute");
        }
        minutes = minutes.wrapping_add(1);
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
    }
}
