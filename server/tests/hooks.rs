//! Notification hooks: a signed call when an invalidation ends in an error
//! (or on every final status), exactly once however many notifiers run; the
//! Test button on hooks and targets (admins only). Both databases.

mod common;

use std::time::{Duration, Instant};

use common::recorder::Recorder;
use common::*;
use imgflush::backend::invalidations::Submission;
use imgflush::backend::network::NetworkPolicy;
use imgflush::backend::notify::run_notifier;
use imgflush::backend::now_ms;
use imgflush::backend::purge::webhook_signature;
use imgflush::backend::store::{NewHook, NewTarget};
use imgflush::backend::worker::WorkerConfig;
use imgflush::domain::{InstanceRole, Role, TargetKind};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

fn worker() -> WorkerConfig {
    WorkerConfig {
        id: "hooks".into(),
        lease: Duration::from_secs(2),
        poll: Duration::from_millis(100),
        target_timeout: Duration::from_secs(5),
        max_attempts: 1,
        backoff: Duration::from_millis(10),
        ..Default::default()
    }
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn hook(name: &str, url: String, every_final: bool) -> NewHook {
    NewHook { name: name.into(), url, secret: Some("hook-secret".into()), every_final }
}

db_test!(hooks_hear_of_errors_once_and_of_every_final_status_when_asked, |t: TestApp| async move {
    let node = Recorder::start().await;
    let errors_only = Recorder::start().await;
    let every = Recorder::start().await;
    let target = NewTarget {
        kind: TargetKind::Varnish,
        name: "varnish-1".into(),
        url: node.url("/"),
        secret: None,
        settings: Default::default(),
        credentials: None,
    };
    t.store.add_target(t.demo.id, &target, now_ms()).await.unwrap();
    t.store.add_hook(t.demo.id, &hook("errors", errors_only.url("/e"), false), now_ms()).await.unwrap();
    t.store.add_hook(t.demo.id, &hook("ci", every.url("/ci"), true), now_ms()).await.unwrap();
    let editor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let stop = CancellationToken::new();
    let w = tokio::spawn(t.app.worker(worker()).run(stop.clone()));
    // Two notifiers, as with two console instances: each call is made once.
    for _ in 0..2 {
        tokio::spawn(run_notifier(t.store.clone(), NetworkPolicy::loopback(), stop.clone()));
    }
    let submit = |p: &str| Submission::from_api("original", Some(vec![p.to_owned()]), None).unwrap();

    node.respond_with(401);
    let failed = t.app.services.invalidations.submit(&editor, submit("/a.jpg")).await.unwrap().invalidation;
    wait_for("the error hook", || errors_only.count() == 1 && every.count() == 1).await;
    let req = &errors_only.requests()[0];
    let body = req.json();
    assert_eq!(body["event"], "invalidation.error");
    assert_eq!(body["invalidation_id"], failed.id.to_string());
    assert_eq!((body["status"].clone(), body["project"].clone()), (json!("ERROR_CDN_NODE"), json!("demo")));
    assert!(body["error"].as_str().unwrap().contains("varnish-1 (HTTP 401"), "{body}");
    let ts: i64 = req.header("x-imgflush-timestamp").unwrap().parse().unwrap();
    assert_eq!(req.header("x-imgflush-signature").unwrap(), webhook_signature("hook-secret", ts, req.body.as_bytes()));

    node.respond_with(200);
    t.app.services.invalidations.submit(&editor, submit("/b.jpg")).await.unwrap();
    wait_for("the every-final hook", || every.count() == 2).await;
    assert_eq!(every.requests()[1].json()["event"], "invalidation.final");
    assert_eq!(every.requests()[1].json()["status"], "DONE");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(errors_only.count(), 1, "a DONE does not call an errors-only hook");
    assert_eq!(every.count(), 2, "never twice");
    let listed = t.store.list_hooks(t.demo.id).await.unwrap();
    assert!(listed.iter().all(|h| h.last_result.as_deref() == Some("HTTP 200 OK")), "{listed:?}");
    stop.cancel();
    w.await.unwrap();
});

db_test!(role_matrix_of_hooks_and_test_buttons, |t: TestApp| async move {
    let node = Recorder::start().await;
    let receiver = Recorder::start().await;
    let target = NewTarget {
        kind: TargetKind::Edge,
        name: "edge-1".into(),
        url: node.url("/purge"),
        secret: None,
        settings: Default::default(),
        credentials: None,
    };
    let target_id = t.store.add_target(t.demo.id, &target, now_ms()).await.unwrap().id.to_string();
    let other = t.project("other").await;
    let cases = [
        ("owner@example.com", Role::Support, Some(InstanceRole::Owner), "allowed"),
        ("staff@example.com", Role::Support, Some(InstanceRole::Staff), "reads"),
        ("admin@example.com", Role::Admin, None, "allowed"),
        ("editor@example.com", Role::Editor, None, "Forbidden"),
        ("support@example.com", Role::Support, None, "Forbidden"),
        ("outsider@example.com", Role::Admin, None, "NotFound"),
    ];
    for (i, (email, role, instance, expect)) in cases.into_iter().enumerate() {
        let project = if expect == "NotFound" { &other } else { &t.demo };
        let id = t.user(email, role, project).await;
        t.store.set_instance_role(id, instance).await.unwrap();
        let cookie = t.login(email).await;
        let name = format!("hook-{i}");
        let url = receiver.url("/hook");
        let add = [("project", "demo"), ("name", name.as_str()), ("url", url.as_str()), ("secret", "s")];
        let added = t.server_fn_json(&cookie, "add_hook", &add).await;
        let list = t.server_fn_json(&cookie, "list_hooks", &[("project", "demo")]).await;
        let tested = t.server_fn_json(&cookie, "test_target", &[("project", "demo"), ("target_id", &target_id)]).await;
        match expect {
            "allowed" => {
                assert_eq!(added, Value::Null, "{email}");
                let hook_id = list["hooks"].as_array().unwrap().iter().find(|h| h["name"] == name.as_str()).unwrap()
                    ["id"]
                    .to_string();
                let answer =
                    t.server_fn_json(&cookie, "test_hook", &[("project", "demo"), ("hook_id", &hook_id)]).await;
                assert_eq!(answer, json!("HTTP 200 OK"), "{email}");
                assert!(tested["answer"].as_str().unwrap().starts_with("ok: "), "{email}: {tested}");
                assert_eq!(tested["target_id"].to_string(), target_id, "the answer names its target");
                let removed =
                    t.server_fn_json(&cookie, "remove_hook", &[("project", "demo"), ("hook_id", &hook_id)]).await;
                assert_eq!(removed, Value::Null);
            }
            "reads" => {
                assert_eq!(added, json!("Forbidden"), "{email}");
                assert!(list["hooks"].is_array(), "{email}: {list}");
                assert_eq!(tested, json!("Forbidden"), "{email}");
            }
            other => {
                for r in [&added, &list, &tested] {
                    assert_eq!(r, &json!(other), "{email}");
                }
            }
        }
    }
    // What the tests sent: a harmless purge of a path no image has, a signed test event.
    let purge = node.requests();
    assert_eq!(purge.len(), 2);
    assert_eq!(purge[0].json()["paths"], json!(["/.imgflush-test"]));
    let event = &receiver.requests()[0];
    assert_eq!(event.json()["event"], "test");
    let ts: i64 = event.header("x-imgflush-timestamp").unwrap().parse().unwrap();
    assert_eq!(event.header("x-imgflush-signature").unwrap(), webhook_signature("s", ts, event.body.as_bytes()));
    let audit = t.store.list_audit(&Default::default()).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "target.tested") && audit.iter().any(|a| a.action == "hook.added"));
});

db_test!(a_hook_needs_an_https_url_and_a_name, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let cookie = t.login("admin@example.com").await;
    let bad = t
        .server_fn_json(
            &cookie,
            "add_hook",
            &[("project", "demo"), ("name", ""), ("url", "http://ci.example.com/hook")],
        )
        .await;
    let fields: Vec<&str> = bad["Invalid"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "url"], "{bad}");
    let ok = [("project", "demo"), ("name", "ci"), ("url", "https://ci.example.com/hook")];
    assert_eq!(t.server_fn_json(&cookie, "add_hook", &ok).await, Value::Null);
    let twice = t.server_fn_json(&cookie, "add_hook", &ok).await;
    assert!(twice["Conflict"].as_str().unwrap().contains("hook with this name"), "{twice}");
    let missing = t.server_fn_json(&cookie, "test_hook", &[("project", "demo"), ("hook_id", "999")]).await;
    assert_eq!(missing, json!("NotFound"));
});

db_test!(a_job_of_a_project_without_hooks_ends_notified, |t: TestApp| async move {
    // Without a hook there is nothing for the notifier to call: the worker's
    // final write marks the row notified. With one, the notifier still gets it.
    let other = t.project("other").await;
    let every = Recorder::start().await;
    t.store.add_hook(other.id, &hook("ci", every.url("/ci"), true), now_ms()).await.unwrap();
    let submit = |p: &str| Submission::from_api("original", Some(vec![p.to_owned()]), None).unwrap();
    let editor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let other_editor = t.actor("editor@other.example", Role::Editor, &other).await;
    let quiet = t.app.services.invalidations.submit(&editor, submit("/a.jpg")).await.unwrap().invalidation;
    let heard = t.app.services.invalidations.submit(&other_editor, submit("/b.jpg")).await.unwrap().invalidation;
    let w = t.app.worker(worker());
    let mut ran = 0;
    while ran < 2 {
        ran += w.try_execute_batch().await.unwrap();
    }
    let unnotified: Vec<_> = t.store.unnotified(10).await.unwrap().into_iter().map(|i| i.id).collect();
    assert_eq!(unnotified, [heard.id], "only the job of the project with a hook awaits the notifier");
    assert!(!unnotified.contains(&quiet.id));
    let stop = CancellationToken::new();
    tokio::spawn(run_notifier(t.store.clone(), NetworkPolicy::loopback(), stop.clone()));
    wait_for("the hook call", || every.count() == 1).await;
    assert_eq!(every.requests()[0].json()["invalidation_id"], heard.id.to_string());
    stop.cancel();
});
