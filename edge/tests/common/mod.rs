//! A real origin on 127.0.0.1 serving files the test rewrites, and an edge
//! in front of it, both on port 0.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use edge::{project_secret, Edge, EdgeConfig, OriginScheme, ProjectSettings, Secret, SettingsConfig};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use tokio::sync::oneshot;

/// The node secret; purges carry [`secret_of`] a token.
pub const SECRET: &str = "purge-secret";
pub const EDGE_DOMAIN: &str = "edge.test";
pub const CNAME: &str = "img.example.test";

#[derive(Clone)]
pub enum Answer {
    Body(Vec<u8>),
    /// A body with extra response headers (repeated names allowed).
    WithHeaders(Vec<u8>, Vec<(&'static str, String)>),
    Status(u16),
    Redirect(String),
}

#[derive(Default)]
pub struct Origin {
    pub files: Mutex<HashMap<String, Answer>>,
    pub hits: AtomicU64,
    /// Milliseconds an answer waits after the file was read (a slow origin
    /// sending the bytes it had when the request came).
    pub delay_ms: AtomicU64,
}

impl Origin {
    pub fn put(&self, path: &str, a: Answer) {
        self.files.lock().unwrap().insert(path.to_owned(), a);
    }
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn serve_origin(State(o): State<Arc<Origin>>, req: Request) -> Response {
    o.hits.fetch_add(1, Ordering::SeqCst);
    let answer = o.files.lock().unwrap().get(req.uri().path()).cloned();
    tokio::time::sleep(std::time::Duration::from_millis(o.delay_ms.load(Ordering::SeqCst))).await;
    match answer {
        Some(Answer::Body(b)) => b.into_response(),
        Some(Answer::WithHeaders(b, headers)) => {
            let mut r = b.into_response();
            for (name, value) in headers {
                r.headers_mut().append(name, HeaderValue::from_str(&value).unwrap());
            }
            r
        }
        Some(Answer::Status(s)) => StatusCode::from_u16(s).unwrap().into_response(),
        Some(Answer::Redirect(to)) => {
            let mut r = StatusCode::FOUND.into_response();
            r.headers_mut().insert("location", HeaderValue::from_str(&to).unwrap());
            r
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub struct OriginServer {
    pub addr: SocketAddr,
    pub state: Arc<Origin>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl OriginServer {
    pub async fn start() -> OriginServer {
        let state = Arc::new(Origin::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let app = axum::Router::new().fallback(serve_origin).with_state(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        OriginServer { addr, state, stop: Some(tx), task }
    }

    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = self.task.await;
    }
}

/// The `demo` project trusts the local origin (private addresses allowed);
/// `other` too; `strict` allows the same host but not private addresses.
pub fn projects(origin: &str) -> Vec<ProjectSettings> {
    let port = origin.rsplit(':').next().unwrap();
    let local = |token: &str| {
        let mut p = ProjectSettings::new(token);
        p.allowed_origin_hosts = vec![origin.to_owned(), format!("localhost:{port}")];
        p.origin_scheme = OriginScheme::Http;
        p.allow_private_origins = true;
        p
    };
    let mut demo = local("demo");
    demo.custom_host = Some(CNAME.to_owned());
    let mut strict = local("strict");
    strict.allow_private_origins = false;
    strict.allowed_origin_hosts.push(format!("2130706433:{port}"));
    let mut signed = local("signed");
    signed.sign_salt = Some(Secret::new("salt"));
    let mut sealed = local("sealed");
    sealed.sign_salt = Some(Secret::new("salt"));
    sealed.sealed = true;
    vec![demo, local("other"), strict, signed, sealed]
}

/// The purge secret of project `token` on the harness's edge.
pub fn secret_of(token: &str) -> String {
    project_secret(&Secret::new(SECRET), token)
}

pub struct Harness {
    pub addr: SocketAddr,
    /// The admin listener: `/_purge`, `/purge`, `/metrics`.
    pub admin: SocketAddr,
    pub origin: OriginServer,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

pub fn config(dir: &std::path::Path, origin: &str) -> EdgeConfig {
    let mut c = EdgeConfig::new(dir, Secret::new(SECRET), SettingsConfig::Static(projects(origin)));
    c.edge_domain = Some(EDGE_DOMAIN.to_owned());
    c
}

impl Harness {
    pub async fn start() -> Harness {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut EdgeConfig)) -> Harness {
        let origin = OriginServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path(), &origin.host());
        tweak(&mut c);
        let (addr, admin, stop, task) = start_edge(c).await;
        let client = reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Harness { addr, admin, origin, client, dir, stop: Some(stop), task: Some(task) }
    }

    /// Stops the edge and starts a new one on the same cache directory.
    pub async fn restart_edge(&mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = self.task.take().unwrap().await;
        let (addr, admin, stop, task) = start_edge(config(self.dir.path(), &self.origin.host())).await;
        (self.addr, self.admin, self.stop, self.task) = (addr, admin, Some(stop), Some(task));
    }

    /// Edge URL in the path form for an origin path below the local origin.
    pub fn url(&self, token: &str, path_and_query: &str) -> String {
        format!("http://{}/{token}/{}{path_and_query}", self.addr, self.origin.host())
    }

    /// The canonical origin path of `path` on the local origin.
    pub fn origin_path(&self, path: &str) -> String {
        format!("/{}{path}", self.origin.host())
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.client.get(url).send().await.unwrap()
    }

    pub async fn get_with_host(&self, host: &str, path_and_query: &str) -> reqwest::Response {
        let url = format!("http://{}{path_and_query}", self.addr);
        self.client.get(url).header("host", host).send().await.unwrap()
    }

    /// A purge on the admin listener with the secret of the body's token.
    pub async fn purge(&self, body: serde_json::Value) -> (u16, serde_json::Value) {
        let res = self
            .client
            .post(format!("http://{}/_purge", self.admin))
            .bearer_auth(secret_of(body["token"].as_str().unwrap_or_default()))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn purge_paths(&self, token: &str, paths: &[String]) -> u64 {
        let (status, body) = self
            .purge(serde_json::json!({"invalidation_id": "00000000-0000-7000-8000-000000000000", "token": token, "scope": "original", "paths": paths}))
            .await;
        assert_eq!(status, 200, "{body}");
        body["removed"].as_u64().unwrap()
    }
}

/// Serves `c` on two free loopback ports: (image address, admin address, stop, task).
pub async fn start_edge(
    mut c: EdgeConfig,
) -> (SocketAddr, SocketAddr, oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (addr, admin_addr) = (listener.local_addr().unwrap(), admin.local_addr().unwrap());
    (c.listen, c.admin_listen) = (addr, admin_addr);
    let edge = Edge::build(c).await.unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        edge.serve(listener, admin, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (addr, admin_addr, tx, task)
}

pub fn x_cache(res: &reqwest::Response) -> String {
    res.headers().get("x-cache").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

pub fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// A solid-colour JPEG.
pub fn jpeg(w: u32, h: u32, color: [u8; 3]) -> Vec<u8> {
    encode(DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, Rgb(color))), ImageFormat::Jpeg)
}

pub fn png(w: u32, h: u32, color: [u8; 3]) -> Vec<u8> {
    encode(DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, Rgb(color))), ImageFormat::Png)
}

pub fn encode(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// Dimensions and centre colour of an encoded image.
pub fn inspect(body: &[u8]) -> (u32, u32, [u8; 3]) {
    let img = image::load_from_memory(body).unwrap().to_rgb8();
    let c = img.get_pixel(img.width() / 2, img.height() / 2).0;
    (img.width(), img.height(), c)
}

pub fn close(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) < 24)
}

pub const RED: [u8; 3] = [220, 30, 30];
pub const BLUE: [u8; 3] = [30, 30, 220];
pub const GREEN: [u8; 3] = [30, 200, 30];
