//! Hardening: purge targets only on allowed networks (checked at add time and
//! at connect time), bounded target answers, what each role may read of a
//! target, signed webhook timestamps, and offboarding (sessions end on a
//! password change or removal, memberships can be removed). Both databases.

mod common;

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use common::recorder::Recorder;
use common::*;
use imgflush::backend::invalidations::{PathsInput, Submission};
use imgflush::backend::network::NetworkPolicy;
use imgflush::backend::purge::webhook_signature;
use imgflush::backend::store::{Invalidation, NewTarget};
use imgflush::backend::targets::TargetInput;
use imgflush::backend::worker::{Worker, WorkerConfig};
use imgflush::backend::{now_ms, Actor, ServiceError};
use imgflush::domain::{InvalidationId, Role, Scope, Status, TargetKind};
use tokio_util::sync::CancellationToken;

fn fast() -> WorkerConfig {
    WorkerConfig {
        id: "hardening".into(),
        lease: Duration::from_secs(2),
        poll: Duration::from_millis(100),
        target_timeout: Duration::from_secs(5),
        max_attempts: 1,
        backoff: Duration::from_millis(20),
        ..Default::default()
    }
}

/// A running worker, stopped when dropped or by [`Running::stop`].
struct Running(CancellationToken, Option<tokio::task::JoinHandle<()>>);

impl Running {
    async fn stop(mut self) {
        self.0.cancel();
        self.1.take().unwrap().await.unwrap();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

fn run(worker: Worker) -> Running {
    let cancel = CancellationToken::new();
    let handle = tokio::spawn(worker.run(cancel.clone()));
    Running(cancel, Some(handle))
}

async fn add(t: &TestApp, kind: TargetKind, name: &str, url: String, secret: Option<&str>) -> i64 {
    let new = NewTarget {
        kind,
        name: name.into(),
        url,
        secret: secret.map(Into::into),
        settings: Default::default(),
        credentials: None,
    };
    t.store.add_target(t.demo.id, &new, now_ms()).await.unwrap().id
}

async fn submit(t: &TestApp, actor: &Actor) -> Invalidation {
    let sub = Submission {
        scope: Scope::Original,
        paths: PathsInput::List(vec!["/a.jpg".into()]),
        max_paths: 15,
        field: "urls",
        confirmed: false,
        not_before_ms: None,
        idempotency_key: None,
    };
    t.app.services.invalidations.submit(actor, sub).await.unwrap().invalidation
}

async fn settle(t: &TestApp, id: InvalidationId) -> Invalidation {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let inv = t.store.invalidation(t.demo.id, id).await.unwrap();
        if inv.status.is_final() {
            return inv;
        }
        assert!(Instant::now() < deadline, "{id} still {:?}", inv.status);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn target_detail(t: &TestApp, actor: &Actor, id: InvalidationId, name: &str) -> String {
    let detail = t.app.services.invalidations.detail(actor, id).await.unwrap();
    let result = detail.targets.into_iter().find(|r| r.name == name).expect("a result for the target");
    result.detail.unwrap_or_default()
}

// --- SSRF ------------------------------------------------------------------

db_test!(a_target_resolving_to_a_refused_address_is_never_contacted, |t: TestApp| async move {
    let recorder = Recorder::start().await;
    let port = recorder.addr.port();
    let admin = t.actor("admin@example.com", Role::Admin, &t.demo).await;

    // An operator who allows public addresses only: `localhost` resolves to
    // loopback, so the connection is refused at connect time.
    let public_only = run(t.app.worker(fast()).with_network(NetworkPolicy::public_only()));
    let edge = add(&t, TargetKind::Edge, "edge", format!("http://localhost:{port}/purge"), None).await;
    let inv = submit(&t, &admin).await;
    assert_eq!(settle(&t, inv.id).await.status, Status::Error);
    let why = target_detail(&t, &admin, inv.id, "edge").await;
    assert!(why.starts_with("refused") && why.contains("loopback"), "{why}");
    assert_eq!(recorder.count(), 0, "no request reached the refused address");

    // Address literals in any spelling are refused before anything is sent.
    t.store.remove_target(t.demo.id, edge).await.unwrap();
    add(&t, TargetKind::Webhook, "hook", format!("http://2130706433:{port}/hook"), None).await;
    add(&t, TargetKind::Varnish, "ban", format!("http://[::ffff:127.0.0.1]:{port}/"), None).await;
    let inv = submit(&t, &admin).await;
    assert_eq!(settle(&t, inv.id).await.status, Status::ErrorCdnNode);
    for name in ["hook", "ban"] {
        let why = target_detail(&t, &admin, inv.id, name).await;
        assert!(why.starts_with("refused") && why.contains("127.0.0.1"), "{name}: {why}");
    }
    assert_eq!(recorder.count(), 0);
    public_only.stop().await;

    // Where the operator allows loopback (the tests' configuration), the same
    // name and literals are purged.
    add(&t, TargetKind::Edge, "edge", format!("http://localhost:{port}/purge"), None).await;
    let _allowed = run(t.app.worker(WorkerConfig { id: "allowed".into(), ..fast() }));
    let inv = submit(&t, &admin).await;
    let done = settle(&t, inv.id).await;
    assert_eq!(done.status, Status::Done, "{:?}", done.error);
    assert_eq!(recorder.count(), 3);
});

db_test!(targets_outside_the_allowed_networks_are_refused_when_added, |t: TestApp| async move {
    // The Settings page (server function), with the tests' loopback allowance.
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let cookie = t.login("admin@example.com").await;
    for url in ["http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::ffff:a9fe:a9fe]/"] {
        let resp = t
            .server_fn(&cookie, "add_target", &[("project", "demo"), ("kind", "webhook"), ("name", "h"), ("url", url)])
            .await;
        let body = body_json(resp).await;
        let errors = body["Invalid"].as_array().unwrap_or_else(|| panic!("{url}: {body}"));
        assert_eq!(errors[0]["field"], "url", "{body}");
        assert!(errors[0]["message"].as_str().unwrap().contains("targets.allowed_networks"), "{body}");
    }
    let ok = t
        .server_fn(
            &cookie,
            "add_target",
            &[("project", "demo"), ("kind", "edge"), ("name", "local"), ("url", "http://127.0.0.1:8081/purge")],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);

    // The service the CLI calls, with the default (public only) policy.
    let services = t.app.services.clone().with_target_network(NetworkPolicy::public_only());
    let operator = Actor::operator(t.demo.clone());
    for url in ["http://2130706433/", "http://0x7f.0.0.1/", "http://0177.0.0.1/", "http://[::1]/", "http://100.64.0.1/"]
    {
        let input = TargetInput {
            kind: "edge".into(),
            name: "e2".into(),
            url: url.into(),
            secret: None,
            settings: Default::default(),
        };
        match services.targets.add(&operator, &input).await {
            Err(ServiceError::Invalid(errors)) => assert_eq!(errors[0].field, "url", "{url}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    let public = TargetInput {
        kind: "edge".into(),
        name: "e2".into(),
        url: "https://purge.example/".into(),
        secret: None,
        settings: Default::default(),
    };
    services.targets.add(&operator, &public).await.unwrap();
});

// --- bounded answers and webhook signatures --------------------------------

/// A target that answers `status` with a body that never ends.
async fn endless_target() -> std::net::SocketAddr {
    async fn endless(uri: axum::http::Uri) -> (StatusCode, Body) {
        let status = if uri.path() == "/fail" { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK };
        let chunks = futures::stream::repeat_with(|| Ok::<_, std::io::Error>(Bytes::from_static(&[b'x'; 1024])));
        (status, Body::from_stream(chunks))
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, Router::new().fallback(endless)).await.unwrap() });
    addr
}

db_test!(endless_target_answers_are_read_only_up_to_4_kb, |t: TestApp| async move {
    let addr = endless_target().await;
    add(&t, TargetKind::Edge, "edge", format!("http://{addr}/ok"), None).await;
    add(&t, TargetKind::Varnish, "cdn", format!("http://{addr}/fail"), None).await;
    let admin = t.actor("admin@example.com", Role::Admin, &t.demo).await;
    let _worker = run(t.app.worker(fast()));
    let started = Instant::now();
    let inv = submit(&t, &admin).await;
    assert_eq!(settle(&t, inv.id).await.status, Status::ErrorCdnNode);
    assert!(started.elapsed() < Duration::from_secs(4), "reading stopped long before the 5 s timeout");
    assert_eq!(target_detail(&t, &admin, inv.id, "edge").await, "purge accepted");
    let failed = target_detail(&t, &admin, inv.id, "cdn").await;
    assert!(failed.starts_with("HTTP 500") && failed.contains("xxxx") && failed.len() < 300, "{failed}");
});

db_test!(webhooks_sign_a_timestamp_with_the_body, |t: TestApp| async move {
    let hook = Recorder::start().await;
    add(&t, TargetKind::Webhook, "hook", hook.url("/hook"), Some("hook-secret")).await;
    let admin = t.actor("admin@example.com", Role::Admin, &t.demo).await;
    let _worker = run(t.app.worker(fast()));
    let inv = submit(&t, &admin).await;
    assert_eq!(settle(&t, inv.id).await.status, Status::Done);
    let req = &hook.requests()[0];
    let ts: i64 = req.header("x-imgflush-timestamp").expect("a timestamp").parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - ts).abs() < 60, "unix seconds: {ts}");
    let sig = req.header("x-imgflush-signature").unwrap();
    assert_eq!(sig, webhook_signature("hook-secret", ts, req.body.as_bytes()));
    assert_ne!(sig, webhook_signature("hook-secret", ts + 1, req.body.as_bytes()));
});

// --- what each role reads ---------------------------------------------------

db_test!(only_admins_read_target_answers_and_full_urls, |t: TestApp| async move {
    let edge = Recorder::start().await;
    edge.respond_with(503);
    add(&t, TargetKind::Edge, "edge", edge.url("/purge?token=T0KEN"), None).await;
    let editor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    t.user("support@example.com", Role::Support, &t.demo).await;
    let _worker = run(t.app.worker(fast()));
    let inv = submit(&t, &editor).await;
    let failed = settle(&t, inv.id).await;
    assert_eq!(failed.status, Status::Error);
    assert!(!failed.error.unwrap().contains("backend on fire"), "the job's error is read by every member");
    let id = inv.id.to_string();
    let host = format!("http://{}/", edge.addr);

    for (email, role) in [
        ("admin@example.com", Role::Admin),
        ("editor@example.com", Role::Editor),
        ("support@example.com", Role::Support),
    ] {
        let cookie = t.login(email).await;
        let detail =
            body_json(t.server_fn(&cookie, "invalidation_detail", &[("project", "demo"), ("id", &id)]).await).await;
        let shown = detail["targets"][0]["detail"].as_str().unwrap().to_owned();
        let settings = body_json(t.server_fn(&cookie, "project_settings", &[("project", "demo")]).await).await;
        let url = settings["targets"][0]["url"].as_str().unwrap().to_owned();
        if role == Role::Admin {
            assert!(shown.contains("backend on fire"), "{shown}");
            assert!(url.contains("T0KEN"), "{url}");
        } else {
            assert!(shown.starts_with("HTTP 503") && !shown.contains("backend on fire"), "{role:?}: {shown}");
            assert_eq!(url, host, "{role:?} sees the host only");
            assert!(!detail.to_string().contains("backend on fire") && !settings.to_string().contains("T0KEN"));
        }
    }

    // The API answers alike, by the key's role (keys are never admins).
    for role in ["editor", "support"] {
        let key = t.app.services.keys.create(&Actor::operator(t.demo.clone()), role, role).await.unwrap().1;
        let resp = t
            .send(
                Request::get(format!("/api/v1/invalidations/{id}"))
                    .header(header::HOST, "localhost")
                    .header("x-client-key", &key)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let body = body_json(resp).await;
        assert!(!body.to_string().contains("backend on fire"), "{role}: {body}");
        assert!(body["targets"][0]["detail"].as_str().unwrap().starts_with("HTTP 503"), "{role}: {body}");
    }
});

// --- offboarding ------------------------------------------------------------

db_test!(a_password_change_ends_every_session_of_that_user, |t: TestApp| async move {
    t.user("ann@example.com", Role::Editor, &t.demo).await;
    t.user("bob@example.com", Role::Editor, &t.demo).await;
    let ann_laptop = t.login("ann@example.com").await;
    let ann_phone = t.login("ann@example.com").await;
    let bob = t.login("bob@example.com").await;
    let ann = t.app.services.accounts.find("ann@example.com").await.unwrap().unwrap();
    t.app.services.accounts.set_password(&ann, "a new password".into()).await.unwrap();

    for cookie in [&ann_laptop, &ann_phone] {
        let page = t.get("/p/demo/invalidation", Some(cookie)).await;
        assert_eq!(page.status(), StatusCode::SEE_OTHER);
        assert!(location(&page).starts_with("/login"), "{}", location(&page));
        let me = t.server_fn(cookie, "me", &[]).await;
        assert_eq!(body_json(me).await, serde_json::json!("Unauthorized"));
    }
    assert_eq!(t.get("/p/demo/invalidation", Some(&bob)).await.status(), StatusCode::OK, "others stay signed in");
    let me = body_json(t.server_fn(&bob, "me", &[]).await).await;
    assert_eq!(me["email"], "bob@example.com");

    // Signing in with the new password works; sessions from then on stand.
    let resp = t.login_response("ann@example.com", "a new password").await;
    let fresh = session_cookie(&resp).expect("signed in");
    assert_eq!(t.get("/p/demo/invalidation", Some(&fresh)).await.status(), StatusCode::OK);
    assert_eq!(location(&t.login_response("ann@example.com", PASSWORD).await), "/login?error=invalid&next=/");
});

db_test!(removing_a_user_ends_their_sessions_and_memberships, |t: TestApp| async move {
    let other = t.project("other").await;
    t.user("ann@example.com", Role::Admin, &t.demo).await;
    t.user("ann@example.com", Role::Editor, &other).await;
    let cookie = t.login("ann@example.com").await;
    assert_eq!(t.get("/p/demo/invalidation", Some(&cookie)).await.status(), StatusCode::OK);

    let ann = t.app.services.accounts.find("ann@example.com").await.unwrap().unwrap();
    t.app.services.accounts.remove(&ann).await.unwrap();
    let page = t.get("/p/demo/invalidation", Some(&cookie)).await;
    assert!(location(&page).starts_with("/login"), "{}", location(&page));
    let list = t.server_fn(&cookie, "list_invalidations", &[("project", "other")]).await;
    assert_eq!(body_json(list).await, serde_json::json!("Unauthorized"));
    assert!(t.store.memberships_of(ann.id).await.unwrap().is_empty());
    assert!(t.app.services.accounts.find("ann@example.com").await.unwrap().is_none());
    assert_eq!(location(&t.login_response("ann@example.com", PASSWORD).await), "/login?error=invalid&next=/");
    assert!(matches!(t.app.services.accounts.remove(&ann).await, Err(ServiceError::NotFound)));
});

db_test!(removing_a_membership_ends_access_to_that_project_at_the_next_request, |t: TestApp| async move {
    let other = t.project("other").await;
    let ann_id = t.user("ann@example.com", Role::Editor, &t.demo).await;
    t.user("ann@example.com", Role::Editor, &other).await;
    let cookie = t.login("ann@example.com").await;
    let list = t.server_fn(&cookie, "list_invalidations", &[("project", "demo")]).await;
    assert_eq!(list.status(), StatusCode::OK);

    let operator = Actor::operator(t.demo.clone());
    t.app.services.projects.remove_member(&operator, ann_id).await.unwrap();
    let list = t.server_fn(&cookie, "list_invalidations", &[("project", "demo")]).await;
    assert_eq!(body_json(list).await, serde_json::json!("NotFound"));
    assert_eq!(t.get("/p/demo/invalidation", Some(&cookie)).await.status(), StatusCode::NOT_FOUND);
    // Still signed in, and still a member of the other project.
    let list = t.server_fn(&cookie, "list_invalidations", &[("project", "other")]).await;
    assert_eq!(list.status(), StatusCode::OK);
    assert!(matches!(t.app.services.projects.remove_member(&operator, ann_id).await, Err(ServiceError::NotFound)));
    // Only admins (and the operator) remove members.
    let editor = t.actor("ed@example.com", Role::Editor, &other).await;
    assert!(matches!(t.app.services.projects.remove_member(&editor, ann_id).await, Err(ServiceError::Forbidden(_))));
});
