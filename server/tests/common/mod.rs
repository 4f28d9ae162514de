//! Test support: a fresh database per test (SQLite always, PostgreSQL when
//! `TEST_DATABASE_URL` is set), the app built on it, and helpers to sign in
//! and call it with `tower::ServiceExt::oneshot`.
#![allow(dead_code)]

pub mod authenticator;
pub mod binary;
pub mod emulators;
pub mod idp;
pub mod recorder;
pub mod stack;
pub mod who;

use axum::body::Body;
use axum::http::{header, Request, Response, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;

use imgflush::backend::auth::hash_password;
use imgflush::backend::now_ms;
use imgflush::backend::store::{self, DynStore, NewProject, Project, Submitter};
use imgflush::backend::Actor;
use imgflush::domain::Role;
use server::{App, Config};

pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs one test body against each database: `db_test!(name, |t| async move { … });`
#[macro_export]
macro_rules! db_test {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::common::TestApp::new($crate::common::Db::Sqlite).await;
                $crate::common::within_limit(($body)(t)).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(t) = $crate::common::TestApp::try_new($crate::common::Db::Postgres).await else {
                    eprintln!("TEST_DATABASE_URL not set: PostgreSQL half skipped");
                    return;
                };
                $crate::common::within_limit(($body)(t)).await;
            }
        }
    };
}

/// [`db_test!`] on an app built with a tweaked configuration:
/// `db_test_cfg!(name, |c: &mut Config| …, |t| async move { … });`
#[macro_export]
macro_rules! db_test_cfg {
    ($name:ident, $tweak:expr, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = $crate::common::TestApp::with_config($crate::common::Db::Sqlite, $tweak).await.unwrap();
                $crate::common::within_limit(($body)(t)).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(t) = $crate::common::TestApp::with_config($crate::common::Db::Postgres, $tweak).await else {
                    eprintln!("TEST_DATABASE_URL not set: PostgreSQL half skipped");
                    return;
                };
                $crate::common::within_limit(($body)(t)).await;
            }
        }
    };
}

/// A test body still running after this long has hung: it fails, naming
/// itself, instead of holding up the whole run until CI's limit.
pub const TEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

pub async fn within_limit(body: impl std::future::Future<Output = ()>) {
    if tokio::time::timeout(TEST_LIMIT, body).await.is_err() {
        panic!("the test did not finish within {} s: it hung", TEST_LIMIT.as_secs());
    }
}

/// A database that exists for one test and is dropped after it.
pub struct TestDb {
    pub url: String,
    cleanup: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn create(db: Db) -> Option<TestDb> {
        match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/test.db", dir.path().display());
                Some(TestDb { url, cleanup: None, _dir: Some(dir) })
            }
            Db::Postgres => {
                let admin = std::env::var("TEST_DATABASE_URL").ok()?;
                let name = format!("imgflush_test_{}", uuid::Uuid::new_v4().simple());
                let conn = sqlx::PgPool::connect(&admin).await.expect("TEST_DATABASE_URL reachable");
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&conn).await.expect("create test database");
                conn.close().await;
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Some(TestDb { url: format!("{base}/{name}"), cleanup: Some((admin, name)), _dir: None })
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.cleanup.take() {
            // Async drop does not exist; a short-lived runtime on another thread does the job.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    if let Ok(conn) = sqlx::PgPool::connect(&admin).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&conn).await;
                    }
                });
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub app: App,
    pub router: Router,
    pub store: DynStore,
    pub db: TestDb,
    pub demo: Project,
}

impl TestApp {
    pub async fn new(db: Db) -> TestApp {
        Self::try_new(db).await.expect("database available")
    }

    pub async fn try_new(db: Db) -> Option<TestApp> {
        Self::with_config(db, |_| {}).await
    }

    pub async fn with_config(db: Db, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let db = TestDb::create(db).await?;
        let mut config = Config::with_database(&db.url);
        config.worker.enabled = false;
        tweak(&mut config);
        let connected = store::connect(&db.url).await.expect("connect");
        let store = connected.store.clone();
        let app = server::build_with_store(config, connected).await.expect("build app");
        let demo = store
            .create_project(
                &NewProject { token: "demo".into(), name: "Demo".into(), origin_hosts: vec!["sample.li".into()] },
                now_ms(),
            )
            .await
            .unwrap();
        Some(TestApp { router: app.router.clone(), app, store, db, demo })
    }

    pub async fn project(&self, token: &str) -> Project {
        self.store
            .create_project(
                &NewProject { token: token.into(), name: format!("Project {token}"), origin_hosts: vec![] },
                now_ms(),
            )
            .await
            .unwrap()
    }

    /// Creates `email` with [`PASSWORD`] and `role` in `project`.
    pub async fn user(&self, email: &str, role: Role, project: &Project) -> i64 {
        let user = match self.store.user_by_email(email).await {
            Ok(u) => u,
            Err(_) => {
                self.store.create_user(email, &hash_password(PASSWORD.into()).await.unwrap(), now_ms()).await.unwrap()
            }
        };
        self.store.set_membership(user.id, project.id, role).await.unwrap();
        user.id
    }

    pub async fn actor(&self, email: &str, role: Role, project: &Project) -> Actor {
        let id = self.user(email, role, project).await;
        Actor {
            project: project.clone(),
            role,
            submitter: Submitter::User { id, email: email.into() },
            instance: None,
            meta: Default::default(),
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(req).await.unwrap()
    }

    /// `GET /metrics` from loopback (no token configured): the text, after a `200`.
    pub async fn metrics_text(&self) -> String {
        let peer: std::net::SocketAddr = "127.0.0.1:50000".parse().unwrap();
        let req = Request::get("/metrics")
            .header(header::HOST, "localhost")
            .extension(axum::extract::ConnectInfo(peer))
            .body(Body::empty())
            .unwrap();
        let resp = self.send(req).await;
        assert_eq!(resp.status(), StatusCode::OK);
        body_text(resp).await
    }

    /// Posts the sign-in form; returns the response.
    pub async fn login_response(&self, email: &str, password: &str) -> Response<Body> {
        let body = format!("email={}&password={}&next=%2F", enc(email), enc(password));
        self.send(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ORIGIN, "http://localhost")
                .header(header::HOST, "localhost")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// Posts the sign-in form as the connection from `peer` (with an
    /// `X-Forwarded-For` header when `forwarded_for` is given).
    pub async fn login_from(
        &self,
        peer: &str,
        forwarded_for: Option<&str>,
        email: &str,
        password: &str,
        next: &str,
    ) -> Response<Body> {
        let body = format!("email={}&password={}&next={}", enc(email), enc(password), enc(next));
        let peer: std::net::SocketAddr = format!("{peer}:40000").parse().unwrap();
        let mut req = Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, "http://localhost")
            .header(header::HOST, "localhost")
            .extension(axum::extract::ConnectInfo(peer));
        if let Some(xff) = forwarded_for {
            req = req.header("x-forwarded-for", xff);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    /// Signs in and returns the `Cookie` header value to send back.
    pub async fn login(&self, email: &str) -> String {
        let resp = self.login_response(email, PASSWORD).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "login should redirect");
        session_cookie(&resp).expect("a session cookie")
    }

    /// Calls a server function as a same-origin browser `fetch` would.
    pub async fn server_fn(&self, cookie: &str, name: &str, form: &[(&str, &str)]) -> Response<Body> {
        let body: Vec<String> = form.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
        self.send(
            Request::post(format!("/sfn/{name}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json")
                .header(header::HOST, "localhost")
                .header(header::ORIGIN, "http://localhost")
                .header("sec-fetch-site", "same-origin")
                .header(header::COOKIE, cookie)
                .body(Body::from(body.join("&")))
                .unwrap(),
        )
        .await
    }

    /// [`server_fn`](Self::server_fn), its answer read as JSON.
    pub async fn server_fn_json(&self, cookie: &str, name: &str, form: &[(&str, &str)]) -> serde_json::Value {
        body_json(self.server_fn(cookie, name, form).await).await
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response<Body> {
        let mut req = Request::get(path).header(header::HOST, "localhost");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }
}

/// The `name=value` part of the session cookie set by `resp`.
pub fn session_cookie(resp: &Response<Body>) -> Option<String> {
    set_cookie_header(resp).map(|c| c.split(';').next().unwrap().to_owned())
}

pub fn set_cookie_header(resp: &Response<Body>) -> Option<String> {
    resp.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("imgflush_session="))
        .map(str::to_owned)
}

pub fn location(resp: &Response<Body>) -> String {
    resp.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

/// The value of the unlabelled metric `name` in `/metrics` text.
pub fn metric_value(text: &str, name: &str) -> f64 {
    let line = text.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{name}\n{text}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

pub async fn body_text(resp: Response<Body>) -> String {
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

pub async fn body_json(resp: Response<Body>) -> serde_json::Value {
    let text = body_text(resp).await;
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
