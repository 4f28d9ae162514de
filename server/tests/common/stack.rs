//! A real local stack for end-to-end tests: an origin whose files the test
//! rewrites, the console on a real port, an edge reading its settings from
//! the console, and Varnish nodes (Debian's `varnishd`) in front of the edge.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use tokio_util::sync::CancellationToken;

use std::sync::atomic::{AtomicU64, Ordering};

use imgflush::backend::store::{EdgeSettings, OriginScheme, Project, ProjectSettingsUpdate};

use super::{Db, TestApp};

/// The console of a test stack, with the demo project reaching its origin.
pub struct Console {
    pub t: TestApp,
    pub files: Files,
    pub origin: SocketAddr,
    pub addr: SocketAddr,
    /// Milliseconds the origin waits before each answer (0 by default).
    pub origin_delay: Arc<AtomicU64>,
    /// Requests the origin received.
    pub origin_hits: Arc<AtomicU64>,
}

/// A console serving edge settings on a real port, and an origin holding
/// `a.png` and `b.png` that the demo project may fetch; `None` when `db` is
/// PostgreSQL and `TEST_DATABASE_URL` is not set.
pub async fn console(db: Db) -> Option<Console> {
    console_with(db, |_| {}).await
}

/// [`console`] with more configuration (`tweak`).
pub async fn console_with(db: Db, tweak: impl FnOnce(&mut server::config::Config)) -> Option<Console> {
    let token = Some(server::config::Secret::new(SETTINGS_TOKEN));
    let t = TestApp::with_config(db, |c| {
        c.edge.settings_token = token;
        tweak(c);
    })
    .await?;
    let files: Files = Default::default();
    files.lock().unwrap().insert("a.png".into(), png([200, 30, 30]));
    files.lock().unwrap().insert("b.png".into(), png([30, 30, 200]));
    let origin_delay = Arc::new(AtomicU64::new(0));
    let origin_hits = Arc::new(AtomicU64::new(0));
    let origin = origin_counted(files.clone(), origin_delay.clone(), origin_hits.clone()).await;
    set_edge(&t, &t.demo, origin, EdgeSettings::default()).await;
    let addr = serve(t.router.clone()).await;
    Some(Console { t, files, origin, addr, origin_delay, origin_hits })
}

/// Lets `project` fetch from the test origin over plain HTTP on loopback,
/// with `edge`'s other settings (soft purge, verify, …).
pub async fn set_edge(t: &TestApp, project: &Project, origin: SocketAddr, edge: EdgeSettings) {
    let update = ProjectSettingsUpdate {
        name: project.name.clone(),
        origin_hosts: vec![origin.to_string()],
        max_age_secs: 3600,
        s_maxage_secs: 86400,
        edge: EdgeSettings {
            origin_scheme: OriginScheme::Http,
            private_origins_allowed: vec![origin.to_string()],
            ..edge
        },
    };
    t.store.update_project_settings(project.id, &update).await.unwrap();
}

pub type Files = Arc<Mutex<std::collections::HashMap<String, Vec<u8>>>>;

pub const SETTINGS_TOKEN: &str = "edge-settings-token-of-32-chars-or-more";
/// The edge's node secret; an `edge` target carries [`edge::project_secret`] of it.
pub const EDGE_SECRET: &str = "edge-purge-secret";

pub fn png(rgb: [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(64, 48, image::Rgb(rgb));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

pub async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    addr
}

/// An origin serving `/img/{name}` from `files`, which the test rewrites,
/// each labelled `Surrogate-Key: file-{stem} images imgflush-t-victim`.
pub async fn origin(files: Files) -> SocketAddr {
    origin_with_delay(files, Arc::new(AtomicU64::new(0))).await
}

/// [`origin`], answering each request after `delay` milliseconds.
pub async fn origin_with_delay(files: Files, delay: Arc<AtomicU64>) -> SocketAddr {
    origin_counted(files, delay, Arc::new(AtomicU64::new(0))).await
}

/// [`origin_with_delay`], counting requests in `hits`. A slow answer sends
/// the file as it was when the request came.
pub async fn origin_counted(files: Files, delay: Arc<AtomicU64>, hits: Arc<AtomicU64>) -> SocketAddr {
    type St = (Files, Arc<AtomicU64>, Arc<AtomicU64>);
    async fn file(State((files, delay, hits)): State<St>, UrlPath(name): UrlPath<String>) -> impl IntoResponse {
        hits.fetch_add(1, Ordering::SeqCst);
        let found = files.lock().unwrap().get(&name).cloned();
        tokio::time::sleep(Duration::from_millis(delay.load(Ordering::Relaxed))).await;
        // Tags as an origin sends them, with a forged key of another project.
        let tags = format!("file-{} images imgflush-t-victim", name.split('.').next().unwrap_or_default());
        match found {
            Some(bytes) => (StatusCode::OK, [("content-type", "image/png".to_owned()), ("surrogate-key", tags)], bytes)
                .into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        }
    }
    let router = axum::Router::new().route("/img/{name}", axum::routing::get(file)).with_state((files, delay, hits));
    serve(router).await
}

/// An edge: images on `addr`, purges and metrics on `admin`.
#[derive(Clone, Copy, Debug)]
pub struct EdgeNode {
    pub addr: SocketAddr,
    pub admin: SocketAddr,
}

impl EdgeNode {
    /// The `edge` target of project `token`: the admin listener, the project's secret.
    pub fn target(&self, name: &str, token: &str) -> imgflush::backend::store::NewTarget {
        imgflush::backend::store::NewTarget {
            kind: imgflush::domain::TargetKind::Edge,
            name: name.into(),
            url: format!("http://{}/_purge", self.admin),
            secret: Some(edge::project_secret(&edge::Secret::new(EDGE_SECRET), token)),
            settings: Default::default(),
            credentials: None,
        }
    }
}

/// An edge polling `console` for settings, with its cache in `cache_dir`.
pub async fn edge(console: SocketAddr, cache_dir: &Path, stop: CancellationToken) -> EdgeNode {
    let settings = edge::SettingsConfig::Console {
        url: format!("http://{console}/internal/edge/projects"),
        secret: edge::Secret::new(SETTINGS_TOKEN),
        poll_interval: Duration::from_millis(500),
    };
    let config = edge::EdgeConfig::new(cache_dir, edge::Secret::new(EDGE_SECRET), settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let node = EdgeNode { addr: listener.local_addr().unwrap(), admin: admin.local_addr().unwrap() };
    tokio::spawn(edge::serve(config, listener, admin, async move { stop.cancelled().await }));
    node
}

pub struct Seen {
    pub cache: String,
    pub body: Vec<u8>,
}

pub async fn fetch(client: &reqwest::Client, url: &str) -> Seen {
    let resp = client.get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    let cache = resp.headers().get("x-cache").unwrap().to_str().unwrap().to_owned();
    Seen { cache, body: resp.bytes().await.unwrap().to_vec() }
}

/// A `varnishd` running the shipped VCL in front of `backend`, stopped
/// (SIGKILL) when dropped, also when the test fails.
pub struct VarnishNode {
    pub addr: SocketAddr,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl VarnishNode {
    pub async fn start(backend: SocketAddr, secret: &str) -> VarnishNode {
        let dir = tempfile::tempdir().unwrap();
        // varnishd compiles the VCL as user vcache: it must reach the node dir.
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let made = Command::new("sh")
            .arg(deploy_dir().join("mknode.sh"))
            .arg(dir.path())
            .args(["--secret", secret, "--backend", &backend.to_string()])
            .status()
            .expect("sh runs mknode.sh");
        assert!(made.success(), "mknode.sh failed");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut node = VarnishNode { addr: ([127, 0, 0, 1], port).into(), child: None, dir };
        node.restart().await;
        node
    }

    /// Kills the node (its cache is gone with it).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the node again on the same address, with an empty cache.
    pub async fn restart(&mut self) {
        self.stop();
        let vcl_path = format!("vcl_path={}:/etc/varnish:/usr/share/varnish/vcl", self.dir.path().display());
        let child = Command::new("varnishd")
            .arg("-F")
            .args(["-n", &self.workdir()])
            .args(["-a", &self.addr.to_string(), "-T", "127.0.0.1:0", "-s", "malloc,32m"])
            .args(["-p", &vcl_path, "-f", &deploy_dir().join("imgflush.vcl").display().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("varnishd (Debian's varnish + varnish-modules; ./scripts/test.sh installs them)");
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("varnishd did not listen on {}", self.addr);
    }

    fn workdir(&self) -> String {
        self.dir.path().join("work").display().to_string()
    }

    /// The `imgflush-purge` lines the VCL logged since this instance started
    /// (`varnishlog -d`: what is in the node's shared memory log).
    pub fn purge_log(&self) -> Vec<String> {
        let out = Command::new("varnishlog")
            .args(["-d", "-n", &self.workdir(), "-g", "raw", "-i", "VCL_Log"])
            .output()
            .expect("varnishlog runs");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once("imgflush-purge ").map(|(_, rest)| rest.to_owned()))
            .collect()
    }
}

fn deploy_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/varnish").canonicalize().unwrap()
}

impl Drop for VarnishNode {
    fn drop(&mut self) {
        self.stop();
    }
}
