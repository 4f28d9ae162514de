//! Router tests of the REST API (anchor-compatible `/invalidate` and native
//! `/api/v1`). Every response goes through [`call`], which checks it against
//! the schema the OpenAPI document declares for that operation and status.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderMap, Request};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use common::recorder::Recorder;
use common::{Db, TestApp};
use imgflush::backend::keys;
use imgflush::backend::now_ms;
use imgflush::backend::store::{NewTarget, Project};
use imgflush::backend::worker::WorkerConfig;
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
    keys::create(&t.store, project.id, name, role).await.unwrap().1
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
    let claimed = t.store.claim("test", now_ms(), 60_000).await.unwrap().expect("a queued job");
    assert_eq!(claimed.id.to_string(), id);
    let error = status.is_error().then_some("edge-1 (backend on fire)");
    t.store.finish(claimed.id, "test", status, error, None, now_ms()).await.unwrap();
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
    let target = NewTarget { kind: TargetKind::Edge, name: "edge-1".into(), url: recorder.url("/purge"), secret: None };
    t.store.add_target(t.demo.id, &target, now_ms()).await.unwrap();
}

fn assert_rfc3339_utc(v: &Value) {
    let s = v.as_str().expect("a timestamp string");
    assert!(chrono::DateTime::parse_from_rfc3339(s).is_ok() && s.ends_with('Z') && s.len() == 24, "{s}");
}

// ---- the document ----------------------------------------------------------

db_test!(openapi_document_is_public_and_complete, |t: TestApp| async move {
    let r = call(&t, get("/api/v1/openapi.json", None)).await;
    let doc = r.expect(200);
    assert_eq!(doc, spec::doc(), "the served document is the generated one");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let ops: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, item)| item.as_object().unwrap().keys().map(move |m| format!("{m} {p}")))
        .collect();
    let mut ids: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values().map(|op| op["operationId"].as_str().unwrap()))
        .collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "operationIds are unique: {ids:?}");
    for op in [
        "post /invalidate",
        "get /invalidate/{uuid}",
        "post /api/v1/invalidations",
        "get /api/v1/invalidations",
        "get /api/v1/invalidations/{id}",
        "post /api/v1/invalidations/{id}/retry",
    ] {
        assert!(ops.contains(&op.to_owned()), "{op} missing from {ops:?}");
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["client_key"]["name"], "X-Client-Key");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    let codes = doc["components"]["schemas"]["ErrorCode"]["enum"].as_array().unwrap();
    for code in ["invalid_input", "malformed_json", "unauthorized", "forbidden", "not_found", "conflict"] {
        assert!(codes.contains(&json!(code)), "{code}");
    }
    for code in ["payload_too_large", "unsupported_media_type", "unprocessable_entity", "rate_limited"] {
        assert!(codes.contains(&json!(code)), "{code}");
    }
});

db_test!(the_schema_check_catches_drift, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let id = create(&t, &k, &["/sample.li/flat1.jpg"]).await;
    let good = call(&t, get(&format!("/api/v1/invalidations/{id}"), Some(&k))).await.body;
    let schema = spec::response_schema("get", "/api/v1/invalidations/x", 200);
    assert!(spec::violations(&schema, &good).is_empty());

    let drifted = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        spec::violations(&schema, &v)
    };
    let dropped = drifted(&|v| {
        v["invalidation"].as_object_mut().unwrap().remove("submitted_by");
    });
    assert!(!dropped.is_empty(), "a missing required field must fail");
    assert!(!drifted(&|v| v["invalidation"]["extra"] = json!(1)).is_empty(), "an undeclared field must fail");
    assert!(!drifted(&|v| v["invalidation"]["status"] = json!("FINISHED")).is_empty(), "an unknown status");
    assert!(!drifted(&|v| v["invalidation"]["created_at"] = json!("yesterday")).is_empty(), "a bad date-time");
    assert!(!drifted(&|v| v["invalidation"]["attempt"] = json!("1")).is_empty(), "a retyped field");
    assert!(!drifted(&|v| v["status"] = json!("ok")).is_empty(), "the success tag");

    let error_schema = spec::response_schema("post", "/api/v1/invalidations", 400);
    assert!(!spec::violations(&error_schema, &json!({"status": "error", "message": "x"})).is_empty());
    let undeclared = std::panic::catch_unwind(|| spec::response_schema("get", "/api/v1/invalidations", 409));
    assert!(undeclared.is_err(), "an undeclared status must fail");
});

// ---- anchor-compatible -----------------------------------------------------

db_test!(anchor_create_and_status, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let r = call(&t, post("/invalidate", Some(&k), &original(&["/sample.li/flat1.jpg", "/sample.li/b%20c.jpg"]))).await;
    let body = r.expect(201);
    assert_eq!(body["status"], "success");
    assert_eq!(body["msg"], "Your invalidation request has been received");
    assert_eq!(body["invalidation"]["status"], "RECEIVED");
    assert_eq!(body["invalidation"].as_object().unwrap().len(), 3, "{body}");
    assert_rfc3339_utc(&body["invalidation"]["added_at"]);
    let uuid = body["invalidation"]["uuid"].as_str().unwrap().to_owned();
    let added_at = body["invalidation"]["added_at"].clone();

    let r = call(&t, get(&format!("/invalidate/{uuid}"), Some(&k))).await;
    let inv = &r.expect(200)["invalidation"];
    assert_eq!(r.body["status"], "success");
    assert_eq!(inv["status"], "RECEIVED");
    assert_eq!(inv["uuid"], uuid.as_str());
    assert_eq!(inv["added_at"], added_at);
    assert_eq!(inv["scope"], "original");
    assert_eq!(inv["urls"]["received"], json!(["/sample.li/flat1.jpg", "/sample.li/b%20c.jpg"]));
    assert_eq!(inv["urls"]["invalidated"], json!([]));
    assert_eq!(inv["urls"]["failed"], json!([]));

    let r = call(&t, post("/invalidate", Some(&k), &json!({"scope": "all"}))).await;
    let uuid = r.expect(201)["invalidation"]["uuid"].as_str().unwrap().to_owned();
    let r = call(&t, get(&format!("/invalidate/{uuid}"), Some(&k))).await;
    assert_eq!(r.expect(200)["invalidation"]["scope"], "all");
    assert_eq!(r.body["invalidation"]["urls"]["received"], json!([]));

    // Submitted through the API, shown in the console log with the key's name.
    let id = InvalidationId::parse(&uuid).unwrap();
    let stored = t.store.invalidation(t.demo.id, id).await.unwrap();
    assert_eq!(stored.submitted_by, "API key ci");
});

db_test!(anchor_status_lists_invalidated_and_failed_urls, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let done = create(&t, &k, &["/a.jpg", "/b/*"]).await;
    finish(&t, &done, Status::Done).await;
    let failed = create(&t, &k, &["/c.jpg"]).await;
    finish(&t, &failed, Status::ErrorCdnNode).await;

    let r = call(&t, get(&format!("/invalidate/{done}"), Some(&k))).await;
    let urls = &r.expect(200)["invalidation"]["urls"];
    assert_eq!(r.body["invalidation"]["status"], "DONE");
    assert_eq!(urls["received"], json!(["/a.jpg", "/b/*"]));
    assert_eq!(urls["invalidated"], json!(["/a.jpg", "/b/*"]));
    assert_eq!(urls["failed"], json!([]));

    let r = call(&t, get(&format!("/invalidate/{failed}"), Some(&k))).await;
    let urls = &r.expect(200)["invalidation"]["urls"];
    assert_eq!(r.body["invalidation"]["status"], "ERROR_CDN_NODE");
    assert_eq!(urls["invalidated"], json!([]));
    assert_eq!(urls["failed"], json!(["/c.jpg"]));
});

// ---- authentication ----------------------------------------------------------

db_test!(bearer_or_client_key_and_last_used, |t: TestApp| async move {
    let (api_key, secret) = keys::create(&t.store, t.demo.id, "deploy", "editor").await.unwrap();
    assert!(api_key.last_used.is_none());
    let bearer = |req: axum::http::request::Builder| req.header(header::AUTHORIZATION, format!("Bearer {secret}"));

    let req = bearer(request("POST", "/invalidate", None))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(original(&["/x.jpg"]).to_string()))
        .unwrap();
    let uuid = call(&t, req).await.expect(201)["invalidation"]["uuid"].as_str().unwrap().to_owned();
    let req = bearer(request("GET", &format!("/api/v1/invalidations/{uuid}"), None)).body(Body::empty()).unwrap();
    let r = call(&t, req).await;
    assert_eq!(r.expect(200)["invalidation"]["submitted_by"], "API key deploy");
    let r = call(&t, get(&format!("/invalidate/{uuid}"), Some(&secret))).await;
    r.expect(200);

    let keys = t.store.list_api_keys(t.demo.id).await.unwrap();
    let used = keys.iter().find(|k| k.id == api_key.id).unwrap().last_used.expect("last_used recorded");
    assert!((chrono::Utc::now() - used).num_seconds().abs() < 60);
});

db_test!(missing_bad_and_revoked_keys_are_401, |t: TestApp| async move {
    let (api_key, secret) = keys::create(&t.store, t.demo.id, "ci", "editor").await.unwrap();
    let id = create(&t, &secret, &["/a.jpg"]).await;
    let body = original(&["/a.jpg"]);

    for req in [
        post("/invalidate", None, &body),
        get(&format!("/invalidate/{id}"), None),
        post("/api/v1/invalidations", None, &body),
        get("/api/v1/invalidations", None),
        get(&format!("/api/v1/invalidations/{id}"), None),
        request("POST", &format!("/api/v1/invalidations/{id}/retry"), None).body(Body::empty()).unwrap(),
    ] {
        let r = call(&t, req).await;
        r.expect_error(401, "unauthorized");
        assert!(r.body["message"].as_str().unwrap().contains("X-Client-Key"));
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }

    let wrong = format!("{secret}x");
    for bad in ["nonsense", "imf_nope_nope", wrong.as_str()] {
        let r = call(&t, get("/api/v1/invalidations", Some(bad))).await;
        r.expect_error(401, "unauthorized");
        assert!(!r.body.to_string().contains(bad), "the presented key is never echoed");
    }
    let basic = request("GET", "/api/v1/invalidations", None)
        .header(header::AUTHORIZATION, "Basic dXNlcjpwYXNz")
        .body(Body::empty())
        .unwrap();
    call(&t, basic).await.expect_error(401, "unauthorized");

    t.store.revoke_api_key(t.demo.id, api_key.id, now_ms()).await.unwrap();
    call(&t, get(&format!("/invalidate/{id}"), Some(&secret))).await.expect_error(401, "unauthorized");
    call(&t, post("/api/v1/invalidations", Some(&secret), &body)).await.expect_error(401, "unauthorized");
});

db_test!(another_projects_invalidation_is_404, |t: TestApp| async move {
    let other = t.project("other").await;
    let ours = key(&t, &t.demo, "ci", "editor").await;
    let theirs = key(&t, &other, "ci", "editor").await;
    let id = create(&t, &ours, &["/a.jpg"]).await;
    finish(&t, &id, Status::Error).await;

    call(&t, get(&format!("/invalidate/{id}"), Some(&theirs))).await.expect_error(404, "not_found");
    call(&t, get(&format!("/api/v1/invalidations/{id}"), Some(&theirs))).await.expect_error(404, "not_found");
    let retry = |k: &str| post(&format!("/api/v1/invalidations/{id}/retry"), Some(k), &json!({}));
    call(&t, retry(&theirs)).await.expect_error(404, "not_found");
    let r = call(&t, get("/api/v1/invalidations", Some(&theirs))).await;
    assert_eq!(r.expect(200)["invalidations"], json!([]));
    // Still there, still errored, for its owner.
    let r = call(&t, get(&format!("/api/v1/invalidations/{id}"), Some(&ours))).await;
    assert_eq!(r.expect(200)["invalidation"]["status"], "ERROR");

    let absent = "0193a5b2-7c1d-7e4f-9a2b-3c4d5e6f7a8b";
    call(&t, get(&format!("/invalidate/{absent}"), Some(&ours))).await.expect_error(404, "not_found");
    call(&t, get(&format!("/api/v1/invalidations/{absent}"), Some(&ours))).await.expect_error(404, "not_found");
    let r = call(&t, get("/invalidate/inv-42", Some(&ours))).await;
    assert_eq!(r.expect_error(400, "invalid_input")["details"][0]["field"], "id");
    assert!(r.body["message"].as_str().unwrap().contains("is not a valid Invalidation ID"));
});

db_test!(support_key_reads_but_may_not_create_or_retry, |t: TestApp| async move {
    let editor = key(&t, &t.demo, "ci", "editor").await;
    let support = key(&t, &t.demo, "helpdesk", "support").await;
    let id = create(&t, &editor, &["/a.jpg"]).await;
    finish(&t, &id, Status::Error).await;

    let r = call(&t, post("/invalidate", Some(&support), &original(&["/a.jpg"]))).await;
    assert!(r.expect_error(403, "forbidden")["message"].as_str().unwrap().contains("support"));
    call(&t, post("/api/v1/invalidations", Some(&support), &original(&["/a.jpg"])))
        .await
        .expect_error(403, "forbidden");
    let retry = post(&format!("/api/v1/invalidations/{id}/retry"), Some(&support), &json!({}));
    call(&t, retry).await.expect_error(403, "forbidden");

    call(&t, get(&format!("/invalidate/{id}"), Some(&support))).await.expect(200);
    call(&t, get(&format!("/api/v1/invalidations/{id}"), Some(&support))).await.expect(200);
    let r = call(&t, get("/api/v1/invalidations", Some(&support))).await;
    assert_eq!(r.expect(200)["invalidations"].as_array().unwrap().len(), 1);
});

// ---- bad input -------------------------------------------------------------

db_test!(bad_input_is_400_with_details, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    for uri in ["/invalidate", "/api/v1/invalidations"] {
        let sixteen: Vec<String> = (1..=16).map(|i| format!("/sample.li/{i}.jpg")).collect();
        let r = call(&t, post(uri, Some(&k), &json!({"scope": "original", "urls": sixteen}))).await;
        let msg = r.expect_error(400, "invalid_input")["message"].as_str().unwrap();
        assert!(msg.contains("at most 15"), "{msg}");
        assert_eq!(r.body["details"][0]["field"], "urls");

        let r = call(&t, post(uri, Some(&k), &json!({"scope": "everything", "urls": ["/a.jpg"]}))).await;
        let e = r.expect_error(400, "invalid_input");
        assert_eq!(e["details"][0]["field"], "scope");
        assert!(e["message"].as_str().unwrap().contains("use \"original\" or \"all\""), "{e}");

        let r = call(&t, post(uri, Some(&k), &original(&["/ok.jpg", "/sample.li/flat1.jpg?w=500"]))).await;
        let e = r.expect_error(400, "invalid_input");
        let msg = e["message"].as_str().unwrap();
        assert!(msg.contains("\"/sample.li/flat1.jpg?w=500\""), "the message names the entry: {msg}");
        assert!(msg.contains("Try \"/sample.li/flat1.jpg\""), "{msg}");
        assert_eq!(e["details"].as_array().unwrap().len(), 1);
        assert_eq!(e["details"][0]["field"], "urls");
        assert_eq!(e["details"][0]["entry"], "/sample.li/flat1.jpg?w=500");
        assert_eq!(e["details"][0]["suggestion"], "/sample.li/flat1.jpg");

        let r = call(&t, post(uri, Some(&k), &original(&["doc.cloudimg.io/sample.li/flat1.jpg"]))).await;
        assert_eq!(r.expect_error(400, "invalid_input")["details"][0]["suggestion"], "/sample.li/flat1.jpg");

        let r = call(&t, post(uri, Some(&k), &json!({"scope": "all", "urls": ["/a.jpg"]}))).await;
        r.expect_error(400, "invalid_input");
        let r = call(&t, post(uri, Some(&k), &json!({"scope": "original", "urls": []}))).await;
        r.expect_error(400, "invalid_input");
        let r = call(&t, post(uri, Some(&k), &json!({"scope": "original"}))).await;
        r.expect_error(400, "invalid_input");

        let malformed = request("POST", uri, Some(&k))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"scope": "original", "urls": ["/a.jpg"]"#))
            .unwrap();
        let r = call(&t, malformed).await;
        let msg = r.expect_error(400, "malformed_json")["message"].as_str().unwrap();
        assert!(msg.contains("JSON") && msg.contains("line 1"), "{msg}");
    }
    // Duplicates collapse: 16 entries naming 15 paths are fine.
    let mut urls: Vec<String> = (1..=15).map(|i| format!("/{i}.jpg")).collect();
    urls.push("/1.jpg".into());
    let r = call(&t, post("/api/v1/invalidations", Some(&k), &json!({"scope": "original", "urls": urls}))).await;
    assert_eq!(r.expect(201)["invalidation"]["paths"].as_array().unwrap().len(), 15);
    let r = call(&t, post("/api/v1/invalidations", Some(&k), &json!({"scope": "ALL"}))).await;
    assert_eq!(r.expect(201)["invalidation"]["scope"], "all");
});

db_test!(content_type_shape_and_size, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    for uri in ["/invalidate", "/api/v1/invalidations"] {
        let body = original(&["/a.jpg"]).to_string();
        let text = request("POST", uri, Some(&k))
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from(body.clone()))
            .unwrap();
        let r = call(&t, text).await;
        assert!(r.expect_error(415, "unsupported_media_type")["message"]
            .as_str()
            .unwrap()
            .contains("application/json"));
        let none = request("POST", uri, Some(&k)).body(Body::from(body)).unwrap();
        call(&t, none).await.expect_error(415, "unsupported_media_type");

        for wrong in [
            json!({"scope": "original", "urls": "/a.jpg"}),
            json!({"scope": 1, "urls": ["/a.jpg"]}),
            json!({"urls": ["/a.jpg"]}),
            json!({"scope": "original", "urls": [1]}),
            json!(["/a.jpg"]),
        ] {
            let r = call(&t, post(uri, Some(&k), &wrong)).await;
            let msg = r.expect_error(422, "unprocessable_entity")["message"].as_str().unwrap();
            assert!(msg.contains("deserialize"), "{msg}");
        }

        let huge = json!({"scope": "original", "urls": ["/".repeat(70_000)]});
        let r = call(&t, post(uri, Some(&k), &huge)).await;
        r.expect_error(413, "payload_too_large");
    }
    assert!(t.store.list_invalidations(t.demo.id, &Default::default()).await.unwrap().is_empty());
});

// ---- idempotency -------------------------------------------------------------

db_test!(idempotency_key_replays_or_conflicts, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let with_key = |key: &str, body: &Value| {
        request("POST", "/api/v1/invalidations", Some(&k))
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", key)
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let body = original(&["/a.jpg", "/b.jpg"]);
    let first = call(&t, with_key("build-42", &body)).await;
    let id = first.expect(201)["invalidation"]["id"].as_str().unwrap().to_owned();
    assert_eq!(first.header("location"), Some(format!("/api/v1/invalidations/{id}").as_str()));
    assert_eq!(first.header("idempotent-replayed"), None);

    let again = call(&t, with_key("build-42", &body)).await;
    assert_eq!(again.expect(200)["invalidation"]["id"], id.as_str());
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    // Same canonical request written differently is the same request.
    let same = call(&t, with_key("build-42", &original(&[" /a.jpg", "/b.jpg", "/a.jpg"]))).await;
    assert_eq!(same.expect(200)["invalidation"]["id"], id.as_str());

    let r = call(&t, with_key("build-42", &original(&["/c.jpg"]))).await;
    assert!(r.expect_error(409, "conflict")["message"].as_str().unwrap().contains("Idempotency-Key"));
    let r = call(&t, with_key("   ", &body)).await;
    assert_eq!(r.expect_error(400, "invalid_input")["details"][0]["field"], "Idempotency-Key");

    let all = t.store.list_invalidations(t.demo.id, &Default::default()).await.unwrap();
    assert_eq!(all.len(), 1, "replays create nothing");

    // The anchor endpoint honours the header the same way.
    let anchor = |body: &Value| {
        request("POST", "/invalidate", Some(&k))
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", "deploy-7")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let uuid = call(&t, anchor(&body)).await.expect(201)["invalidation"]["uuid"].clone();
    let replay = call(&t, anchor(&body)).await;
    assert_eq!(replay.expect(200)["invalidation"]["uuid"], uuid);
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    call(&t, anchor(&original(&["/z.jpg"]))).await.expect_error(409, "conflict");
});

// ---- listing -----------------------------------------------------------------

db_test!(list_pages_with_cursor_and_filters_by_status, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let done = create(&t, &k, &["/0.jpg"]).await;
    finish(&t, &done, Status::Done).await;
    let mut ids = vec![done.clone()];
    for i in 1..5 {
        ids.push(create(&t, &k, &[format!("/{i}.jpg").as_str()]).await);
    }
    ids.reverse(); // newest first

    let mut seen = Vec::new();
    let mut uri = "/api/v1/invalidations?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let r = call(&t, get(&uri, Some(&k))).await;
        let page = r.expect(200);
        let rows = page["invalidations"].as_array().unwrap();
        assert!(rows.len() <= 2);
        seen.extend(rows.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/invalidations?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    assert_eq!(pages, 3);

    let r = call(&t, get("/api/v1/invalidations?status=done", Some(&k))).await;
    let rows = r.expect(200)["invalidations"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], done.as_str());
    assert_eq!(rows[0]["status"], "DONE");
    assert!(rows[0]["finished_at"].is_string());
    assert_eq!(r.body["next_cursor"], Value::Null);
    let r = call(&t, get("/api/v1/invalidations?status=RECEIVED&limit=3", Some(&k))).await;
    let rows = r.expect(200)["invalidations"].as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>(), ids[..3]);
    assert_eq!(r.body["next_cursor"], ids[2].as_str());

    for (query, field) in [
        ("status=FINISHED", "status"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=nope", "cursor"),
    ] {
        let r = call(&t, get(&format!("/api/v1/invalidations?{query}"), Some(&k))).await;
        assert_eq!(r.expect_error(400, "invalid_input")["details"][0]["field"], field, "{query}");
    }
    let r = call(&t, get("/api/v1/invalidations?limit=100", Some(&k))).await;
    assert_eq!(r.expect(200)["invalidations"].as_array().unwrap().len(), 5);
});

db_test!(list_defaults_to_20_per_page, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    for i in 0..21 {
        create(&t, &k, &[format!("/{i}.jpg").as_str()]).await;
    }
    let r = call(&t, get("/api/v1/invalidations", Some(&k))).await;
    assert_eq!(r.expect(200)["invalidations"].as_array().unwrap().len(), 20);
    let cursor = r.body["next_cursor"].as_str().unwrap();
    let r = call(&t, get(&format!("/api/v1/invalidations?cursor={cursor}"), Some(&k))).await;
    assert_eq!(r.expect(200)["invalidations"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["next_cursor"], Value::Null);
});

// ---- long-poll and retry -----------------------------------------------------

db_test!(wait_returns_as_soon_as_the_invalidation_is_done, |t: TestApp| async move {
    let recorder = Recorder::start().await;
    edge_target(&t, &recorder).await;
    let k = key(&t, &t.demo, "ci", "editor").await;
    let _worker = start_worker(&t);

    let id = create(&t, &k, &["/sample.li/flat1.jpg"]).await;
    let started = Instant::now();
    let r = call(&t, get(&format!("/api/v1/invalidations/{id}?wait=30"), Some(&k))).await;
    let elapsed = started.elapsed();
    let body = r.expect(200);
    assert_eq!(body["invalidation"]["status"], "DONE", "{body:#}");
    assert!(elapsed < Duration::from_secs(10), "waited {elapsed:?} of 30 s");
    assert_rfc3339_utc(&body["invalidation"]["finished_at"]);

    let history: Vec<&str> =
        body["history"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(history, ["RECEIVED", "PREPARING", "FLUSHINGCLOUDIMAGESERVER", "FLUSHINGCDNSERVERS", "DONE"]);
    let targets = body["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0]["name"], "edge-1");
    assert_eq!(targets[0]["kind"], "edge");
    assert_eq!(targets[0]["state"], "ok");
    assert_eq!(targets[0]["attempts"], 1);
    assert_eq!(recorder.count(), 1);

    let r = call(&t, get(&format!("/invalidate/{id}"), Some(&k))).await;
    assert_eq!(r.expect(200)["invalidation"]["urls"]["invalidated"], json!(["/sample.li/flat1.jpg"]));
});

db_test!(wait_gives_up_after_its_timeout, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let id = create(&t, &k, &["/a.jpg"]).await;
    let started = Instant::now();
    let r = call(&t, get(&format!("/api/v1/invalidations/{id}?wait=1"), Some(&k))).await;
    let elapsed = started.elapsed();
    assert_eq!(r.expect(200)["invalidation"]["status"], "RECEIVED");
    assert!(elapsed >= Duration::from_secs(1) && elapsed < Duration::from_secs(5), "{elapsed:?}");

    // Already final: no waiting at all.
    finish(&t, &id, Status::Done).await;
    let started = Instant::now();
    let r = call(&t, get(&format!("/api/v1/invalidations/{id}?wait=60"), Some(&k))).await;
    assert_eq!(r.expect(200)["invalidation"]["status"], "DONE");
    assert!(started.elapsed() < Duration::from_secs(1));

    for bad in ["abc", "-1", "1.5"] {
        let r = call(&t, get(&format!("/api/v1/invalidations/{id}?wait={bad}"), Some(&k))).await;
        assert_eq!(r.expect_error(400, "invalid_input")["details"][0]["field"], "wait");
    }
});

db_test!(retry_is_409_unless_errored_and_reruns_failed_targets, |t: TestApp| async move {
    let recorder = Recorder::start().await;
    recorder.respond_with(500);
    edge_target(&t, &recorder).await;
    let k = key(&t, &t.demo, "ci", "editor").await;
    let _worker = start_worker(&t);

    let id = create(&t, &k, &["/a.jpg"]).await;
    let r = call(&t, get(&format!("/api/v1/invalidations/{id}?wait=30"), Some(&k))).await;
    let body = r.expect(200);
    assert_eq!(body["invalidation"]["status"], "ERROR", "{body:#}");
    assert!(body["invalidation"]["error"].as_str().unwrap().contains("edge-1"));
    assert_eq!(body["targets"][0]["state"], "error");
    let r = call(&t, get(&format!("/invalidate/{id}"), Some(&k))).await;
    assert_eq!(r.expect(200)["invalidation"]["urls"]["failed"], json!(["/a.jpg"]));

    recorder.respond_with(200);
    let retry = || post(&format!("/api/v1/invalidations/{id}/retry"), Some(&k), &json!({}));
    let r = call(&t, retry()).await;
    let inv = &r.expect(200)["invalidation"];
    assert_eq!(inv["id"], id.as_str());
    assert_eq!(inv["attempt"], 2);
    let r = call(&t, get(&format!("/api/v1/invalidations/{id}?wait=30"), Some(&k))).await;
    assert_eq!(r.expect(200)["invalidation"]["status"], "DONE", "{:#}", r.body);

    let r = call(&t, retry()).await;
    let msg = r.expect_error(409, "conflict")["message"].as_str().unwrap();
    assert!(msg.contains("DONE"), "{msg}");
    let absent = "/api/v1/invalidations/0193a5b2-7c1d-7e4f-9a2b-3c4d5e6f7a8b/retry";
    call(&t, post(absent, Some(&k), &json!({}))).await.expect_error(404, "not_found");
    call(&t, post("/api/v1/invalidations/nope/retry", Some(&k), &json!({}))).await.expect_error(400, "invalid_input");
});

// ---- rate limit and routing ------------------------------------------------

macro_rules! db_test_with_config {
    ($name:ident, $tweak:expr, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = TestApp::with_config(Db::Sqlite, $tweak).await.unwrap();
                ($body)(t).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(t) = TestApp::with_config(Db::Postgres, $tweak).await else {
                    eprintln!("TEST_DATABASE_URL not set: PostgreSQL half skipped");
                    return;
                };
                ($body)(t).await;
            }
        }
    };
}

db_test_with_config!(
    rate_limit_is_per_key_with_retry_after,
    |c: &mut server::Config| c.api.requests_per_minute = 3,
    |t: TestApp| async move {
        let k = key(&t, &t.demo, "ci", "editor").await;
        let other = key(&t, &t.demo, "other", "support").await;
        for _ in 0..3 {
            call(&t, get("/api/v1/invalidations", Some(&k))).await.expect(200);
        }
        for req in [get("/api/v1/invalidations", Some(&k)), post("/invalidate", Some(&k), &original(&["/a.jpg"]))] {
            let r = call(&t, req).await;
            r.expect_error(429, "rate_limited");
            let secs: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
            assert!((1..=20).contains(&secs), "{secs}");
        }
        assert!(t.store.list_invalidations(t.demo.id, &Default::default()).await.unwrap().is_empty());
        call(&t, get("/api/v1/invalidations", Some(&other))).await.expect(200);
        call(&t, get("/api/v1/openapi.json", None)).await.expect(200);
    }
);

db_test!(unknown_routes_and_methods_answer_json, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    call(&t, get("/api/v1/nothing-here", Some(&k))).await.expect_error(404, "not_found");
    call(&t, get("/api/v1", None)).await.expect_error(404, "not_found");
    let r = call(&t, request("DELETE", "/api/v1/invalidations", Some(&k)).body(Body::empty()).unwrap()).await;
    r.expect_error(405, "method_not_allowed");
    let r = call(&t, request("PUT", "/invalidate", Some(&k)).body(Body::empty()).unwrap()).await;
    r.expect_error(405, "method_not_allowed");
});
