//! Figures for the edge, each beside its peer measured in the same run:
//! - HIT throughput and p99 with `wrk`, against nginx serving the same bytes;
//! - a MISS of a 4000×3000 JPEG at `w=500`, over HTTP and as the bare
//!   transform, against `vipsthumbnail` (process wall time);
//! - one path purged among 100,000 cached variants.
//!
//! Run with `edge/bench.sh` (needs `wrk`, `nginx`, `libvips-tools`).

#[path = "support/nginx.rs"]
mod nginx;

#[path = "support/timing.rs"]
mod timing;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use timing::median;

use edge::cache::{DiskCache, Meta};
use edge::{Edge, EdgeConfig, OriginScheme, Params, ProjectSettings, Secret, SettingsConfig};
use imgflush::domain::OriginPath;

const WRK_SECONDS: &str = "4";
const WRK_ROUNDS: usize = 3;
const WRK_CONNECTIONS: &str = "32";
const RUNS: usize = 7;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www).unwrap();
    let big = photo(4000, 3000);
    std::fs::write(www.join("big.jpg"), &big).unwrap();
    eprintln!("source: 4000x3000 JPEG, {} bytes", big.len());

    let nginx_port = free_port();
    let nginx = nginx::start(dir.path(), nginx_port, "auto", "image/jpeg jpg");
    let origin = format!("127.0.0.1:{nginx_port}");
    let (edge_addr, _, _stop) = rt.block_on(start_edge(dir.path(), &origin));
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = |url: String| {
        let client = client.clone();
        rt.block_on(async move {
            let t = Instant::now();
            let res = client.get(&url).send().await.unwrap();
            assert!(res.status().is_success(), "{url}: {}", res.status());
            let cache = res.headers()["x-cache"].to_str().unwrap().to_owned();
            let body = res.bytes().await.unwrap();
            (t.elapsed(), cache, body)
        })
    };

    let mut rows = Vec::new();

    // MISS over HTTP: a new `vh` each time, so every request is a miss.
    let miss: Vec<Duration> = (0..RUNS)
        .map(|i| {
            let (t, cache, _) = get(format!("http://{edge_addr}/bench/{origin}/big.jpg?w=500&vh={i}"));
            assert_eq!(cache, "MISS");
            t
        })
        .collect();
    let vips = median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                let ok = Command::new("vipsthumbnail")
                    .arg(www.join("big.jpg"))
                    .args(["--size", "500x", "-o"])
                    .arg(format!("{}[Q=80]", dir.path().join("vips.jpg").display()))
                    .status()
                    .unwrap()
                    .success();
                assert!(ok, "vipsthumbnail failed");
                t.elapsed()
            })
            .collect(),
    );
    let params = Params { w: Some(500), ..Params::default() };
    let render = median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                let out = edge::render(&big, &params, 50_000_000, &edge::OutputRules::default()).unwrap();
                assert!(!out.body.is_empty());
                t.elapsed()
            })
            .collect(),
    );
    let miss = median(miss);
    rows.push(row(
        "MISS 4000x3000 JPEG -> w=500, HTTP (median)",
        ms(miss),
        "vipsthumbnail",
        ms(vips),
        miss.as_secs_f64() / vips.as_secs_f64(),
        "<= 1.0x",
    ));
    rows.push(row(
        "  transform alone, in process (median)",
        ms(render),
        "vipsthumbnail",
        ms(vips),
        render.as_secs_f64() / vips.as_secs_f64(),
        "<= 1.0x",
    ));

    // HIT: the same bytes from the edge's disk cache and from nginx.
    let hit_url = format!("http://{edge_addr}/bench/{origin}/big.jpg?w=500&vh=0");
    let (_, cache, body) = get(hit_url.clone());
    assert_eq!(cache, "HIT");
    std::fs::write(www.join("thumb.jpg"), &body).unwrap();
    let per_core_addr = per_core_edge(dir.path(), &origin);
    let per_core_url = format!("http://{per_core_addr}/bench/{origin}/big.jpg?w=500&vh=0");
    get(per_core_url.clone());
    let (_, cache, _) = get(per_core_url.clone());
    assert_eq!(cache, "HIT");
    // Interleaved rounds, medians: the machine is shared, load drifts.
    let (mut edge_runs, mut nginx_runs, mut floor_runs, mut per_core_runs) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..WRK_ROUNDS {
        edge_runs.push(wrk(&hit_url));
        nginx_runs.push(wrk(&format!("http://{origin}/thumb.jpg")));
        floor_runs.push(wrk(&format!("http://{edge_addr}/healthz")));
        per_core_runs.push(wrk(&per_core_url));
    }
    let (per_core_rps, per_core_p99) = median_run(per_core_runs);
    let (edge_rps, edge_p99) = median_run(edge_runs);
    let (nginx_rps, nginx_p99) = median_run(nginx_runs);
    let (floor_rps, _) = median_run(floor_runs);
    rows.push(row(
        &format!(
            "HIT {} B, `server edge` (a runtime per core), wrk -c{WRK_CONNECTIONS}, median of {WRK_ROUNDS}x{WRK_SECONDS}s: req/s",
            body.len()
        ),
        format!("{per_core_rps:.0}"),
        "nginx",
        format!("{nginx_rps:.0}"),
        per_core_rps / nginx_rps,
        ">= 0.8x",
    ));
    rows.push(row("HIT p99 latency (of the median run)", per_core_p99, "nginx", nginx_p99.clone(), f64::NAN, ""));
    rows.push(row(
        "  HIT, embedded edge (the console's multi-threaded runtime): req/s",
        format!("{edge_rps:.0}"),
        "nginx",
        format!("{nginx_rps:.0}"),
        edge_rps / nginx_rps,
        "",
    ));
    rows.push(row("  its p99 latency", edge_p99, "nginx", nginx_p99, f64::NAN, ""));
    // The HTTP stack's own ceiling on this machine: axum answering `ok`.
    rows.push(row(
        "  (edge GET /healthz, the axum/hyper floor: req/s)",
        format!("{floor_rps:.0}"),
        "nginx",
        format!("{nginx_rps:.0}"),
        floor_rps / nginx_rps,
        "",
    ));
    drop(nginx);

    // Purge: 10,000 paths x 10 variants in one token.
    let cache_dir = dir.path().join("purge-cache");
    let (fill, purge_one) = purge_bench(&cache_dir);
    rows.push(row(
        "purge 1 path (10 variants) of 100,000, in process (median)",
        ms(purge_one),
        "",
        String::new(),
        f64::NAN,
        "<= 5 ms",
    ));
    let t = Instant::now();
    let (_, purge_addr, _stop2) = rt.block_on(start_edge(&cache_dir, &origin));
    let rebuild = t.elapsed();
    let http_purge = median(
        (0..RUNS)
            .map(|i| {
                rt.block_on(async {
                    let t = Instant::now();
                    let res = client
                        .post(format!("http://{purge_addr}/_purge"))
                        .bearer_auth(edge::project_secret(&Secret::new("s"), "bench"))
                        .json(&serde_json::json!({"token": "bench", "scope": "original", "paths": [format!("/h/p{}.jpg", 500 + i)]}))
                        .send()
                        .await
                        .unwrap();
                    let removed = res.json::<serde_json::Value>().await.unwrap()["removed"].as_u64();
                    assert_eq!(removed, Some(10));
                    t.elapsed()
                })
            })
            .collect(),
    );
    rows.push(row("  same over HTTP POST /_purge (median)", ms(http_purge), "", String::new(), f64::NAN, "<= 5 ms"));
    rows.push(row(
        "  (filling 100,000 variants / index rebuild on start)",
        format!("{} / {}", ms(fill), ms(rebuild)),
        "",
        String::new(),
        f64::NAN,
        "",
    ));

    println!("| figure | edge | peer | peer figure | edge/peer | goal |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!("{r}");
    }
}

fn row(what: &str, edge: String, peer: &str, peer_value: String, ratio: f64, goal: &str) -> String {
    let ratio = if ratio.is_nan() { String::new() } else { format!("{ratio:.2}x") };
    format!("| {what} | {edge} | {peer} | {peer_value} | {ratio} | {goal} |")
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// A photo-like JPEG: smooth gradients plus noise, so it compresses like one.
fn photo(w: u32, h: u32) -> Vec<u8> {
    let mut seed = 0x2545_f491_u32;
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = (seed % 24) as u8;
        image::Rgb([(x * 255 / w) as u8 / 2 + n, (y * 255 / h) as u8 / 2 + n, ((x + y) % 256) as u8 / 3 + n])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90).encode_image(&img).unwrap();
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Stops nginx (master and workers) when dropped, panics included.
/// (image address, admin address, stop)
async fn start_edge(cache_dir: &Path, origin: &str) -> (SocketAddr, SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let mut project = ProjectSettings::new("bench");
    project.allowed_origin_hosts = vec![origin.to_owned()];
    project.origin_scheme = OriginScheme::Http;
    project.allow_private_origins = true;
    let config = EdgeConfig::new(cache_dir, Secret::new("s"), SettingsConfig::Static(vec![project]));
    let edge = Edge::build(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (addr, admin_addr) = (listener.local_addr().unwrap(), admin.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(edge.serve(listener, admin, async {
        let _ = rx.await;
    }));
    (addr, admin_addr, tx)
}

fn median_run(mut runs: Vec<(f64, String)>) -> (f64, String) {
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    runs.swap_remove(runs.len() / 2)
}

/// `server edge` as it runs: [`edge::serve_per_core`] with one
/// single-threaded runtime per core accepting on one socket. Runs until exit.
fn per_core_edge(dir: &Path, origin: &str) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut project = ProjectSettings::new("bench");
    project.allowed_origin_hosts = vec![origin.to_owned()];
    project.origin_scheme = OriginScheme::Http;
    project.allow_private_origins = true;
    let config = EdgeConfig::new(dir.join("per-core-cache"), Secret::new("s"), SettingsConfig::Static(vec![project]));
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            edge::serve_per_core(config, listener, admin, 2, std::future::pending()).await.unwrap();
        });
    });
    addr
}

/// (requests per second, p99 as wrk prints it)
fn wrk(url: &str) -> (f64, String) {
    let out = Command::new("wrk")
        .args(["-t2", "-c", WRK_CONNECTIONS, "-d", WRK_SECONDS, "--latency", url])
        .output()
        .expect("wrk is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk output:\n{text}"));
    let p99 = text.lines().find_map(|l| l.trim().strip_prefix("99%")).map(|v| v.trim().to_owned()).unwrap_or_default();
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        eprintln!("wrk {url}:\n{text}");
    }
    (rps, p99)
}

fn purge_bench(dir: &Path) -> (Duration, Duration) {
    let cache = Arc::new(DiskCache::open(dir, 1 << 40, 64 << 20).unwrap());
    let body = bytes::Bytes::from(vec![7u8; 256]);
    let t = Instant::now();
    for p in 0..10_000 {
        for v in 0..10 {
            let meta = Meta {
                token: "bench".into(),
                path: format!("/h/p{p}.jpg"),
                variant: format!("w={}", 100 + v),
                status: 200,
                content_type: "image/jpeg".into(),
                etag: "\"e\"".into(),
                stored_at: 0,
                ttl: 1 << 30,
                body_len: body.len() as u64,
                tags: Vec::new(),
            };
            let epoch = cache.epoch(&meta.token);
            cache.store(meta, &body, epoch).unwrap();
        }
    }
    let fill = t.elapsed();
    let times = (0..RUNS)
        .map(|i| {
            let path = OriginPath::parse(&format!("/h/p{}.jpg", 100 + i)).unwrap();
            let t = Instant::now();
            assert_eq!(cache.purge_paths("bench", &[path]).removed, 10);
            t.elapsed()
        })
        .collect();
    (fill, median(times))
}
