//! HIT throughput by object size: `server edge`'s worker model
//! ([`edge::serve_per_core`], 2 workers) against nginx (`sendfile on`, 2
//! workers) serving the very bytes the edge answers with, for ~4 KB,
//! ~200 KB and ~2 MB objects; `wrk -t2 -c32`, interleaved rounds, medians.
//!
//! Also the CPU time each server spent per request (user + system, from
//! `/proc`): on a shared machine the req/s follow the neighbours' load,
//! CPU per request much less so.
//!
//! `bench/run.sh hits` (needs `wrk`, `nginx`); `BENCH_SMALL=1`: one short
//! round each (a smoke run, not a measurement).

#[path = "support/nginx.rs"]
mod nginx;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use edge::{EdgeConfig, OriginScheme, ProjectSettings, Secret, SettingsConfig};

const WORKERS: usize = 2;
const CONNECTIONS: &str = "32";

fn main() {
    let small = std::env::var("BENCH_SMALL").is_ok_and(|v| v == "1");
    let (seconds, rounds) = if small { ("1", 1) } else { ("4", 3) };
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www).unwrap();
    // Noise does not compress: a side of n pixels makes a PNG of ~3n² bytes.
    let sizes = [("4k", 37), ("200k", 260), ("2m", 836)];
    for (name, side) in sizes {
        std::fs::write(www.join(format!("src-{name}.png")), noise_png(side)).unwrap();
    }
    let nginx_port = free_port();
    let nginx = nginx::start(dir.path(), nginx_port, &WORKERS.to_string(), "image/png png");
    let nginx_pids = || nginx_workers(nginx.child.id());
    let origin = format!("127.0.0.1:{nginx_port}");
    let edge = per_core_edge(dir.path(), &origin);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    // (X-Cache, body)
    let get = |url: &str| {
        rt.block_on(async {
            let res = client.get(url).send().await.unwrap();
            assert!(res.status().is_success(), "{url}: {}", res.status());
            let cache = res.headers().get("x-cache").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            (cache, res.bytes().await.unwrap())
        })
    };

    println!("| HIT of | edge req/s | nginx req/s | edge/nginx | edge CPU µs/req | nginx CPU µs/req | edge p99 | nginx p99 | goal |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (name, _) in sizes {
        let url = format!("http://{edge}/bench/{origin}/src-{name}.png");
        assert_eq!(get(&url).0, "MISS", "{url}");
        let (cache, body) = get(&url);
        assert_eq!(cache, "HIT", "{url}");
        std::fs::write(www.join(format!("{name}.png")), &body).unwrap();
        let peer = format!("http://{origin}/{name}.png");
        assert_eq!(get(&peer).1, body, "nginx serves the same bytes");
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            ours.push(measured(&[std::process::id()], || wrk(&url, seconds)));
            theirs.push(measured(&nginx_pids(), || wrk(&peer, seconds)));
        }
        let ((rps, p99, cpu), (peer_rps, peer_p99, peer_cpu)) = (median(ours), median(theirs));
        let ratio = rps / peer_rps;
        println!(
            "| {} B | {rps:.0} | {peer_rps:.0} | {ratio:.2}x | {cpu:.0} | {peer_cpu:.0} | {p99} | {peer_p99} | {} |",
            body.len(),
            verdict(ratio)
        );
    }
}

/// The goal (at least nginx's requests per second) met, or missed by how much.
fn verdict(ratio: f64) -> String {
    if ratio >= 1.0 {
        "≥ 1.0x: met".to_owned()
    } else {
        format!("≥ 1.0x: missed by {:.0}%", (1.0 - ratio) * 100.0)
    }
}

/// Random RGB pixels, `side`×`side`, as a PNG.
fn noise_png(side: u32) -> Vec<u8> {
    let mut seed = 0x2545_f491_u32;
    let img = image::RgbImage::from_fn(side, side, |_, _| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let [r, g, b, _] = seed.to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Stops nginx (master and workers) when dropped, panics included.
/// `server edge` as it runs: one single-threaded runtime per worker, all
/// accepting on one socket. Runs until the process exits.
fn per_core_edge(dir: &Path, origin: &str) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut project = ProjectSettings::new("bench");
    project.allowed_origin_hosts = vec![origin.to_owned()];
    project.origin_scheme = OriginScheme::Http;
    project.allow_private_origins = true;
    let config = EdgeConfig::new(dir.join("edge-cache"), Secret::new("s"), SettingsConfig::Static(vec![project]));
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            edge::serve_per_core(config, listener, admin, WORKERS, std::future::pending()).await.unwrap();
        });
    });
    addr
}

/// (requests per second, p99 as wrk prints it, seconds)
fn wrk(url: &str, seconds: &str) -> (f64, String, f64) {
    let out = Command::new("wrk")
        .args(["-t2", "-c", CONNECTIONS, "-d", seconds, "--latency", url])
        .output()
        .expect("wrk is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk output:\n{text}"));
    let p99 = text.lines().find_map(|l| l.trim().strip_prefix("99%")).map(|v| v.trim().to_owned()).unwrap_or_default();
    assert!(!text.contains("Non-2xx"), "wrk {url}:\n{text}");
    (rps, p99, seconds.parse().unwrap())
}

/// A wrk run with the CPU time `pids` spent during it, in µs per request.
fn measured(pids: &[u32], run: impl FnOnce() -> (f64, String, f64)) -> (f64, String, f64) {
    let before: u64 = pids.iter().map(|p| cpu_ticks(*p)).sum();
    let (rps, p99, seconds) = run();
    let ticks = pids.iter().map(|p| cpu_ticks(*p)).sum::<u64>() - before;
    // Clock ticks are 1/100 s on Linux (`getconf CLK_TCK`).
    (rps, p99, ticks as f64 * 1e4 / (rps * seconds))
}

/// utime + stime of a process, in clock ticks (`/proc/{pid}/stat` fields 14 and 15).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after_name.split_whitespace().skip(11).take(2).filter_map(|v| v.parse::<u64>().ok()).sum()
}

fn nginx_workers(master: u32) -> Vec<u32> {
    let children = std::fs::read_to_string(format!("/proc/{master}/task/{master}/children")).unwrap_or_default();
    children.split_whitespace().filter_map(|p| p.parse().ok()).collect()
}

fn median(mut runs: Vec<(f64, String, f64)>) -> (f64, String, f64) {
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    runs.swap_remove(runs.len() / 2)
}
