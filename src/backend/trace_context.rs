//! An invalidation's place in an OpenTelemetry trace, carried across the
//! queue: the request that submits it records its W3C `traceparent`
//! ([`TraceStore`](crate::backend::store::TraceStore)) and the worker that
//! purges it continues that trace, so one trace shows the request, the job
//! and every purge call. Off (nothing recorded, nothing read) until the
//! server turns traces on with [`enable`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_opentelemetry::OpenTelemetrySpanExt;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Traces are exported by this process (the server sets up the exporter and
/// the W3C propagator first).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The current span's `traceparent`, while traces are on.
pub fn current() -> Option<String> {
    if !enabled() {
        return None;
    }
    let cx = tracing::Span::current().context();
    let mut carrier: HashMap<String, String> = HashMap::new();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut carrier));
    carrier.remove("traceparent")
}

/// Makes `span` (not yet entered) a child of the remote span `traceparent` names.
pub fn continue_trace(span: &tracing::Span, traceparent: &str) {
    let carrier: HashMap<String, String> = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let cx = opentelemetry::global::get_text_map_propagator(|p| p.extract(&carrier));
    let _ = span.set_parent(cx);
}
