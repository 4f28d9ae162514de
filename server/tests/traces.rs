//! OpenTelemetry traces as an operator turns them on (`telemetry.otlp_endpoint`):
//! the real binary sends OTLP/HTTP JSON to a collector this test runs in
//! process, and one trace holds the API request (continuing the caller's
//! `traceparent`), the job the worker ran for it, and its purge call, on
//! both databases (the trace context crosses the queue through the store).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::routing::post;
use common::binary::{api_key, env_for, ok, purge_sample_until_done, Console};
use common::{Db, TestDb};
use serde_json::Value;

/// Every span the collector received: (trace id, span id, parent span id, name).
type Spans = Arc<Mutex<Vec<(String, String, String, String)>>>;

async fn collector() -> (String, Spans) {
    let spans: Spans = Arc::default();
    let kept = spans.clone();
    let app = axum::Router::new()
        .route(
            "/v1/traces",
            post(move |body: axum::body::Bytes| {
                let kept = kept.clone();
                async move {
                    let doc: Value = serde_json::from_slice(&body).expect("OTLP JSON");
                    let all = doc["resourceSpans"].as_array().into_iter().flatten();
                    let all = all.flat_map(|r| r["scopeSpans"].as_array().into_iter().flatten());
                    for span in all.flat_map(|s| s["spans"].as_array().into_iter().flatten()) {
                        let text = |k: &str| span[k].as_str().unwrap_or_default().to_ascii_lowercase();
                        let name = span["name"].as_str().unwrap_or_default().to_owned();
                        kept.lock().unwrap().push((text("traceId"), text("spanId"), text("parentSpanId"), name));
                    }
                    "{}"
                }
            }),
        )
        // The purge target: a webhook that accepts every purge.
        .route("/hook", post(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, spans)
}

async fn one_trace_from_request_to_purge_call(db: Db) {
    let Some(database) = TestDb::create(db).await else {
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL half skipped");
        return;
    };
    let (collector, spans) = collector().await;
    let dir = tempfile::tempdir().unwrap();
    let mut env = env_for(&database.url, dir.path());
    env.push(("APP__TELEMETRY__OTLP_ENDPOINT".into(), collector.clone()));
    let console = Console::start(&env, dir.path()).await;
    // (ADMIN_PASSWORD chose the password: start-up does not claim to show it once.)
    assert!(console.log().contains("First start") && !console.log().contains("printed only once"), "{}", console.log());
    let secret = api_key("demo", "traced", &env, dir.path());
    let hook = format!("{collector}/hook");
    ok(
        &["target", "add", "--project", "demo", "--kind", "webhook", "--name", "hook", "--url", &hook],
        &env,
        dir.path(),
    );

    // The caller's own trace: the console continues it.
    let (trace, caller) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    purge_sample_until_done(&console.url(""), &secret, Some(&format!("00-{trace}-{caller}-01"))).await;
    // Stopping sends what is still buffered.
    console.stop();

    let deadline = Instant::now() + Duration::from_secs(20);
    let traced = loop {
        let traced: Vec<_> = spans.lock().unwrap().iter().filter(|s| s.0 == trace).cloned().collect();
        if traced.iter().any(|s| s.3 == "purge call") || Instant::now() > deadline {
            break traced;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let named = |name: &str| {
        traced.iter().find(|s| s.3 == name).unwrap_or_else(|| panic!("no {name:?} span in trace {trace}: {traced:#?}"))
    };
    let request = named("POST /api/v1/invalidations");
    assert_eq!(request.2, caller, "the request continues the caller's span");
    let job = named("invalidation");
    let call = named("purge call");
    // The job hangs under a span of the request (the submission), and the
    // purge call under the job, through the worker's own spans.
    let parent_of = |s: &(String, String, String, String)| traced.iter().find(|p| p.1 == s.2).cloned();
    let mut up = parent_of(job).unwrap_or_else(|| panic!("the job's parent is not in the trace: {traced:#?}"));
    while up.1 != request.1 {
        up = parent_of(&up).unwrap_or_else(|| panic!("the job does not lead back to the request: {traced:#?}"));
    }
    let mut up = parent_of(call).unwrap_or_else(|| panic!("the call's parent is not in the trace: {traced:#?}"));
    while up.1 != job.1 {
        up = parent_of(&up).unwrap_or_else(|| panic!("the purge call is not under the job: {traced:#?}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    common::within_limit(one_trace_from_request_to_purge_call(Db::Sqlite)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    common::within_limit(one_trace_from_request_to_purge_call(Db::Postgres)).await;
}
