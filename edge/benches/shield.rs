//! A shield tier's worth after a purge of everything: 4 edges behind one
//! shield against 4 edges straight to the origin (the peer, same run). Each
//! setup: every object fetched through every edge, then a token purge
//! (`"scope": "all"`, the shield first), then 1,000 concurrent requests for
//! 100 objects spread over the 4 edges. Counts the origin's fetches (goal
//! with the shield: at most one per object) and the wall time. All in one
//! process on loopback: a real origin (axum, 20 ms per answer), real edges
//! (`edge::Edge`), purges over their admin listeners.
//!
//! `bench/run.sh shield` (or `cargo bench -p edge --bench shield`);
//! `BENCH_SMALL=1`: 100 requests for 10 objects, a smoke run.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::IntoResponse;
use edge::{project_secret, Edge, EdgeConfig, OriginScheme, ProjectSettings, Secret, SettingsConfig};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

const EDGES: usize = 4;
const NODE_SECRET: &str = "bench-node-secret";
const SHIELD_SECRET: &str = "bench-shield-secret-0123456789";
const ORIGIN_DELAY: Duration = Duration::from_millis(20);

struct Origin {
    hits: AtomicU64,
    image: Vec<u8>,
}

async fn answer(State(o): State<Arc<Origin>>) -> axum::response::Response {
    o.hits.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(ORIGIN_DELAY).await;
    o.image.clone().into_response()
}

async fn origin() -> (SocketAddr, Arc<Origin>) {
    let mut jpeg = std::io::Cursor::new(Vec::new());
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(800, 600, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 90])));
    img.write_to(&mut jpeg, ImageFormat::Jpeg).expect("encode");
    let state = Arc::new(Origin { hits: AtomicU64::new(0), image: jpeg.into_inner() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().fallback(answer).with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, state)
}

/// An edge on port 0; returns (image port, admin port). Lives until the process ends.
async fn node(
    origin: SocketAddr,
    dir: &std::path::Path,
    tweak: impl FnOnce(&mut EdgeConfig),
) -> (SocketAddr, SocketAddr) {
    let mut demo = ProjectSettings::new("demo");
    demo.allowed_origin_hosts = vec![origin.to_string()];
    demo.origin_scheme = OriginScheme::Http;
    demo.allow_private_origins = true;
    let mut c = EdgeConfig::new(dir, Secret::new(NODE_SECRET), SettingsConfig::Static(vec![demo]));
    c.shield_secret = Some(Secret::new(SHIELD_SECRET));
    tweak(&mut c);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    (c.listen, c.admin_listen) = (listener.local_addr().expect("addr"), admin.local_addr().expect("addr"));
    let addrs = (c.listen, c.admin_listen);
    let edge = Edge::build(c).await.expect("edge");
    tokio::spawn(edge.serve(listener, admin, std::future::pending()));
    addrs
}

struct Figures {
    origin_fetches: u64,
    wall: Duration,
    not_ok: usize,
}

async fn run(shielded: bool, objects: usize, requests: usize) -> Figures {
    let (origin_addr, origin) = origin().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut admins = Vec::new();
    let mut parent = None;
    if shielded {
        let (addr, admin) = node(origin_addr, &dir.path().join("shield"), |c| {
            c.shield_children = vec!["127.0.0.1/32".parse().unwrap()]
        })
        .await;
        parent = Some(edge::parse_parent(&format!("http://{addr}")).expect("parent"));
        admins.push(admin);
    }
    let mut edges = Vec::new();
    for i in 0..EDGES {
        let (addr, admin) =
            node(origin_addr, &dir.path().join(format!("edge-{i}")), |c| c.parent = parent.clone()).await;
        edges.push(addr);
        admins.push(admin);
    }
    let client = reqwest::Client::builder().no_proxy().pool_max_idle_per_host(2000).build().expect("client");
    let url = |edge: SocketAddr, object: usize| format!("http://{edge}/demo/{origin_addr}/img/{object}.jpg?w=300");
    // Warm: every object cached on every node.
    for &e in &edges {
        let warm = (0..objects).map(|o| client.get(url(e, o)).send());
        for res in futures::future::join_all(warm).await {
            assert_eq!(res.expect("warm").status(), 200);
        }
    }
    // Purge everything, the shield first (as the console's pipeline orders targets).
    for admin in &admins {
        let res = client
            .post(format!("http://{admin}/_purge"))
            .bearer_auth(project_secret(&Secret::new(NODE_SECRET), "demo"))
            .json(&serde_json::json!({"token": "demo", "scope": "all"}))
            .send()
            .await
            .expect("purge");
        assert_eq!(res.status(), 200);
    }
    origin.hits.store(0, Ordering::SeqCst);
    let started = Instant::now();
    let all = (0..requests).map(|i| {
        let (client, url) = (client.clone(), url(edges[i % EDGES], (i / EDGES) % objects));
        tokio::spawn(async move {
            match client.get(url).send().await {
                Ok(res) if res.status() == 200 => res.bytes().await.is_ok(),
                _ => false,
            }
        })
    });
    let answers = futures::future::join_all(all).await;
    let wall = started.elapsed();
    let not_ok = answers.into_iter().filter(|a| !matches!(a, Ok(true))).count();
    Figures { origin_fetches: origin.hits.load(Ordering::SeqCst), wall, not_ok }
}

fn main() {
    let small = std::env::var("BENCH_SMALL").is_ok_and(|v| v == "1");
    let (objects, requests) = if small { (10, 100) } else { (100, 1000) };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let (with, without) =
        rt.block_on(async { (run(true, objects, requests).await, run(false, objects, requests).await) });
    let verdict = if with.origin_fetches <= objects as u64 { "met" } else { "NOT met" };
    println!(
        "After a purge of everything: {requests} concurrent requests for {objects} objects (w=300 of an 800x600 JPEG, \
         the origin answering in {} ms) spread over {EDGES} edges.\n",
        ORIGIN_DELAY.as_millis()
    );
    println!("| figure | {EDGES} edges behind 1 shield | {EDGES} edges to the origin (peer) | goal |");
    println!("|---|---|---|---|");
    println!(
        "| origin fetches | {} | {} | <= {objects} (one per object): {verdict} |",
        with.origin_fetches, without.origin_fetches
    );
    println!("| wall time | {:.0} ms | {:.0} ms | |", ms(with.wall), ms(without.wall));
    println!("| answers other than 200 | {} | {} | 0 |", with.not_ok, without.not_ok);
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
