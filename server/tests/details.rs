//! The details page answers "what failed, where, why, what to do": a failed
//! target with its name, kind, HTTP status, attempts, time and next step, and
//! a plain-text summary for support. Both databases, with a real worker.

mod common;

use std::time::{Duration, Instant};

use common::recorder::Recorder;
use common::*;
use imgflush::backend::invalidations::{PathsInput, Submission};
use imgflush::backend::now_ms;
use imgflush::backend::store::NewTarget;
use imgflush::backend::worker::WorkerConfig;
use imgflush::domain::{InvalidationId, Role, Scope, TargetKind};
use tokio_util::sync::CancellationToken;

pub fn fast_worker() -> WorkerConfig {
    WorkerConfig {
        id: "details".into(),
        lease: Duration::from_secs(2),
        poll: Duration::from_millis(100),
        target_timeout: Duration::from_secs(5),
        max_attempts: 2,
        backoff: Duration::from_millis(10),
        ..Default::default()
    }
}

async fn settle(t: &TestApp, id: InvalidationId) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !t.store.invalidation(t.demo.id, id).await.unwrap().status.is_final() {
        assert!(Instant::now() < deadline, "{id} never finished");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

db_test!(a_failed_target_is_named_with_its_status_and_next_step, |t: TestApp| async move {
    let node = Recorder::start().await;
    node.respond_with(401);
    let new = NewTarget {
        kind: TargetKind::Varnish,
        name: "varnish-fra-1".into(),
        url: node.url("/"),
        secret: Some("wrong".into()),
        settings: Default::default(),
        credentials: None,
    };
    t.store.add_target(t.demo.id, &new, now_ms()).await.unwrap();
    let editor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let cancel = CancellationToken::new();
    let worker = tokio::spawn(t.app.worker(fast_worker()).run(cancel.clone()));
    let sub = Submission {
        scope: Scope::Original,
        paths: PathsInput::List(vec!["/a.jpg".into()]),
        max_paths: 15,
        field: "urls",
        confirmed: false,
        not_before_ms: None,
        idempotency_key: None,
    };
    let inv = t.app.services.invalidations.submit(&editor, sub).await.unwrap().invalidation;
    settle(&t, inv.id).await;
    cancel.cancel();
    worker.await.unwrap();

    let cookie = t.login("editor@example.com").await;
    let id = inv.id.to_string();
    let detail =
        body_json(t.server_fn(&cookie, "invalidation_detail", &[("project", "demo"), ("id", &id)]).await).await;
    let target = &detail["targets"][0];
    assert_eq!(target["name"], "varnish-fra-1");
    assert_eq!(target["kind"], "varnish");
    assert_eq!(target["attempts"], 2);
    assert!(target["detail"].as_str().unwrap().starts_with("HTTP 401"), "{target}");
    let next = target["next_step"].as_str().unwrap();
    assert!(next.contains("refused the secret") && next.contains("Settings"), "{next}");

    let page = body_text(t.get(&format!("/p/demo/invalidation/{id}"), Some(&cookie)).await).await;
    assert!(page.contains("refused the secret"), "the page shows the next step");
    assert!(page.contains(&format!("/p/demo/invalidation/{id}")), "a permalink");
    assert!(page.contains("Copy for support"));
    assert!(page.contains("Failed target: varnish-fra-1 (Varnish), error, 2 calls"), "the support summary");
    assert!(!page.contains("wrong"), "no secret in the page");
});
