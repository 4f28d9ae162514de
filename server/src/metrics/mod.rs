//! `GET /metrics` in the Prometheus text format, for operators. Handles are
//! recorded into a `metrics-exporter-prometheus` recorder that belongs to
//! this app (never the process-global one), as the edge does. The queue
//! figures are read from the database at scrape time, so every instance
//! reports the same queue whichever process holds the jobs; counters and the
//! purge histogram are this process's own (its in-process worker). Who may
//! read it: see [`access`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ::metrics::{Counter, Gauge, Key, KeyName, Label, Level, Metadata, Recorder, SharedString, Unit};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use tokio_util::sync::CancellationToken;

use imgflush::backend::now_ms;
use imgflush::backend::store::{BatchKind, BatchMetrics, DynStore, QueueStats};
use imgflush::backend::worker::{TargetCounter, WorkerMetrics};
use imgflush::domain::Status;

use crate::config::Secret;

mod access;

use access::authorize;

const PURGE: &str = "imgflush_purge_duration_seconds";
const BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
const CLOUDFRONT_PATHS: &str = "imgflush_cloudfront_paths_this_month";
const TARGET_PURGES: &str = "imgflush_target_purges_total";
const HTTP: &str = "imgflush_http_requests_total";
/// Responses by the first digit of their status.
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
const BATCH: &str = "imgflush_store_batch_size";
/// Writes per batch: the caps are 32 claims, 64 groups, 128 invalidations
/// (PostgreSQL) and 256 writes per commit (SQLite).
const BATCH_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

pub struct ConsoleMetrics {
    handle: PrometheusHandle,
    pub worker: WorkerMetrics,
    /// Handed to the store once it is open (`Health::record_batches`).
    pub store: BatchMetrics,
    accepted: Counter,
    /// Responses of this instance, in [`CLASSES`] order.
    http: [Counter; 5],
    queue_depth: Gauge,
    oldest_received: Gauge,
    oldest_active: Gauge,
    database_up: Gauge,
    keys_expiring: Gauge,
    by_status: Vec<(Status, Gauge)>,
    /// Registers the series whose labels come from the database (CloudFront
    /// distributions' paths this month, each target's purges).
    recorder: Arc<PrometheusRecorder>,
}

impl Default for ConsoleMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsoleMetrics {
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(PURGE.into()), &BUCKETS)
            .expect("fixed, non-empty buckets")
            .set_buckets_for_metric(Matcher::Full(BATCH.into()), &BATCH_BUCKETS)
            .expect("fixed, non-empty buckets")
            .build_recorder();
        let recorder = Arc::new(recorder);
        let r = Registrar { recorder: &recorder, meta: Metadata::new(module_path!(), Level::INFO, None) };
        let purge = |kind: &'static str| {
            r.recorder.register_histogram(&Key::from_parts(PURGE, vec![Label::new("kind", kind)]), &r.meta)
        };
        r.recorder.describe_histogram(
            KeyName::from_const_str(PURGE),
            Some(Unit::Seconds),
            SharedString::const_str("Time to purge one target (its retries included), per target kind."),
        );
        let worker = WorkerMetrics {
            lease_lost: r.counter(
                "imgflush_worker_lease_losses_total",
                "Jobs this process's worker stopped because its lease was taken over or could not be renewed.",
            ),
            purge_seconds: imgflush::domain::TargetKind::ALL.map(|k| purge(k.as_str())),
            purge_failed: r.counter("imgflush_purge_failures_total", "Targets that failed after every retry."),
            target_purges: Some({
                let recorder = recorder.clone();
                let count: TargetCounter = Arc::new(move |project, target, kind, result| {
                    target_purges(&recorder, project, target, kind.as_str(), result)
                });
                count
            }),
            setup_reads: r.counter(
                "imgflush_worker_setup_reads_total",
                "Reads of a project's setup by this process's worker: one per project and change to its settings, targets or hooks.",
            ),
            handed: r.counter(
                "imgflush_worker_jobs_handed_over_total",
                "Jobs this process's submissions stored already leased to its idle worker (no claim needed).",
            ),
        };
        r.recorder.describe_histogram(
            KeyName::from_const_str(BATCH),
            None,
            SharedString::const_str(
                "Writes per batched statement (PostgreSQL: insert, claim, apply) or per group commit (SQLite: commit).",
            ),
        );
        let store = BatchMetrics::new(|kind: BatchKind| {
            r.recorder.register_histogram(&Key::from_parts(BATCH, vec![Label::new("kind", kind.label())]), &r.meta)
        });
        let accepted =
            r.counter("imgflush_invalidations_accepted_total", "Invalidations accepted (201) by this instance's API.");
        r.recorder.describe_counter(
            KeyName::from_const_str(TARGET_PURGES),
            None,
            SharedString::const_str(
                "Purges of each target by this process's worker (retries included), per result: ok, or error after every retry.",
            ),
        );
        r.recorder.describe_counter(
            KeyName::from_const_str(HTTP),
            None,
            SharedString::const_str("HTTP responses of this instance (console, API, /metrics), per status class."),
        );
        let http = CLASSES.map(|class| {
            r.recorder.register_counter(&Key::from_parts(HTTP, vec![Label::new("class", class)]), &r.meta)
        });
        let queue_depth = r.gauge("imgflush_queue_depth", "Invalidations not in a final status (whole database).");
        let oldest_received = r.gauge(
            "imgflush_queue_oldest_received_age_seconds",
            "How long the oldest RECEIVED invalidation has waited for a worker (0 when none).",
        );
        let oldest_active = r.gauge(
            "imgflush_queue_oldest_active_age_seconds",
            "How long the oldest invalidation a worker should move (RECEIVED and due, PREPARING, FLUSHING*) has gone without a status change (0 when none); approval and schedules do not count.",
        );
        r.recorder.describe_gauge(
            KeyName::from_const_str(CLOUDFRONT_PATHS),
            None,
            SharedString::const_str(
                "Paths sent in invalidations this month (UTC), per CloudFront distribution: AWS charges per path past 1,000 a month per account.",
            ),
        );
        let database_up = r.gauge("imgflush_database_up", "1 when the scrape could read the database, else 0.");
        let keys_expiring = r.gauge(
            "imgflush_api_keys_expiring",
            "Active API keys that expire within 7 days (whole database): roll them before they do.",
        );
        r.recorder.describe_gauge(
            KeyName::from_const_str("imgflush_invalidations"),
            None,
            SharedString::const_str("Invalidations stored, per status (whole database, within retention)."),
        );
        let by_status = Status::ALL
            .iter()
            .map(|s| {
                let key = Key::from_parts("imgflush_invalidations", vec![Label::new("status", s.code())]);
                (*s, r.recorder.register_gauge(&key, &r.meta))
            })
            .collect();
        ConsoleMetrics {
            handle: recorder.handle(),
            worker,
            store,
            accepted,
            http,
            queue_depth,
            oldest_received,
            oldest_active,
            database_up,
            keys_expiring,
            by_status,
            recorder,
        }
    }

    /// Folds recorded purge times into the histogram's buckets; without it
    /// they would pile up between scrapes.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// Reads the queue from `store`, then renders everything.
    pub async fn render(&self, store: &DynStore) -> String {
        match store.queue_stats().await {
            Ok(QueueStats { by_status: counts, oldest_received_ms: oldest, oldest_active_ms, targets }) => {
                self.database_up.set(1.0);
                let mut depth = 0;
                for (status, gauge) in &self.by_status {
                    let n = counts.iter().find(|(s, _)| s == status.code()).map_or(0, |(_, n)| *n);
                    gauge.set(n as f64);
                    if !status.is_final() {
                        depth += n;
                    }
                }
                self.queue_depth.set(depth as f64);
                let age = oldest.map_or(0, |t| (now_ms() - t).max(0));
                self.oldest_received.set(age as f64 / 1000.0);
                let active = oldest_active_ms.map_or(0, |t| (now_ms() - t).max(0));
                self.oldest_active.set(active as f64 / 1000.0);
                // Every target's counters, at 0 until its first purge here
                // (registering is enough): a rate over them sees the first error too.
                for (project, target, kind) in &targets {
                    for result in ["ok", "error"] {
                        let _ = target_purges(&self.recorder, project, target, kind, result);
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "metrics: the queue could not be read");
                self.database_up.set(0.0);
            }
        }
        let now = now_ms();
        let soon = now + imgflush::backend::key_rules::NOTICE_BEFORE.num_milliseconds();
        match store.count_expiring_api_keys(now, soon).await {
            Ok(n) => self.keys_expiring.set(n as f64),
            Err(e) => tracing::warn!(error = %e, "metrics: the API keys could not be read"),
        }
        match store.usage(&imgflush::backend::purge::this_month()).await {
            Ok(usage) => {
                for (account, paths) in usage {
                    if let Some(distribution) = account.strip_prefix("cloudfront:") {
                        let labels = vec![Label::new("distribution", distribution.to_owned())];
                        let key = Key::from_parts(CLOUDFRONT_PATHS, labels);
                        let meta = Metadata::new(module_path!(), Level::INFO, None);
                        self.recorder.register_gauge(&key, &meta).set(paths as f64);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "metrics: provider usage could not be read"),
        }
        self.handle.render()
    }
}

/// A target's purge counter (registered on first use, then found).
fn target_purges(
    recorder: &PrometheusRecorder,
    project: &str,
    target: &str,
    kind: &str,
    result: &'static str,
) -> Counter {
    let labels = vec![
        Label::new("project", project.to_owned()),
        Label::new("target", target.to_owned()),
        Label::new("kind", kind.to_owned()),
        Label::new("result", result),
    ];
    let meta = Metadata::new(module_path!(), Level::INFO, None);
    recorder.register_counter(&Key::from_parts(TARGET_PURGES, labels), &meta)
}

struct Registrar<'a> {
    recorder: &'a PrometheusRecorder,
    meta: Metadata<'static>,
}

impl Registrar<'_> {
    fn counter(&self, name: &'static str, help: &'static str) -> Counter {
        self.recorder.describe_counter(KeyName::from_const_str(name), None, SharedString::const_str(help));
        self.recorder.register_counter(&Key::from_static_name(name), &self.meta)
    }

    fn gauge(&self, name: &'static str, help: &'static str) -> Gauge {
        self.recorder.describe_gauge(KeyName::from_const_str(name), None, SharedString::const_str(help));
        self.recorder.register_gauge(&Key::from_static_name(name), &self.meta)
    }
}

/// What `GET /metrics` needs.
#[derive(Clone)]
pub struct MetricsState {
    pub metrics: Arc<ConsoleMetrics>,
    pub store: DynStore,
    pub token: Option<Secret>,
}

pub async fn render(State(state): State<MetricsState>, req: Request) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    if let Err(refused) = authorize(state.token.as_ref(), req.headers(), peer) {
        return refused.into_response();
    }
    let text = state.metrics.render(&state.store).await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// Counts responses per status class, and invalidations the API accepted
/// (`201` on its two create routes).
pub async fn count_requests(State(metrics): State<Arc<ConsoleMetrics>>, req: Request, next: Next) -> Response {
    let create = req.method() == Method::POST
        && matches!(req.uri().path(), "/invalidate" | "/api/v1/invalidations" | "/api/v1/invalidations/");
    let resp = next.run(req).await;
    if let Some(class) = metrics.http.get((resp.status().as_u16() / 100).wrapping_sub(1) as usize) {
        class.increment(1);
    }
    if create && resp.status() == StatusCode::CREATED {
        metrics.accepted.increment(1);
    }
    resp
}

/// A worker process's own `/metrics` listener, until `shutdown`.
pub async fn serve(listener: tokio::net::TcpListener, state: MetricsState, shutdown: CancellationToken) {
    let upkeep = spawn_upkeep(&state.metrics);
    let router = axum::Router::new().route("/metrics", axum::routing::get(render)).with_state(state);
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let stop = async move { shutdown.cancelled().await };
    if let Err(e) = axum::serve(listener, service).with_graceful_shutdown(stop).await {
        tracing::warn!(error = %e, "the metrics listener stopped");
    }
    upkeep.abort();
}

/// Keeps the histogram folded until the metrics are gone.
pub fn spawn_upkeep(metrics: &Arc<ConsoleMetrics>) -> tokio::task::JoinHandle<()> {
    let weak = Arc::downgrade(metrics);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            match weak.upgrade() {
                Some(m) => m.upkeep(),
                None => break,
            }
        }
    })
}
