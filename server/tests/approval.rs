//! The two-person rule for scope All: a submission waits as
//! AWAITING_APPROVAL (the anchor's API says RECEIVED) until another admin
//! approves (it runs) or rejects it (CANCELLED), or its window passes
//! (CANCELLED); the submitter, editors and API keys cannot decide.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::recorder::Recorder;
use common::{body_json, Db, TestApp};
use imgflush::backend::invalidations::Submission;
use imgflush::backend::now_ms;
use imgflush::backend::store::{EdgeSettings, NewHook, ProjectSettingsUpdate};
use imgflush::backend::worker::WorkerConfig;
use imgflush::backend::{Actor, ServiceError};
use imgflush::domain::{Role, Status};

async fn require_approval(t: &TestApp) {
    let update = ProjectSettingsUpdate {
        name: t.demo.name.clone(),
        origin_hosts: t.demo.origin_hosts.clone(),
        max_age_secs: t.demo.max_age_secs,
        s_maxage_secs: t.demo.s_maxage_secs,
        edge: EdgeSettings { approval_for_all: true, approval_hours: Some(2), ..t.demo.edge.clone() },
    };
    t.store.update_project_settings(t.demo.id, &update).await.unwrap();
}

async fn actor(t: &TestApp, email: &str, role: Role) -> Actor {
    let project = t.store.project_by_token("demo").await.unwrap();
    t.actor(email, role, &project).await
}

async fn wait_for(done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "the hook was never called");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn all() -> Submission {
    Submission::from_api("all", None, None).unwrap()
}

async fn run(db: Db) {
    let Some(t) = TestApp::try_new(db).await else {
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL half skipped");
        return;
    };
    require_approval(&t).await;
    // A notification hook: a second admin learns a request waits for them.
    let hook = Recorder::start().await;
    let new_hook = NewHook { name: "chat".into(), url: hook.url("/chat"), secret: None, every_final: false };
    t.store.add_hook(t.demo.id, &new_hook, now_ms()).await.unwrap();
    let (ann, bea) = (actor(&t, "ann@example.com", Role::Admin).await, actor(&t, "bea@example.com", Role::Admin).await);
    let editor = actor(&t, "ed@example.com", Role::Editor).await;
    let services = &t.app.services.invalidations;
    let worker = t.app.worker(WorkerConfig { id: "approval".into(), ..Default::default() });

    // Stored at once, waiting; no worker takes it.
    let inv = services.submit(&ann, all()).await.unwrap().invalidation;
    assert_eq!(inv.status, Status::AwaitingApproval);
    wait_for(|| hook.count() == 1).await;
    let notice = hook.requests()[0].json();
    assert_eq!(notice["event"], "invalidation.awaiting_approval");
    assert_eq!(
        (notice["invalidation_id"].as_str(), notice["scope"].as_str()),
        (Some(inv.id.to_string().as_str()), Some("all"))
    );
    assert!(worker.try_execute_task().await.unwrap().is_none(), "claimed before approval");
    // Paths are not held: only scope All waits.
    let path = Submission::from_api("original", Some(vec!["/a.jpg".into()]), None).unwrap();
    assert_eq!(services.submit(&ann, path).await.unwrap().invalidation.status, Status::Received);
    while worker.try_execute_task().await.unwrap().is_some() {}

    // The anchor's API has no approval step: it says RECEIVED; /api/v1 tells the truth.
    let key = t.app.services.keys.create(&Actor::operator(t.demo.clone()), "ci", "editor").await.unwrap().1;
    for (uri, want) in [
        (format!("/invalidate/{}", inv.id), "RECEIVED"),
        (format!("/api/v1/invalidations/{}", inv.id), "AWAITING_APPROVAL"),
    ] {
        let req =
            Request::get(&uri).header("host", "localhost").header("x-client-key", &key).body(Body::empty()).unwrap();
        let body = body_json(t.send(req).await).await;
        assert_eq!(body["invalidation"]["status"], want, "{uri}: {body}");
    }

    // Neither the submitter nor an editor may decide.
    let own = services.decide(&ann, inv.id, true).await;
    assert!(matches!(&own, Err(ServiceError::Conflict(m)) if m.contains("another admin")), "{:?}", own.err());
    assert!(matches!(services.decide(&editor, inv.id, true).await, Err(ServiceError::Forbidden(_))));

    // Another admin approves: it runs.
    let approved = services.decide(&bea, inv.id, true).await.unwrap();
    assert_eq!(approved.status, Status::Received);
    wait_for(|| hook.count() == 2).await;
    assert_eq!(hook.requests()[1].json()["event"], "invalidation.approved");
    assert_eq!(worker.try_execute_task().await.unwrap().expect("the approved job").id, inv.id);
    let detail = services.detail(&bea, inv.id).await.unwrap();
    assert_eq!(detail.invalidation.status, Status::Done);
    let notes: Vec<String> = detail.events.iter().filter_map(|e| e.note.clone()).collect();
    assert!(notes.iter().any(|n| n == "approved by bea@example.com"), "{notes:?}");
    let again = services.decide(&bea, inv.id, true).await;
    assert!(matches!(again, Err(ServiceError::Conflict(_))), "decided twice");

    // Rejected: it ends CANCELLED, nothing purged.
    let second = services.submit(&bea, all()).await.unwrap().invalidation;
    let rejected = services.decide(&ann, second.id, false).await.unwrap();
    assert_eq!(rejected.status, Status::Cancelled);
    wait_for(|| hook.requests().iter().any(|r| r.json()["event"] == "invalidation.rejected")).await;
    assert!(rejected.finished.is_some());
    assert!(worker.try_execute_task().await.unwrap().is_none());

    // Not approved within the window (2 h here): CANCELLED by the sweep.
    let third = services.submit(&bea, all()).await.unwrap().invalidation;
    assert_eq!(services.expire_approvals(now_ms()).await.unwrap(), 0, "still within its window");
    assert_eq!(services.expire_approvals(now_ms() + 2 * 3_600_000 + 1_000).await.unwrap(), 1);
    let detail = services.detail(&bea, third.id).await.unwrap();
    assert_eq!(detail.invalidation.status, Status::Cancelled);
    assert!(detail.events.last().unwrap().note.as_deref().unwrap().contains("not approved in time"));

    // The submitter may withdraw a request still waiting.
    let fourth = services.submit(&bea, all()).await.unwrap().invalidation;
    assert_eq!(services.cancel(&bea, fourth.id).await.unwrap().status, Status::Cancelled);

    // Every decision is in the audit trail.
    let trail = t.app.services.audit.operator_log(&Default::default()).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"invalidation.approved") && actions.contains(&"invalidation.rejected"), "{actions:?}");
}

#[tokio::test]
async fn two_admins_for_scope_all_sqlite() {
    run(Db::Sqlite).await;
}

#[tokio::test]
async fn two_admins_for_scope_all_postgres() {
    run(Db::Postgres).await;
}
