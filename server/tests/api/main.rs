//! Router tests of the REST API (anchor-compatible `/invalidate` and native
//! `/api/v1`). Every response goes through [`call`], which checks it against
//! the schema the OpenAPI document declares for that operation and status.

#[path = "../common/mod.rs"]
mod common;

mod anchor;
mod document;
mod input;
mod key_lifetimes;
mod keys;
mod listing;
mod lookup;
mod routing;
mod schedule;
mod scoped_keys;
mod settings;
mod tags;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderMap, Request};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use common::recorder::Recorder;
use common::{Db, TestApp};
use imgflush::backend::now_ms;
use imgflush::backend::store::{LeaseToken, NewTarget, Project};
use imgflush::backend::worker::WorkerConfig;
use imgflush::backend::Actor;
use imgflush::domain::{InvalidationId, Status, TargetKind};

/// The OpenAPI document as the server generates it, and a validator that
/// treats every declared object as closed: a field added, dropped, renamed or
/// retyped in a response without the document following fails the test.
mod spec {
    use std::sync::OnceLock;

    use serde_json::{json, Value};

    pub fn doc() -> &'static Value {
        static DOC: OnceLock<Value> = OnceLock::new();
        DOC.get_or_init(|| serde_json::to_value(server::api::openapi()).expect("document serialises"))
    }

    fn close_objects(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                    map.insert("additionalProperties".into(), Value::Bool(false));
                }
                map.values_mut().for_each(close_objects);
            }
            Value::Array(items) => items.iter_mut().for_each(close_objects),
            _ => {}
        }
    }

    /// Whether `path` is an instance of the document's path `template`.
    fn matches(template: &str, path: &str) -> bool {
        let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
        t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
    }

    /// The schema of the response to `method path` with `status`. Requests
    /// outside every documented operation (unknown route, wrong method) get
    /// the shared error schema.
    pub fn response_schema(method: &str, path: &str, status: u16) -> Value {
        let op = doc()["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .find(|(template, _)| matches(template, path))
            .and_then(|(_, item)| item.get(method));
        let Some(op) = op else {
            assert!(status >= 400, "{method} {path} answered {status} but is not a documented operation");
            return json!({"$ref": "#/components/schemas/Error"});
        };
        let Some(resp) = op["responses"].get(status.to_string()) else {
            panic!("{method} {path} answered {status}, which its OpenAPI operation does not declare");
        };
        resp["content"]["application/json"]["schema"].clone()
    }

    /// Errors of `instance` against `schema` (which may `$ref` the document's components).
    pub fn violations(schema: &Value, instance: &Value) -> Vec<String> {
        let mut root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": doc()["components"].clone(),
            "allOf": [schema.clone()],
        });
        close_objects(&mut root);
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("the document's schema does not compile: {e}"));
        validator.iter_errors(instance).map(|e| format!("{} (at {})", e, e.instance_path())).collect()
    }

    pub fn check(method: &str, path: &str, status: u16, body: &Value) {
        let schema = response_schema(method, path, status);
        let errors = violations(&schema, body);
        assert!(
            errors.is_empty(),
            "{method} {path} → {status} does not match the OpenAPI document:\n{}\nbody: {body:#}",
            errors.join("\n")
        );
    }
}

struct Res {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Res {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "unexpected status; body: {:#}", self.body);
        &self.body
    }

    #[track_caller]
    fn expect_error(&self, status: u16, code: &str) -> &Value {
        self.expect(status);
        assert_eq!(self.body["status"], "error");
        assert_eq!(self.body["code"], code, "{:#}", self.body);
        &self.body
    }
}

/// Sends one API request; checks the answer is cookie-free JSON matching the document.
async fn call(t: &TestApp, req: Request<Body>) -> Res {
    let method = req.method().as_str().to_ascii_lowercase();
    let path = req.uri().path().to_owned();
    let resp = t.send(req).await;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    assert!(headers.get(header::SET_COOKIE).is_none(), "{method} {path}: the API must not set cookies");
    let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(ctype.starts_with("application/json"), "{method} {path} → {status}: content-type {ctype:?}");
    let body = common::body_json(resp).await;
    spec::check(&method, &path, status, &body);
    Res { status, headers, body }
}

fn request(method: &str, uri: &str, key: Option<&str>) -> axum::http::request::Builder {
    let b = Request::builder().method(method).uri(uri).header(header::HOST, "localhost");
    match key {
        Some(k) => b.header("x-client-key", k),
        None => b,
    }
}

fn get(uri: &str, key: Option<&str>) -> Request<Body> {
    request("GET", uri, key).body(Body::empty()).unwrap()
}

fn post(uri: &str, key: Option<&str>, body: &Value) -> Request<Body> {
    request("POST", uri, key)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn key(t: &TestApp, project: &Project, name: &str, role: &str) -> String {
    t.app.services.keys.create(&Actor::operator(project.clone()), name, role).await.unwrap().1
}

fn original(urls: &[&str]) -> Value {
    json!({"scope": "original", "urls": urls})
}

/// Creates an invalidation through the native API; returns its id.
async fn create(t: &TestApp, k: &str, urls: &[&str]) -> String {
    let r = call(t, post("/api/v1/invalidations", Some(k), &original(urls))).await;
    r.expect(201)["invalidation"]["id"].as_str().unwrap().to_owned()
}

/// Plays the worker by hand: claims the oldest queued job (which must be `id`) and ends it in `status`.
async fn finish(t: &TestApp, id: &str, status: Status) {
    let lease = LeaseToken::new();
    let claimed = t.store.claim("test", &lease, now_ms(), 60_000).await.unwrap().expect("a queued job").job;
    assert_eq!(claimed.id.to_string(), id);
    let error = status.is_error().then_some("edge-1 (backend on fire)");
    t.store.finish(claimed.id, &lease, status, error, None, now_ms()).await.unwrap();
}

/// A running worker, stopped when dropped.
struct RunningWorker(CancellationToken);

impl Drop for RunningWorker {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

fn start_worker(t: &TestApp) -> RunningWorker {
    let worker = t.app.worker(WorkerConfig {
        lease: Duration::from_secs(2),
        poll: Duration::from_millis(100),
        backoff: Duration::from_millis(20),
        ..Default::default()
    });
    let cancel = CancellationToken::new();
    tokio::spawn(worker.run(cancel.clone()));
    RunningWorker(cancel)
}

async fn edge_target(t: &TestApp, recorder: &Recorder) {
    let target = NewTarget {
        kind: TargetKind::Edge,
        name: "edge-1".into(),
        url: recorder.url("/purge"),
        secret: None,
        settings: Default::default(),
        credentials: None,
    };
    t.store.add_target(t.demo.id, &target, now_ms()).await.unwrap();
}

/// The anchor's `added_at`: `2020-08-01 09:57:37.310344` (UTC, microseconds, no zone).
fn assert_anchor_time(v: &Value) -> chrono::NaiveDateTime {
    let s = v.as_str().expect("a timestamp string");
    assert_eq!(s.len(), 26, "{s}");
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.6f").unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn assert_rfc3339_utc(v: &Value) {
    let s = v.as_str().expect("a timestamp string");
    assert!(chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with('Z') && s.len() == 24, "{s}");
}
