//! Per-edge counters rendered in the Prometheus text format. Own atomics
//! rather than a global `metrics` recorder, so two edges in one process (the
//! tests, an embedded demo) never share or fight over a registry.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
pub struct Metrics {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub stale_served: AtomicU64,
    pub bytes_served: AtomicU64,
    pub origin_errors: AtomicU64,
    pub purges: AtomicU64,
    pub purged_objects: AtomicU64,
    pub store_failures: AtomicU64,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Relaxed);
    }

    pub fn observe_latency(&self, d: Duration) {
        // One atomic per request: buckets are stored non-cumulative and
        // summed when rendered.
        let s = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|le| s <= *le) {
            self.latency_buckets[i].fetch_add(1, Relaxed);
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_us.fetch_add(d.as_micros() as u64, Relaxed);
    }

    pub fn render(&self, (objects, bytes, evictions): (u64, u64, u64)) -> String {
        let mut out = String::new();
        let mut line = |name: &str, kind: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        };
        line("edge_cache_hits_total", "counter", "Requests answered from the cache.", self.hits.load(Relaxed));
        line("edge_cache_misses_total", "counter", "Requests that fetched the origin.", self.misses.load(Relaxed));
        line(
            "edge_stale_served_total",
            "counter",
            "Expired copies served because the origin failed.",
            self.stale_served.load(Relaxed),
        );
        line("edge_bytes_served_total", "counter", "Image body bytes sent.", self.bytes_served.load(Relaxed));
        line(
            "edge_origin_errors_total",
            "counter",
            "Origin fetches that failed or were refused.",
            self.origin_errors.load(Relaxed),
        );
        line("edge_purges_total", "counter", "Purge requests handled.", self.purges.load(Relaxed));
        line(
            "edge_purged_objects_total",
            "counter",
            "Cached objects removed by purges.",
            self.purged_objects.load(Relaxed),
        );
        line(
            "edge_cache_store_failures_total",
            "counter",
            "Objects served but not stored (disk full, I/O error).",
            self.store_failures.load(Relaxed),
        );
        line("edge_cache_evictions_total", "counter", "Objects evicted to stay within the byte budget.", evictions);
        line("edge_cache_objects", "gauge", "Objects in the disk cache.", objects);
        line("edge_cache_bytes", "gauge", "Bytes in the disk cache.", bytes);
        let name = "edge_request_duration_seconds";
        let _ = writeln!(out, "# HELP {name} Image request latency.\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, le) in BUCKETS.iter().enumerate() {
            cumulative += self.latency_buckets[i].load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.latency_sum_us.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {count}");
        out
    }
}
