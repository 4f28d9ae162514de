//! Writes that share a commit: concurrent submissions (SQLite's group commit
//! runs each in its own savepoint), a job's changes stored all or none, and
//! `server seed` for the log benchmarks. Both databases.

mod common;

use common::*;
use imgflush::backend::invalidations::{ListParams, Submission};
use imgflush::backend::now_ms;
use imgflush::backend::store::{
    AuditQuery, JobChange, LeaseToken, ListQuery, NewTarget, StoreError, TargetOutcome, TargetState,
};
use imgflush::backend::ServiceError;
use imgflush::domain::{Role, Status, TargetKind};

fn sub(path: &str, key: Option<&str>) -> Submission {
    Submission::from_api("original", Some(vec![path.to_owned()]), key.map(str::to_owned)).unwrap()
}

fn target(kind: TargetKind, name: &str) -> NewTarget {
    NewTarget { kind, name: name.into(), url: format!("http://127.0.0.1:9/{name}"), secret: None }
}

fn all() -> ListQuery {
    ListQuery::parse(ListParams::default(), 100).unwrap()
}

db_test!(concurrent_submissions_are_all_stored_and_a_clashing_key_fails_alone, |t: TestApp| async move {
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let s = t.app.services.clone();
    let mut calls = Vec::new();
    for i in 0..40 {
        let (s, actor) = (s.clone(), actor.clone());
        calls
            .push(tokio::spawn(async move { s.invalidations.submit(&actor, sub(&format!("/g/{i}.jpg"), None)).await }));
    }
    // The same Idempotency-Key with two bodies, in the same burst.
    for body in ["/clash/a.jpg", "/clash/b.jpg"] {
        let (s, actor) = (s.clone(), actor.clone());
        calls.push(tokio::spawn(async move { s.invalidations.submit(&actor, sub(body, Some("k-1"))).await }));
    }
    let mut created = 0;
    let mut conflicts = 0;
    for call in calls {
        match call.await.unwrap() {
            Ok(c) if !c.replayed => created += 1,
            Err(ServiceError::Conflict(msg)) => {
                assert!(msg.contains("Idempotency-Key"), "{msg}");
                conflicts += 1
            }
            other => panic!("unexpected: {:?}", other.map(|c| c.invalidation.id)),
        }
    }
    assert_eq!((created, conflicts), (41, 1));
    let rows = s.invalidations.list(&actor, all()).await.unwrap();
    assert_eq!(rows.len(), 41);
    for row in &rows {
        let events = t.store.events(row.id).await.unwrap();
        assert_eq!(events.len(), 1, "one RECEIVED event each");
        assert_eq!(events[0].status, Status::Received);
    }
    // Paths were stored for the search, one statement per submission.
    let found = |q: &str| {
        let (s, actor) = (s.clone(), actor.clone());
        let q = q.to_owned();
        async move {
            let params = ListParams { search: Some(&q), ..Default::default() };
            s.invalidations.list(&actor, ListQuery::parse(params, 100).unwrap()).await.unwrap().len()
        }
    };
    assert_eq!(found("/g/").await, 40);
    assert_eq!(found("/g/7.jpg").await, 1);
    assert_eq!(found("/clash/").await, 1);
    // Each stored invalidation has its audit row (written with it), and the
    // submission that lost the clash has none.
    let q = AuditQuery {
        project_id: Some(t.demo.id),
        action: Some("invalidation.submitted".into()),
        limit: 100,
        ..Default::default()
    };
    let audit = t.store.list_audit(&q).await.unwrap();
    assert_eq!(audit.len(), 41);
    for row in &rows {
        let mine: Vec<_> = audit.iter().filter(|a| a.detail.starts_with(&row.id.to_string())).collect();
        assert_eq!(mine.len(), 1, "one audit row for {}", row.id);
        assert_eq!(mine[0].detail, format!("{}: {}", row.id, row.paths.join(" ")));
        assert_eq!(mine[0].actor, "editor@example.com");
    }
});

db_test!(a_jobs_changes_are_stored_all_or_none, |t: TestApp| async move {
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let inv = t.app.services.invalidations.submit(&actor, sub("/a.jpg", None)).await.unwrap().invalidation;
    let lease = LeaseToken::new();
    t.store.claim("w1", &lease, now_ms(), 60_000).await.unwrap().expect("the job");

    // The second change names a target this job has no row for: the whole
    // group fails and the PREPARING before it is not kept.
    let orphan = TargetOutcome {
        target_id: 999,
        state: TargetState::Ok,
        attempts: 1,
        detail: None,
        duration_ms: 1,
        verified: None,
        verify_note: None,
    };
    let at = now_ms();
    let changes = vec![
        JobChange::Status { status: Status::Preparing, note: Some("claimed".into()), at_ms: at },
        JobChange::Target { outcome: orphan, at_ms: at + 1 },
    ];
    assert!(matches!(t.store.apply(inv.id, &lease, changes).await, Err(StoreError::LeaseLost)));
    assert_eq!(t.store.invalidation(t.demo.id, inv.id).await.unwrap().status, Status::Received);
    assert_eq!(t.store.events(inv.id).await.unwrap().len(), 1);

    // Another claim's token changes nothing.
    let stranger =
        vec![JobChange::Finish { status: Status::Done, error: None, note: None, at_ms: at, notified: false }];
    assert!(matches!(t.store.apply(inv.id, &LeaseToken::new(), stranger).await, Err(StoreError::LeaseLost)));

    // Nor does it add target rows (PostgreSQL adds them all in one statement).
    let targets = vec![
        t.store.add_target(t.demo.id, &target(TargetKind::Varnish, "node-1"), at).await.unwrap(),
        t.store.add_target(t.demo.id, &target(TargetKind::Webhook, "hook-1"), at).await.unwrap(),
    ];
    let stranger = vec![JobChange::Targets { targets: targets.clone(), at_ms: at }];
    assert!(matches!(t.store.apply(inv.id, &LeaseToken::new(), stranger).await, Err(StoreError::LeaseLost)));
    assert!(t.store.target_results(inv.id).await.unwrap().is_empty());

    // A good group: every status with its own time, in order.
    let changes = vec![
        JobChange::Status { status: Status::Preparing, note: Some("claimed".into()), at_ms: at },
        JobChange::Targets { targets: targets.clone(), at_ms: at + 1 },
        JobChange::Status { status: Status::FlushingResizingServers, note: None, at_ms: at + 2 },
        JobChange::Status { status: Status::FlushingCdnServers, note: None, at_ms: at + 3 },
        JobChange::Finish {
            status: Status::Done,
            error: None,
            note: Some("nothing to do".into()),
            at_ms: at + 4,
            notified: false,
        },
    ];
    t.store.apply(inv.id, &lease, changes).await.unwrap();
    let events = t.store.events(inv.id).await.unwrap();
    let seen: Vec<(Status, i64)> = events.iter().map(|e| (e.status, e.at.timestamp_millis())).collect();
    assert_eq!(
        seen[1..],
        [
            (Status::Preparing, at),
            (Status::FlushingResizingServers, at + 2),
            (Status::FlushingCdnServers, at + 3),
            (Status::Done, at + 4)
        ]
    );
    let done = t.store.invalidation(t.demo.id, inv.id).await.unwrap();
    assert_eq!(done.status, Status::Done);
    let rows = t.store.target_results(inv.id).await.unwrap();
    let mut named: Vec<(&str, TargetKind, TargetState)> =
        rows.iter().map(|r| (r.name.as_str(), r.kind, r.state)).collect();
    named.sort_by_key(|r| r.0);
    assert_eq!(
        named,
        [("hook-1", TargetKind::Webhook, TargetState::Pending), ("node-1", TargetKind::Varnish, TargetState::Pending)]
    );
    // The lease is gone with the final status.
    let late = vec![JobChange::Status { status: Status::Preparing, note: None, at_ms: at + 5 }];
    assert!(matches!(t.store.apply(inv.id, &lease, late).await, Err(StoreError::LeaseLost)));
});

db_test!(a_group_may_add_target_rows_and_record_their_results, |t: TestApp| async move {
    // The worker never sends this group (rows are added before any call), but
    // the store keeps the order of any group: PostgreSQL's one-statement path
    // cannot, so it goes change by change.
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let inv = t.app.services.invalidations.submit(&actor, sub("/b.jpg", None)).await.unwrap().invalidation;
    let lease = LeaseToken::new();
    t.store.claim("w1", &lease, now_ms(), 60_000).await.unwrap().expect("the job");
    let at = now_ms();
    let node = t.store.add_target(t.demo.id, &target(TargetKind::Varnish, "node-1"), at).await.unwrap();
    let outcome = TargetOutcome {
        target_id: node.id,
        state: TargetState::Ok,
        attempts: 1,
        detail: Some("HTTP 200".into()),
        duration_ms: 3,
        verified: Some(true),
        verify_note: None,
    };
    let changes = vec![
        JobChange::Status { status: Status::Preparing, note: None, at_ms: at },
        JobChange::Targets { targets: vec![node], at_ms: at },
        JobChange::Target { outcome, at_ms: at + 1 },
        JobChange::Finish { status: Status::Done, error: None, note: None, at_ms: at + 2, notified: false },
    ];
    t.store.apply(inv.id, &lease, changes).await.unwrap();
    let rows = t.store.target_results(inv.id).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].state, rows[0].attempts, rows[0].verified), (TargetState::Ok, 1, Some(true)));
    let events = t.store.events(inv.id).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.status).collect::<Vec<_>>(),
        [Status::Received, Status::Preparing, Status::Done]
    );
});

db_test!(seed_stores_finished_invalidations_for_admins_only, |t: TestApp| async move {
    let admin = t.actor("admin@example.com", Role::Admin, &t.demo).await;
    let editor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let s = &t.app.services.invalidations;
    assert!(matches!(s.seed(&editor, 10, 30).await, Err(ServiceError::Forbidden(_))));
    assert_eq!(s.seed(&admin, 2_500, 30).await.unwrap(), 2_500);

    let page = s.list(&admin, all()).await.unwrap();
    assert_eq!(page.len(), 100);
    assert!(page.windows(2).all(|w| w[0].created > w[1].created && w[0].id > w[1].id), "newest first");
    assert!(page.iter().all(|i| i.status.is_final()));
    let newest = &page[0];
    assert!(now_ms() - newest.created.timestamp_millis() < 60_000, "the newest is recent");
    let events = t.store.events(newest.id).await.unwrap();
    assert_eq!(events.first().map(|e| e.status), Some(Status::Received));
    assert_eq!(events.last().map(|e| e.status), Some(newest.status));

    // One path prefix in a thousand: /seed/123/ names invalidations 123, 1123 and 2123.
    let params = ListParams { search: Some("/seed/123/"), ..Default::default() };
    let found = s.list(&admin, ListQuery::parse(params, 100).unwrap()).await.unwrap();
    assert_eq!(found.len(), 3);
    // No worker picks seeded rows up: nothing is queued.
    assert!(t.store.claim("w1", &LeaseToken::new(), now_ms(), 1_000).await.unwrap().is_none());
    // Nor does the notifier: seeded history calls no hook.
    assert!(t.store.unnotified(10).await.unwrap().is_empty(), "seeded rows are not news");
});

db_test!(member_changes_succeed_while_the_writer_commits, |t: TestApp| async move {
    // SQLite: a transaction that reads before it writes fails at once
    // (SQLITE_BUSY) when another writer commits in between; a member change
    // takes the write lock first, so it waits its turn instead. Its turn
    // comes after the writer's batch in progress (`Writer::turn`), not
    // whenever SQLite's busy handler happens to find the lock free: each
    // change is quick however hard the lanes push (a few ms here; up to
    // seconds, or `database is locked` after the 10 s busy timeout, without).
    let actor = t.actor("admin@example.com", Role::Admin, &t.demo).await;
    let user = t.user("ed@example.com", Role::Editor, &t.demo).await;
    let s = t.app.services.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for lane in 0..4 {
        let (s, actor, stop) = (s.clone(), actor.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                s.invalidations.submit(&actor, sub(&format!("/load/{lane}/{i}.jpg"), None)).await.unwrap();
                i += 1;
            }
        }));
    }
    let mut slowest = std::time::Duration::ZERO;
    for i in 0..30 {
        let role = if i % 2 == 0 { Role::Support } else { Role::Editor };
        let started = std::time::Instant::now();
        t.store.change_member(t.demo.id, user, Some(role)).await.unwrap_or_else(|e| panic!("change {i}: {e}"));
        slowest = slowest.max(started.elapsed());
    }
    assert!(slowest < std::time::Duration::from_secs(1), "a member change waited {slowest:?}");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
});

db_test!(claim_many_takes_the_oldest_jobs_each_under_its_own_lease, |t: TestApp| async move {
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let inv = t.app.services.invalidations.submit(&actor, sub(&format!("/m/{i}.jpg"), None)).await.unwrap();
        ids.push(inv.invalidation.id);
    }
    let leases: Vec<LeaseToken> = (0..4).map(|_| LeaseToken::new()).collect();
    let first = t.store.claim_many("w1", leases.clone(), now_ms(), 60_000).await.unwrap();
    let got: Vec<_> = first.iter().map(|c| c.job.id).collect();
    assert_eq!(got, ids[..4], "the four oldest, oldest first");
    for (c, lease) in first.iter().zip(&leases) {
        assert_eq!(c.lease.as_str(), lease.as_str());
        assert_eq!(c.claims, 1);
    }
    // Each job answers to its own lease only.
    let step = |at| vec![JobChange::Status { status: Status::Preparing, note: None, at_ms: at }];
    assert!(matches!(t.store.apply(ids[1], &leases[0], step(now_ms())).await, Err(StoreError::LeaseLost)));
    t.store.apply(ids[1], &leases[1], step(now_ms())).await.unwrap();

    let more: Vec<LeaseToken> = (0..4).map(|_| LeaseToken::new()).collect();
    let second = t.store.claim_many("w2", more, now_ms(), 60_000).await.unwrap();
    assert_eq!(second.iter().map(|c| c.job.id).collect::<Vec<_>>(), ids[4..], "only the two left");
    assert!(t.store.claim_many("w3", vec![LeaseToken::new()], now_ms(), 60_000).await.unwrap().is_empty());
});

/// SQLite: the writer never checkpoints in a commit; the checkpointer thread
/// moves the WAL's pages into the database file beside the commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_checkpoints_the_wal_outside_the_writer() {
    let t = TestApp::new(Db::Sqlite).await;
    let file = std::path::PathBuf::from(t.db.url.trim_start_matches("sqlite://"));
    let wal = file.with_extension("db-wal");
    let before = std::fs::metadata(&file).unwrap().len();
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    for i in 0..300 {
        t.app.services.invalidations.submit(&actor, sub(&format!("/wal/{i}.jpg"), None)).await.unwrap();
    }
    assert!(std::fs::metadata(&wal).unwrap().len() > 0, "the writes are in the WAL");
    // Only a checkpoint grows the database file in WAL mode.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::metadata(&file).unwrap().len() <= before {
        assert!(std::time::Instant::now() < deadline, "nothing was checkpointed in 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
