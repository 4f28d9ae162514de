//! `GET /metrics`: the `metrics` crate's handles, recorded into a
//! `metrics-exporter-prometheus` recorder that belongs to this edge rather
//! than the process-global one, so two edges in one process (the tests, the
//! embedded demo beside a console) never share or fight over a registry.
//! Handles are registered once; recording is one atomic add per counter.

use std::time::Duration;

use ::metrics::{Counter, Gauge, Histogram, Key, KeyName, Level, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
const LATENCY: &str = "edge_request_duration_seconds";

pub struct Metrics {
    pub hits: Counter,
    pub misses: Counter,
    pub stale_served: Counter,
    pub bytes_served: Counter,
    pub origin_errors: Counter,
    pub purges: Counter,
    pub purged_objects: Counter,
    pub store_failures: Counter,
    pub misses_refused: Counter,
    /// A child's misses asked of its shield, and those the shield failed
    /// (the origin asked instead).
    pub shield_fetches: Counter,
    pub shield_fallbacks: Counter,
    /// A shield's internal requests answered, and refused.
    pub shield_requests: Counter,
    pub shield_refused: Counter,
    evictions: Counter,
    objects: Gauge,
    bytes: Gauge,
    max_bytes: Gauge,
    latency: Histogram,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(LATENCY.into()), &BUCKETS)
            .expect("fixed, non-empty buckets")
            .build_recorder();
        let meta = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));
        let counter = |name: &'static str, unit: Option<Unit>, help: &'static str| {
            recorder.describe_counter(KeyName::from_const_str(name), unit, SharedString::const_str(help));
            recorder.register_counter(&Key::from_static_name(name), &meta)
        };
        let hits = counter("edge_cache_hits_total", None, "Requests answered from the cache.");
        let misses = counter("edge_cache_misses_total", None, "Requests that fetched the origin.");
        let stale_served = counter("edge_stale_served_total", None, "Expired copies served because the origin failed.");
        let bytes_served = counter("edge_bytes_served_total", Some(Unit::Bytes), "Image body bytes sent.");
        let origin_errors = counter("edge_origin_errors_total", None, "Origin fetches that failed or were refused.");
        let purges = counter("edge_purges_total", None, "Purge requests handled.");
        let purged_objects = counter("edge_purged_objects_total", None, "Cached objects removed by purges.");
        let store_failures =
            counter("edge_cache_store_failures_total", None, "Objects served but not stored (disk full, I/O error).");
        let misses_refused =
            counter("edge_misses_refused_total", None, "Misses refused by the per-token or per-address budget.");
        let shield_fetches = counter("edge_shield_fetches_total", None, "Misses asked of the shield (parent) edge.");
        let shield_fallbacks = counter(
            "edge_shield_fallbacks_total",
            None,
            "Shield fetches that failed: the origin was fetched directly.",
        );
        let shield_requests = counter("edge_shield_requests_total", None, "Child edges' internal requests answered.");
        let shield_refused = counter(
            "edge_shield_refused_total",
            None,
            "Internal requests refused: not a child, or a wrong credential.",
        );
        let evictions = counter("edge_cache_evictions_total", None, "Objects evicted to stay within the byte budget.");
        let gauge = |name: &'static str, unit: Option<Unit>, help: &'static str| {
            recorder.describe_gauge(KeyName::from_const_str(name), unit, SharedString::const_str(help));
            recorder.register_gauge(&Key::from_static_name(name), &meta)
        };
        let objects = gauge("edge_cache_objects", None, "Objects in the disk cache.");
        let bytes = gauge("edge_cache_bytes", Some(Unit::Bytes), "Bytes in the disk cache.");
        let max_bytes =
            gauge("edge_cache_max_bytes", Some(Unit::Bytes), "Bytes the disk cache may use (--cache-max-bytes).");
        recorder.describe_histogram(
            KeyName::from_const_str(LATENCY),
            Some(Unit::Seconds),
            SharedString::const_str("Image request latency."),
        );
        let latency = recorder.register_histogram(&Key::from_static_name(LATENCY), &meta);
        let handle = recorder.handle();
        Metrics {
            hits,
            misses,
            stale_served,
            bytes_served,
            origin_errors,
            purges,
            purged_objects,
            store_failures,
            misses_refused,
            shield_fetches,
            shield_fallbacks,
            shield_requests,
            shield_refused,
            evictions,
            objects,
            bytes,
            max_bytes,
            latency,
            handle,
        }
    }

    /// The disk cache's byte budget, reported beside its size.
    pub fn set_budget(&self, max_bytes: u64) {
        self.max_bytes.set(max_bytes as f64);
    }

    pub fn inc(counter: &Counter, by: u64) {
        counter.increment(by);
    }

    pub fn observe_latency(&self, d: Duration) {
        self.latency.record(d.as_secs_f64());
    }

    /// Folds recorded latencies into the histogram's buckets; without it
    /// they would pile up between scrapes. The edge calls it every few seconds.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// The Prometheus text format, with the cache's current size.
    pub fn render(&self, (objects, bytes, evictions): (u64, u64, u64)) -> String {
        self.objects.set(objects as f64);
        self.bytes.set(bytes as f64);
        self.evictions.absolute(evictions);
        self.handle.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_edges_keep_their_own_counts_in_the_prometheus_format() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.set_budget(4096);
        Metrics::inc(&a.hits, 2);
        a.observe_latency(Duration::from_millis(3));
        let text = a.render((4, 1000, 1));
        for line in [
            "# TYPE edge_cache_hits_total counter",
            "edge_cache_hits_total 2",
            "edge_cache_objects 4",
            "edge_cache_evictions_total 1",
            "edge_cache_max_bytes 4096",
            "edge_request_duration_seconds_bucket{le=\"0.005\"} 1",
            "edge_request_duration_seconds_count 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} missing from\n{text}");
        }
        assert!(b.render((0, 0, 0)).lines().any(|l| l == "edge_cache_hits_total 0"), "b counts nothing of a's");
    }
}
