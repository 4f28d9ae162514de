//! Logs, and OpenTelemetry traces when `telemetry.otlp_endpoint` is set: a
//! span per HTTP request (continuing an incoming `traceparent`), the
//! invalidation service's spans, and in the worker a span per job joined to
//! the submitting request's trace (`imgflush::backend::trace_context`) with a
//! span per purge call, sent as OTLP/HTTP JSON to `{endpoint}/v1/traces`.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Sends what is left when dropped (or on [`Telemetry::shutdown`]).
#[derive(Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still buffered; waits for the collector a few seconds at most.
    pub fn shutdown(&mut self) {
        if let Some(p) = self.provider.take() {
            if let Err(e) = p.shutdown() {
                eprintln!("imgflush: traces not all sent: {e}");
            }
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The spans a trace keeps: the project's own at `info`, each HTTP request's
/// ([`request_span`], at `debug` so that log lines do not carry it), nothing
/// from the libraries below.
fn trace_filter() -> Targets {
    Targets::new()
        .with_default(LevelFilter::WARN)
        .with_target("imgflush", LevelFilter::INFO)
        .with_target("server", LevelFilter::INFO)
        .with_target("app", LevelFilter::INFO)
        .with_target("edge", LevelFilter::INFO)
        .with_target("server::telemetry", LevelFilter::DEBUG)
}

/// Installs the process's subscriber: log lines (LOG_FORMAT=json for log
/// shippers; RUST_LOG filters them), plus traces to `otlp_endpoint` if set.
pub fn init(otlp_endpoint: Option<&str>, service: &'static str) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into());
    let logs = if std::env::var("LOG_FORMAT").is_ok_and(|f| f == "json") {
        tracing_subscriber::fmt::layer().json().with_filter(filter).boxed()
    } else {
        tracing_subscriber::fmt::layer().with_filter(filter).boxed()
    };
    let Some(endpoint) = otlp_endpoint else {
        tracing_subscriber::registry().with(logs).init();
        return Ok(Telemetry::default());
    };
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(url)
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build();
    let tracer = provider.tracer("imgflush");
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());
    let traces = tracing_opentelemetry::layer().with_tracer(tracer).with_filter(trace_filter());
    tracing_subscriber::registry().with(logs).with(traces).init();
    imgflush::backend::trace_context::enable();
    Ok(Telemetry { provider: Some(provider) })
}

/// tower-http's span for one HTTP request, named `METHOD /path` in a trace
/// (the query is left out), continuing the caller's trace when the request
/// carries a `traceparent` and traces are on.
pub fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let name = format!("{} {}", req.method(), req.uri().path());
    let span = tracing::debug_span!(
        "request",
        otel.name = %name,
        otel.kind = "server",
        method = %req.method(),
        path = %req.uri().path(),
        status = tracing::field::Empty,
    );
    if imgflush::backend::trace_context::enabled() {
        if let Some(parent) = req.headers().get("traceparent").and_then(|v| v.to_str().ok()) {
            imgflush::backend::trace_context::continue_trace(&span, parent);
        }
    }
    span
}
