//! The purge pipeline end to end: real HTTP targets, real workers, both databases.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::recorder::Recorder;
use common::*;
use imgflush::backend::invalidations::{PathsInput, Submission};
use imgflush::backend::store::{Invalidation, NewTarget, TargetState};
use imgflush::backend::worker::WorkerConfig;
use imgflush::backend::{Actor, ServiceError};
use imgflush::domain::{InvalidationId, Role, Scope, Status, TargetKind};
use tokio_util::sync::CancellationToken;

fn fast(id: &str) -> WorkerConfig {
    WorkerConfig {
        id: id.into(),
        lease: Duration::from_secs(2),
        poll: Duration::from_millis(100),
        concurrency: 8,
        target_timeout: Duration::from_secs(5),
        max_attempts: 2,
        backoff: Duration::from_millis(20),
        max_claims: 5,
        cdn_repeat: None,
        provider_poll: Duration::from_secs(2),
        provider_wait: Duration::from_secs(300),
    }
}

async fn add(t: &TestApp, kind: TargetKind, name: &str, url: String, secret: Option<&str>) {
    let new = NewTarget {
        kind,
        name: name.into(),
        url,
        secret: secret.map(Into::into),
        settings: Default::default(),
        credentials: None,
    };
    t.store.add_target(t.demo.id, &new, imgflush::backend::now_ms()).await.unwrap();
}

async fn submit(t: &TestApp, actor: &Actor, paths: &[&str]) -> Invalidation {
    let sub = Submission {
        scope: Scope::Original,
        paths: PathsInput::List(paths.iter().map(|p| p.to_string()).collect()),
        max_paths: 15,
        field: "urls",
        confirmed: false,
        not_before_ms: None,
        idempotency_key: None,
    };
    t.app.services.invalidations.submit(actor, sub).await.unwrap().invalidation
}

/// Waits (bounded) until the invalidation reaches a final status.
async fn settle(t: &TestApp, id: InvalidationId, within: Duration) -> Invalidation {
    let deadline = Instant::now() + within;
    loop {
        let inv = t.store.invalidation(t.demo.id, id).await.unwrap();
        if inv.status.is_final() {
            return inv;
        }
        assert!(Instant::now() < deadline, "{id} still {:?} after {within:?}", inv.status);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn run_worker(t: &TestApp, cfg: WorkerConfig) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let cancel = CancellationToken::new();
    let handle = tokio::spawn(t.app.worker(cfg).run(cancel.clone()));
    (cancel, handle)
}

db_test!(submit_reaches_done_on_every_edge_and_cdn_target, |t: TestApp| async move {
    let edges = [Recorder::start().await, Recorder::start().await];
    let varnishes = [Recorder::start().await, Recorder::start().await];
    for (i, r) in edges.iter().enumerate() {
        add(&t, TargetKind::Edge, &format!("edge-{i}"), r.url("/purge"), Some("edge-secret")).await;
    }
    for (i, r) in varnishes.iter().enumerate() {
        add(&t, TargetKind::Varnish, &format!("varnish-{i}"), r.url("/"), Some("ban-secret")).await;
    }
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let (cancel, worker) = run_worker(&t, fast("w1"));
    let started = Instant::now();
    let inv = submit(&t, &actor, &["/sample.li/flat1.jpg", "/sample.li/img/*"]).await;
    let done = settle(&t, inv.id, Duration::from_secs(10)).await;
    let took = started.elapsed();
    assert_eq!(done.status, Status::Done, "{:?}", done.error);
    // A new job wakes the idle worker at once instead of waiting for its poll.
    assert!(took < Duration::from_secs(2), "submit→DONE took {took:?}");

    for r in &edges {
        let reqs = r.requests();
        assert_eq!(reqs.len(), 1);
        let req = &reqs[0];
        assert_eq!((req.method.as_str(), req.path.as_str()), ("POST", "/purge"));
        assert_eq!(req.header("authorization"), Some("Bearer edge-secret"));
        let body = req.json();
        assert_eq!(body["token"], "demo");
        assert_eq!(body["scope"], "original");
        assert_eq!(body["invalidation_id"], inv.id.to_string());
        assert_eq!(body["paths"], serde_json::json!(["/sample.li/flat1.jpg", "/sample.li/img/*"]));
    }
    for r in &varnishes {
        let reqs = r.requests();
        assert_eq!(reqs.len(), 2, "one purge per path");
        assert!(reqs.iter().all(|q| q.method == "PURGE" && q.header("x-purge-token") == Some("demo")));
        assert!(reqs.iter().all(|q| q.header("x-purge-secret") == Some("ban-secret")));
        assert_eq!(reqs[0].header("x-purge-path"), Some("/sample.li/flat1.jpg"));
        let key = imgflush::domain::cache_key::path_key("demo", "/sample.li/flat1.jpg");
        assert_eq!(reqs[0].header("x-purge-key"), Some(key.as_str()));
        assert_eq!(reqs[1].header("x-purge-prefix"), Some("/sample.li/img/"));
        assert_eq!(reqs[1].header("x-purge-path"), None);
    }
    let detail = t.app.services.invalidations.detail(&actor, inv.id).await.unwrap();
    let statuses: Vec<Status> = detail.events.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [
            Status::Received,
            Status::Preparing,
            Status::FlushingResizingServers,
            Status::FlushingCdnServers,
            Status::Done
        ]
    );
    assert_eq!(detail.targets.len(), 4);
    assert!(detail.targets.iter().all(|r| r.state == TargetState::Ok && r.attempts == 1 && r.duration_ms.is_some()));
    cancel.cancel();
    worker.await.unwrap();
});

db_test!(failing_cdn_node_then_retry_reruns_only_that_node, |t: TestApp| async move {
    let edge = Recorder::start().await;
    let good = Recorder::start().await;
    let bad = Recorder::start().await;
    bad.respond_with(500);
    add(&t, TargetKind::Edge, "edge", edge.url("/purge"), None).await;
    add(&t, TargetKind::Varnish, "varnish-ok", good.url("/"), None).await;
    add(&t, TargetKind::Webhook, "hook-broken", bad.url("/hook"), Some("whsec")).await;
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let (cancel, worker) = run_worker(&t, fast("w1"));

    let inv = submit(&t, &actor, &["/a.jpg"]).await;
    let failed = settle(&t, inv.id, Duration::from_secs(10)).await;
    assert_eq!(failed.status, Status::ErrorCdnNode);
    let error = failed.error.unwrap();
    assert!(error.contains("hook-broken") && error.contains("500"), "{error}");
    assert!(!error.contains("varnish-ok"), "{error}");
    assert_eq!(bad.count(), 2, "bounded automatic retries (max_attempts = 2)");
    let sig = bad.requests()[0].header("x-imgflush-signature").unwrap().to_owned();
    assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64, "{sig}");
    assert_eq!((edge.count(), good.count()), (1, 1));

    bad.respond_with(204);
    let retried = t.app.services.invalidations.retry(&actor, inv.id).await.unwrap();
    assert_eq!((retried.id, retried.attempt, retried.status), (inv.id, 2, Status::Received));
    let done = settle(&t, inv.id, Duration::from_secs(10)).await;
    assert_eq!(done.status, Status::Done, "{:?}", done.error);
    assert_eq!((edge.count(), good.count(), bad.count()), (1, 1, 3), "only the failed target was called again");
    let detail = t.app.services.invalidations.detail(&actor, inv.id).await.unwrap();
    let hook = detail.targets.iter().find(|r| r.name == "hook-broken").unwrap();
    assert_eq!((hook.state, hook.attempts), (TargetState::Ok, 3));

    // Retry from any other status is a conflict.
    let again = t.app.services.invalidations.retry(&actor, inv.id).await;
    assert!(matches!(again, Err(ServiceError::Conflict(ref m)) if m.contains("DONE")), "{again:?}");
    cancel.cancel();
    worker.await.unwrap();
});

db_test!(failing_edge_ends_in_error_before_cdn_step, |t: TestApp| async move {
    let edge = Recorder::start().await;
    edge.respond_with(503);
    let cdn = Recorder::start().await;
    add(&t, TargetKind::Edge, "edge", edge.url("/purge"), None).await;
    add(&t, TargetKind::Varnish, "cdn", cdn.url("/"), None).await;
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let (cancel, worker) = run_worker(&t, fast("w1"));
    let inv = submit(&t, &actor, &["/a.jpg"]).await;
    let failed = settle(&t, inv.id, Duration::from_secs(10)).await;
    assert_eq!(failed.status, Status::Error);
    assert!(failed.error.unwrap().contains("edge"));
    assert_eq!(cdn.count(), 0, "CDN nodes are not purged while the edge still serves stale objects");
    cancel.cancel();
    worker.await.unwrap();
});

db_test!(shields_are_purged_before_the_edges_below_them, |t: TestApp| async move {
    // A tier-1 shield (fetches from the origin), a tier-2 shield below it,
    // an edge below that, and a CDN node.
    let (shield, lower, child, node) =
        (Recorder::start().await, Recorder::start().await, Recorder::start().await, Recorder::start().await);
    shield.delay(300);
    lower.delay(200);
    for (name, recorder, tier) in [("shield", &shield, None), ("shield-2", &lower, Some("2"))] {
        let mut settings = imgflush::domain::target::TargetSettings::default();
        settings.0.insert("shield".into(), "on".into());
        if let Some(tier) = tier {
            settings.0.insert("shield_tier".into(), tier.into());
        }
        let new = NewTarget {
            kind: TargetKind::Edge,
            name: name.into(),
            url: recorder.url("/purge"),
            secret: None,
            settings,
            credentials: None,
        };
        t.store.add_target(t.demo.id, &new, imgflush::backend::now_ms()).await.unwrap();
    }
    add(&t, TargetKind::Edge, "edge-below", child.url("/purge"), None).await;
    add(&t, TargetKind::Varnish, "varnish", node.url("/"), None).await;
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let (cancel, worker) = run_worker(&t, fast("w1"));

    let inv = submit(&t, &actor, &["/a.jpg"]).await;
    assert_eq!(settle(&t, inv.id, Duration::from_secs(10)).await.status, Status::Done);
    let (s, l, c, n) = (&shield.calls()[0], &lower.calls()[0], &child.calls()[0], &node.calls()[0]);
    assert!(l.start >= s.end.unwrap(), "the tier-2 shield was called while its tier-1 parent was still being purged");
    assert!(c.start >= l.end.unwrap(), "the edge below was called while its shield was still being purged");
    assert!(n.start >= c.end.unwrap(), "the CDN node was called before the edges were purged");

    // A shield that fails: the edges below it are not called (they would
    // fetch the old copy back from it), and Retry purges them once it works.
    shield.respond_with(503);
    let inv = submit(&t, &actor, &["/b.jpg"]).await;
    let failed = settle(&t, inv.id, Duration::from_secs(10)).await;
    assert_eq!(failed.status, Status::Error);
    let error = failed.error.unwrap();
    assert!(error.contains("shield") && error.contains("2 edges of later tiers not called yet"), "{error}");
    assert_eq!((lower.count(), child.count(), node.count()), (1, 1, 1));
    shield.respond_with(200);
    t.app.services.invalidations.retry(&actor, inv.id).await.unwrap();
    assert_eq!(settle(&t, inv.id, Duration::from_secs(10)).await.status, Status::Done);
    assert_eq!((lower.count(), child.count(), node.count()), (2, 2, 2));
    assert!(lower.calls()[1].start >= shield.calls().last().unwrap().end.unwrap());
    assert!(child.calls()[1].start >= lower.calls()[1].end.unwrap());
    cancel.cancel();
    worker.await.unwrap();
});

db_test!(no_targets_completes_honestly, |t: TestApp| async move {
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let (cancel, worker) = run_worker(&t, fast("w1"));
    let inv = submit(&t, &actor, &["/a.jpg"]).await;
    assert_eq!(settle(&t, inv.id, Duration::from_secs(10)).await.status, Status::Done);
    let detail = t.app.services.invalidations.detail(&actor, inv.id).await.unwrap();
    assert!(detail.targets.is_empty());
    let last = detail.events.last().unwrap();
    assert!(last.note.as_deref().unwrap().contains("nothing was flushed"), "{last:?}");
    cancel.cancel();
    worker.await.unwrap();
});

db_test!(a_killed_worker_loses_its_lease_and_another_finishes, |t: TestApp| async move {
    let edge = Recorder::start().await;
    let cdn = Recorder::start().await;
    add(&t, TargetKind::Edge, "edge", edge.url("/purge"), None).await;
    add(&t, TargetKind::Varnish, "cdn", cdn.url("/"), None).await;
    cdn.delay(60_000);
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let inv = submit(&t, &actor, &["/a.jpg"]).await;

    // Worker 1 reaches the CDN step and hangs on the slow node; then it is killed.
    let mut cfg = fast("doomed");
    cfg.target_timeout = Duration::from_secs(60);
    let (_cancel, doomed) = run_worker(&t, cfg);
    let deadline = Instant::now() + Duration::from_secs(10);
    while cdn.count() == 0 {
        assert!(Instant::now() < deadline, "worker 1 never reached the CDN step");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    doomed.abort();
    let _ = doomed.await;
    cdn.delay(0);
    let mid = t.store.invalidation(t.demo.id, inv.id).await.unwrap();
    assert_eq!(mid.status, Status::FlushingCdnServers);

    let (cancel, rescuer) = run_worker(&t, fast("rescuer"));
    let done = settle(&t, inv.id, Duration::from_secs(15)).await;
    assert_eq!(done.status, Status::Done, "{:?}", done.error);
    assert_eq!(edge.count(), 1, "the finished edge step is not repeated");
    let detail = t.app.services.invalidations.detail(&actor, inv.id).await.unwrap();
    assert!(detail.events.iter().any(|e| e.note.as_deref().is_some_and(|n| n.contains("resumed by rescuer"))));
    cancel.cancel();
    rescuer.await.unwrap();
});

db_test!(three_hundred_concurrent_submits_all_done_none_claimed_twice, |t: TestApp| async move {
    let edge = Recorder::start().await;
    let cdn = Recorder::start().await;
    add(&t, TargetKind::Edge, "edge", edge.url("/purge"), None).await;
    add(&t, TargetKind::Webhook, "hook", cdn.url("/hook"), None).await;
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    // A lease long enough that a loaded machine never lets one expire: a
    // second purge of a job can then only come from a double claim.
    let steady = |id: &str| WorkerConfig { lease: Duration::from_secs(20), ..fast(id) };
    let (c1, w1) = run_worker(&t, steady("w1"));
    let (c2, w2) = run_worker(&t, steady("w2"));

    let submits = (0..300).map(|i| {
        let service = t.app.services.invalidations.clone();
        let actor = actor.clone();
        tokio::spawn(async move {
            let path = format!("/bulk/{i}.jpg");
            let sub = Submission {
                scope: Scope::Original,
                paths: PathsInput::List(vec![path]),
                max_paths: 15,
                field: "urls",
                confirmed: false,
                not_before_ms: None,
                idempotency_key: None,
            };
            service.submit(&actor, sub).await.unwrap().invalidation.id
        })
    });
    let ids: Vec<InvalidationId> = futures::future::join_all(submits).await.into_iter().map(Result::unwrap).collect();
    for id in &ids {
        assert_eq!(settle(&t, *id, Duration::from_secs(120)).await.status, Status::Done);
    }
    for r in [&edge, &cdn] {
        let mut per_id: HashMap<String, usize> = HashMap::new();
        for req in r.requests() {
            *per_id.entry(req.json()["invalidation_id"].as_str().unwrap().to_owned()).or_default() += 1;
        }
        assert_eq!(per_id.len(), 300);
        assert!(per_id.values().all(|n| *n == 1), "a job was purged twice: claimed by two workers at once");
    }
    for id in &ids {
        let events = t.store.events(*id).await.unwrap();
        assert_eq!(events.iter().filter(|e| e.status == Status::Preparing).count(), 1);
    }
    c1.cancel();
    c2.cancel();
    w1.await.unwrap();
    w2.await.unwrap();
});

/// Two instances on one PostgreSQL database: a submit on one wakes the idle
/// worker of the other through LISTEN/NOTIFY, long before its poll would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_notify_wakes_a_worker_in_another_instance() {
    let Some(t) = TestApp::try_new(Db::Postgres).await else {
        eprintln!("TEST_DATABASE_URL not set: skipped");
        return;
    };
    let other_store = imgflush::backend::store::connect(&t.db.url).await.unwrap();
    let mut config = server::Config::with_database(&t.db.url);
    config.worker.enabled = false;
    let other = server::build_with_store(config, other_store).await.unwrap();
    let mut cfg = fast("other-instance");
    cfg.poll = Duration::from_secs(30);
    let cancel = CancellationToken::new();
    let worker = tokio::spawn(other.worker(cfg).run(cancel.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await; // let it LISTEN and go idle

    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let started = Instant::now();
    let inv = submit(&t, &actor, &["/a.jpg"]).await;
    let done = settle(&t, inv.id, Duration::from_secs(10)).await;
    assert_eq!(done.status, Status::Done);
    assert!(started.elapsed() < Duration::from_secs(3), "woken by NOTIFY, not the 30 s poll: {:?}", started.elapsed());
    cancel.cancel();
    worker.await.unwrap();
}

/// A worker wired beside the API as `serve` wires it: jobs submitted while
/// one of its lanes is idle are stored leased to it and handed over.
fn run_beside_api(t: &TestApp, cfg: WorkerConfig) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let cancel = CancellationToken::new();
    let worker = t.app.worker(cfg).take_new_jobs_from(&t.app.services.invalidations);
    (cancel.clone(), tokio::spawn(worker.run(cancel)))
}

/// `imgflush_worker_jobs_handed_over_total` on the app's `/metrics`.
async fn handed_over(t: &TestApp) -> u64 {
    metric_value(&t.metrics_text().await, "imgflush_worker_jobs_handed_over_total") as u64
}

/// Submits probe jobs (the project has no target yet) until one is handed
/// over: from then on a lane of the worker is idle, and stays so while its
/// polls find the queue empty. The handed-over count so far.
async fn until_idle(t: &TestApp, actor: &Actor) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    for i in 0.. {
        let before = handed_over(t).await;
        let probe = submit(t, actor, &[&format!("/probe/{i}.jpg")]).await;
        settle(t, probe.id, Duration::from_secs(10)).await;
        let after = handed_over(t).await;
        if after > before {
            // The probe's slot is free once its task has ended, just after DONE.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return after;
        }
        assert!(Instant::now() < deadline, "no lane of the worker went idle");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    unreachable!()
}

db_test!(a_job_submitted_while_a_lane_is_idle_goes_straight_to_it, |t: TestApp| async move {
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let (cancel, worker) = run_beside_api(&t, fast("beside"));
    let before = until_idle(&t, &actor).await;
    let node = Recorder::start().await;
    add(&t, TargetKind::Webhook, "hook", node.url("/hook"), None).await;

    node.delay(1_000);
    let inv = submit(&t, &actor, &["/a.jpg"]).await;
    // Stored leased to that worker, so no claim (here or in any process) takes it.
    let lease = imgflush::backend::store::LeaseToken::new();
    let thief = t.store.claim_many("thief", vec![lease], imgflush::backend::now_ms(), 60_000).await.unwrap();
    assert!(thief.is_empty(), "a handed-over job is claimable: {thief:?}");
    assert_eq!(settle(&t, inv.id, Duration::from_secs(10)).await.status, Status::Done);
    assert_eq!(handed_over(&t).await, before + 1);
    assert_eq!(node.count(), 1, "purged once");
    let events = t.store.events(inv.id).await.unwrap();
    let preparing: Vec<_> = events.iter().filter(|e| e.status == Status::Preparing).collect();
    assert_eq!(preparing.len(), 1);
    assert_eq!(preparing[0].note.as_deref(), Some("claimed by beside"));
    cancel.cancel();
    worker.await.unwrap();
});

db_test!(a_handed_over_job_whose_worker_dies_is_finished_by_another, |t: TestApp| async move {
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let mut cfg = fast("doomed");
    cfg.target_timeout = Duration::from_secs(60);
    let (_cancel, doomed) = run_beside_api(&t, cfg);
    let before = until_idle(&t, &actor).await;
    let cdn = Recorder::start().await;
    add(&t, TargetKind::Varnish, "cdn", cdn.url("/"), None).await;
    cdn.delay(60_000);
    let inv = submit(&t, &actor, &["/a.jpg"]).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while cdn.count() == 0 {
        assert!(Instant::now() < deadline, "the handed-over job never reached the CDN step");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(handed_over(&t).await, before + 1);
    // The process dies mid-job: its lease runs out and another worker takes over.
    doomed.abort();
    let _ = doomed.await;
    cdn.delay(0);
    let (cancel, rescuer) = run_worker(&t, fast("rescuer"));
    let done = settle(&t, inv.id, Duration::from_secs(15)).await;
    assert_eq!(done.status, Status::Done, "{:?}", done.error);
    let events = t.store.events(inv.id).await.unwrap();
    assert!(events.iter().any(|e| e.note.as_deref().is_some_and(|n| n.contains("resumed by rescuer"))), "{events:?}");
    cancel.cancel();
    rescuer.await.unwrap();
});

db_test!(past_its_slots_new_jobs_queue_for_the_lanes, |t: TestApp| async move {
    // One lane: 16 handed-over jobs at most (as many as it claims at most at
    // once); the 17th and 18th queue, wake the lane and are claimed as usual.
    use imgflush::backend::worker::MAX_CLAIM_BATCH;
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let (cancel, worker) = run_beside_api(&t, WorkerConfig { concurrency: 1, ..fast("one-lane") });
    let before = until_idle(&t, &actor).await;
    let node = Recorder::start().await;
    add(&t, TargetKind::Webhook, "hook", node.url("/hook"), None).await;
    node.delay(500);
    let paths: Vec<[String; 1]> = (0..MAX_CLAIM_BATCH + 2).map(|i| [format!("/many/{i}.jpg")]).collect();
    let paths: Vec<[&str; 1]> = paths.iter().map(|[p]| [p.as_str()]).collect();
    // Each submission takes its slot (or not) before its insert: all at once.
    let submitted = futures::future::join_all(paths.iter().map(|p| submit(&t, &actor, p))).await;
    for inv in &submitted {
        assert_eq!(settle(&t, inv.id, Duration::from_secs(20)).await.status, Status::Done);
    }
    assert_eq!(handed_over(&t).await, before + MAX_CLAIM_BATCH as u64);
    assert_eq!(node.count(), MAX_CLAIM_BATCH + 2, "each purged once");
    cancel.cancel();
    worker.await.unwrap();
});

/// The most calls in flight at once at `node` within `over`, sampled.
async fn widest(node: &Recorder, over: Duration) -> usize {
    let (mut most, until) = (0, Instant::now() + over);
    while Instant::now() < until {
        most = most.max(node.in_flight());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    most
}

/// Waits until a call is in flight at `node`, then how many are, once the
/// rest of that claim's jobs have had time to start.
async fn first_wave(node: &Recorder) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    while node.in_flight() == 0 {
        assert!(Instant::now() < deadline, "no purge call started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(60)).await;
    node.in_flight()
}

db_test!(a_lane_claims_more_while_a_backlog_lasts_and_four_again_after, |t: TestApp| async move {
    // One lane, a target that takes 500 ms: each claim's jobs are in flight
    // together, the next claim waits for all of them. A backlog of 60 jobs
    // goes in claims of 4, 8, 16, 16 and 16 (not 4, 8, 16 and 32).
    use imgflush::backend::worker::{CLAIM_BATCH, MAX_CLAIM_BATCH};
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let node = Recorder::start().await;
    add(&t, TargetKind::Webhook, "hook", node.url("/hook"), None).await;
    node.delay(500);
    let backlog = CLAIM_BATCH + 2 * CLAIM_BATCH + 3 * MAX_CLAIM_BATCH;
    let mut jobs = Vec::new();
    for i in 0..backlog {
        jobs.push(submit(&t, &actor, &[&format!("/backlog/{i}.jpg")]).await);
    }
    let (cancel, worker) = run_worker(&t, WorkerConfig { concurrency: 1, ..fast("one-lane") });
    assert_eq!(first_wave(&node).await, CLAIM_BATCH, "the first claim takes the usual batch");
    assert_eq!(widest(&node, Duration::from_millis(3_000)).await, MAX_CLAIM_BATCH, "full claims double, up to the cap");
    for inv in &jobs {
        assert_eq!(settle(&t, inv.id, Duration::from_secs(20)).await.status, Status::Done);
    }
    assert_eq!(node.count(), backlog, "each purged once");

    // The backlog is gone (a claim came back short): one job alone, and
    // while it runs a new backlog, which the lane takes 4 at a time again.
    let mut more = vec![submit(&t, &actor, &["/later/alone.jpg"]).await];
    assert_eq!(first_wave(&node).await, 1);
    for i in 0..2 * MAX_CLAIM_BATCH {
        more.push(submit(&t, &actor, &[&format!("/later/{i}.jpg")]).await);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while node.in_flight() > 0 {
        assert!(Instant::now() < deadline, "the lone job's call never ended");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(first_wave(&node).await, CLAIM_BATCH, "after a short claim, back to {CLAIM_BATCH}");
    for inv in &more {
        assert_eq!(settle(&t, inv.id, Duration::from_secs(20)).await.status, Status::Done);
    }
    cancel.cancel();
    worker.await.unwrap();
});
