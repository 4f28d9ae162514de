//! `GET /metrics`: the queue read from the database, the API's accepted
//! count and the worker's purge times change as a job runs; strangers are
//! refused (loopback only without `metrics.token`, the bearer token with it).
//! The worker's setup reads: once per project and change to its setup. The
//! store's batch sizes, per kind of batch and database.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};

use common::recorder::Recorder;
use common::*;
use imgflush::backend::invalidations::Submission;
use imgflush::backend::now_ms;
use imgflush::backend::store::{NewHook, NewTarget, ProjectSettingsUpdate};
use imgflush::backend::worker::WorkerConfig;
use imgflush::backend::Actor;
use imgflush::domain::{Role, TargetKind};
use server::config::Secret;

const TOKEN: &str = "metrics-token-for-the-tests";

fn scrape(peer: &str, bearer: Option<&str>, forwarded: bool) -> Request<Body> {
    let peer: SocketAddr = peer.parse().unwrap();
    let mut req = Request::get("/metrics").header(header::HOST, "localhost").extension(ConnectInfo(peer));
    if let Some(token) = bearer {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if forwarded {
        req = req.header("x-forwarded-for", "198.51.100.4");
    }
    req.body(Body::empty()).unwrap()
}

async fn figures(t: &TestApp) -> String {
    t.metrics_text().await
}

fn has(text: &str, line: &str) -> bool {
    text.lines().any(|l| l == line)
}

db_test!(the_figures_follow_a_job_and_strangers_are_refused, |t: TestApp| async move {
    assert_eq!(t.send(scrape("192.0.2.1:50000", None, false)).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        t.send(scrape("127.0.0.1:50000", None, true)).await.status(),
        StatusCode::FORBIDDEN,
        "a proxy on loopback does not open it to the world"
    );
    let before = figures(&t).await;
    assert!(has(&before, "imgflush_queue_depth 0"), "{before}");
    assert!(has(&before, "imgflush_database_up 1"), "{before}");
    assert!(has(&before, "imgflush_queue_oldest_active_age_seconds 0"), "{before}");
    assert!(has(&before, "imgflush_http_requests_total{class=\"5xx\"} 0"), "{before}");
    assert!(metric_value(&before, "imgflush_http_requests_total{class=\"4xx\"}") >= 2.0, "the refusals: {before}");

    let node = Recorder::start().await;
    let hook = NewTarget {
        kind: TargetKind::Webhook,
        name: "hook".into(),
        url: node.url("/hook"),
        secret: None,
        settings: Default::default(),
        credentials: None,
    };
    t.store.add_target(t.demo.id, &hook, now_ms()).await.unwrap();
    let purges = |result: &str| {
        format!("imgflush_target_purges_total{{project=\"demo\",target=\"hook\",kind=\"webhook\",result=\"{result}\"}}")
    };
    let known = figures(&t).await;
    assert!(has(&known, &format!("{} 0", purges("error"))), "a known target's counters start at 0: {known}");
    let key = t.app.services.keys.create(&Actor::operator(t.demo.clone()), "ci", "editor").await.unwrap().1;
    let body = serde_json::json!({"scope": "original", "urls": ["/sample.li/a.jpg"]}).to_string();
    let create = Request::post("/invalidate")
        .header(header::HOST, "localhost")
        .header("x-client-key", &key)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(t.send(create).await.status(), StatusCode::CREATED);
    tokio::time::sleep(Duration::from_millis(20)).await;

    let queued = figures(&t).await;
    assert!(has(&queued, "imgflush_queue_depth 1"), "{queued}");
    assert!(has(&queued, "imgflush_invalidations{status=\"RECEIVED\"} 1"), "{queued}");
    assert!(has(&queued, "imgflush_invalidations_accepted_total 1"), "{queued}");
    assert!(metric_value(&queued, "imgflush_queue_oldest_received_age_seconds") >= 0.01, "{queued}");
    assert!(metric_value(&queued, "imgflush_queue_oldest_active_age_seconds") >= 0.01, "{queued}");

    let worker = t.app.worker(WorkerConfig { id: "metrics".into(), ..Default::default() });
    assert!(worker.try_execute_task().await.unwrap().is_some());
    assert_eq!(node.count(), 1);

    let after = figures(&t).await;
    assert!(has(&after, "imgflush_queue_depth 0"), "{after}");
    assert!(has(&after, "imgflush_queue_oldest_received_age_seconds 0"), "{after}");
    assert!(has(&after, "imgflush_invalidations{status=\"DONE\"} 1"), "{after}");
    assert!(has(&after, "imgflush_purge_duration_seconds_count{kind=\"webhook\"} 1"), "{after}");
    assert!(has(&after, "imgflush_worker_lease_losses_total 0"), "{after}");
    assert!(has(&after, "imgflush_queue_oldest_active_age_seconds 0"), "{after}");
    assert!(has(&after, &format!("{} 1", purges("ok"))), "{after}");
    assert!(has(&after, &format!("{} 0", purges("error"))), "{after}");
});

/// The sum and the count of `imgflush_store_batch_size{kind}` (0 and 0
/// before anything was recorded).
fn batches(text: &str, kind: &str) -> (f64, f64) {
    let read = |part: &str| {
        let name = format!("imgflush_store_batch_size_{part}{{kind=\"{kind}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(&name)).map_or(0.0, |v| v.parse().unwrap())
    };
    (read("sum"), read("count"))
}

db_test!(the_store_reports_how_many_writes_each_batch_carried, |t: TestApp| async move {
    const JOBS: usize = 6;
    let before = figures(&t).await;
    assert!(before.contains("# HELP imgflush_store_batch_size "), "{before}");
    let key = t.app.services.keys.create(&Actor::operator(t.demo.clone()), "ci", "editor").await.unwrap().1;
    let create = |n: usize| {
        let body = serde_json::json!({"scope": "original", "urls": [format!("/sample.li/{n}.jpg")]}).to_string();
        Request::post("/invalidate")
            .header(header::HOST, "localhost")
            .header("x-client-key", &key)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    let answers = futures::future::join_all((0..JOBS).map(|n| t.send(create(n)))).await;
    assert!(answers.iter().all(|r| r.status() == StatusCode::CREATED));
    let worker = t.app.worker(WorkerConfig { id: "batches".into(), ..Default::default() });
    for _ in 0..JOBS {
        assert!(worker.try_execute_task().await.unwrap().is_some());
    }
    assert!(worker.try_execute_task().await.unwrap().is_none());

    let after = figures(&t).await;
    let grew = |kind: &str| {
        let ((s0, c0), (s1, c1)) = (batches(&before, kind), batches(&after, kind));
        (s1 - s0, c1 - c0)
    };
    let jobs = JOBS as f64;
    if t.store.dialect() == "postgres" {
        // Every new invalidation went through the insert batcher, in one
        // statement or several; every job was claimed, and its progress
        // stored, through theirs.
        let (inserted, statements) = grew("insert");
        assert_eq!(inserted, jobs, "{after}");
        assert!((1.0..=jobs).contains(&statements), "{after}");
        assert!(grew("claim").0 >= jobs, "{after}");
        assert!(grew("apply").0 >= jobs, "{after}");
        assert_eq!(grew("commit"), (0.0, 0.0), "no SQLite writer here");
    } else {
        // One writer: the submissions, claims and progress all went through
        // its group commits.
        let (writes, commits) = grew("commit");
        assert!(writes >= 3.0 * jobs, "a submission, a claim and progress per job: {after}");
        assert!(commits >= 1.0 && commits <= writes, "{after}");
        for kind in ["insert", "claim", "apply"] {
            assert_eq!(grew(kind), (0.0, 0.0), "{kind}: PostgreSQL only");
        }
    }
});

db_test_cfg!(
    with_a_token_only_its_bearer_reads,
    |c: &mut server::Config| c.metrics.token = Some(Secret::new(TOKEN)),
    |t: TestApp| async move {
        let refused = t.send(scrape("127.0.0.1:50000", None, false)).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        assert!(!body_text(refused).await.contains(TOKEN));
        let wrong = t.send(scrape("192.0.2.1:50000", Some("metrics-token-for-the-testS"), false)).await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let ok = t.send(scrape("192.0.2.1:50000", Some(TOKEN), true)).await;
        assert_eq!(ok.status(), StatusCode::OK);
        assert!(has(&body_text(ok).await, "imgflush_queue_depth 0"));
    }
);

db_test!(the_worker_reads_a_project_setup_once_per_change, |t: TestApp| async move {
    // Every claim carries its project's setup version: while it stays, the
    // worker reuses the setup it read; after any change (settings, targets,
    // hooks added or removed) the next job claimed reads and uses the new one.
    let project = t.project("setup").await;
    let node = Recorder::start().await;
    let target = |name: &str| NewTarget {
        kind: TargetKind::Webhook,
        name: name.into(),
        url: node.url(&format!("/{name}")),
        secret: None,
        settings: Default::default(),
        credentials: None,
    };
    let a = t.store.add_target(project.id, &target("a"), now_ms()).await.unwrap();
    let editor = t.actor("editor@setup.example", Role::Editor, &project).await;
    let worker = t.app.worker(WorkerConfig { id: "setup".into(), ..Default::default() });
    let job = |path: &'static str| {
        let (t, editor, worker, node) = (&t, &editor, &worker, &node);
        async move {
            let before = node.count();
            let submission = Submission::from_api("original", Some(vec![path.to_owned()]), None).unwrap();
            let id = t.app.services.invalidations.submit(editor, submission).await.unwrap().invalidation.id;
            let done = worker.try_execute_task().await.unwrap().expect("a job to claim");
            assert_eq!(done.id, id);
            let mut called: Vec<String> = node.requests()[before..].iter().map(|r| r.path.clone()).collect();
            called.sort();
            let reads = metric_value(&figures(t).await, "imgflush_worker_setup_reads_total");
            (id, called, reads)
        }
    };

    let (_, called, reads) = job("/1.jpg").await;
    assert_eq!((called, reads), (vec!["/a".to_owned()], 1.0), "the first job reads the setup");
    let (_, called, reads) = job("/2.jpg").await;
    assert_eq!((called, reads), (vec!["/a".to_owned()], 1.0), "an unchanged setup is kept");

    t.store.add_target(project.id, &target("b"), now_ms()).await.unwrap();
    let (_, called, reads) = job("/3.jpg").await;
    assert_eq!((called, reads), (vec!["/a".to_owned(), "/b".to_owned()], 2.0), "a target added is purged next");

    let renamed = ProjectSettingsUpdate {
        name: "Renamed".into(),
        origin_hosts: project.origin_hosts.clone(),
        max_age_secs: project.max_age_secs,
        s_maxage_secs: project.s_maxage_secs,
        edge: project.edge.clone(),
    };
    t.store.update_project_settings(project.id, &renamed).await.unwrap();
    let (_, _, reads) = job("/4.jpg").await;
    assert_eq!(reads, 3.0, "changed settings are read again");

    let hook = NewHook { name: "ci".into(), url: node.url("/hook"), secret: None, every_final: true };
    t.store.add_hook(project.id, &hook, now_ms()).await.unwrap();
    let (heard, _, reads) = job("/5.jpg").await;
    assert_eq!(reads, 4.0, "a hook added is read again");
    let unnotified: Vec<_> = t.store.unnotified(10).await.unwrap().into_iter().map(|i| i.id).collect();
    assert_eq!(unnotified, [heard], "the job after the hook was added waits for the notifier");

    t.store.remove_target(project.id, a.id).await.unwrap();
    let (_, called, reads) = job("/6.jpg").await;
    assert_eq!((called, reads), (vec!["/b".to_owned()], 5.0), "a target removed is not called");
    let (_, _, reads) = job("/7.jpg").await;
    assert_eq!(reads, 5.0);
});
