//! Writes that share a commit: concurrent submissions (SQLite's group commit
//! runs each in its own savepoint), a job's changes stored all or none, and
//! `server seed` for the log benchmarks. Both databases.

mod common;

use common::*;
use imgflush::backend::audit::RequestMeta;
use imgflush::backend::invalidations::{ListParams, Submission};
use imgflush::backend::now_ms;
use imgflush::backend::store::{
    AuditQuery, Inserted, Invalidation, JobChange, LeaseToken, ListQuery, NewAuditEntry, NewInvalidation, NewLease,
    NewTarget, StoreError, Submitter, TargetOutcome, TargetState,
};
use imgflush::backend::ServiceError;
use imgflush::domain::{InvalidationId, Scope};
use imgflush::domain::{Role, Status, TargetKind};

fn sub(path: &str, key: Option<&str>) -> Submission {
    Submission::from_api("original", Some(vec![path.to_owned()]), key.map(str::to_owned)).unwrap()
}

fn target(kind: TargetKind, name: &str) -> NewTarget {
    NewTarget {
        kind,
        name: name.into(),
        url: format!("http://127.0.0.1:9/{name}"),
        secret: None,
        settings: Default::default(),
        credentials: None,
    }
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

/// A submission straight to the store, as the service builds it.
fn new_invalidation(project_id: i64, user_id: i64, path: &str) -> NewInvalidation {
    let id = InvalidationId(uuid::Uuid::now_v7());
    let now = now_ms();
    NewInvalidation {
        id,
        project_id,
        scope: Scope::Original,
        paths: vec![path.to_owned()],
        submitter: Submitter::User { id: user_id, email: "ci@example.com".into() },
        idempotency_key: None,
        request_hash: None,
        now_ms: now,
        audit: NewAuditEntry {
            at_ms: now,
            project_id: Some(project_id),
            actor: "ci@example.com".into(),
            user_id: Some(user_id),
            api_key_id: None,
            meta: RequestMeta::default(),
            action: "invalidation.submitted",
            detail: format!("{id}: {path}"),
        },
        not_before_ms: None,
        approve_by_ms: None,
        lease: None,
    }
}

/// Inserts every submission at once; the store's answers in the same order.
async fn insert_all(
    t: &TestApp,
    news: Vec<NewInvalidation>,
) -> Vec<Result<(NewInvalidation, Invalidation), StoreError>> {
    let calls: Vec<_> = news
        .into_iter()
        .map(|new| {
            let store = t.store.clone();
            tokio::spawn(async move { store.insert_invalidation(&new).await.map(|stored| (new, stored.invalidation)) })
        })
        .collect();
    futures::future::join_all(calls).await.into_iter().map(Result::unwrap).collect()
}

// SQLite's writer shares commits (`writer.rs`); PostgreSQL's inserters store
// what has queued with one statement (`pg_batch.rs`). Either way each caller
// gets its own row back, and one bad submission fails alone.
db_test!(concurrent_inserts_share_commits_and_a_bad_one_fails_alone, |t: TestApp| async move {
    let user = t.user("ci@example.com", Role::Editor, &t.demo).await;
    let news = (0..40).map(|i| new_invalidation(t.demo.id, user, &format!("/batch/{i}.jpg"))).collect();
    for answer in insert_all(&t, news).await {
        let (new, inv) = answer.expect("stored");
        assert_eq!((inv.id, &inv.paths, inv.status), (new.id, &new.paths, Status::Received));
        assert_eq!(inv.created.timestamp_millis(), new.now_ms);
        assert_eq!(inv.submitted_by, "ci@example.com");
        let events = t.store.events(inv.id).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].note.as_deref(), Some("submitted by ci@example.com"));
    }
    if t.store.dialect() == "postgres" {
        // Rows written by one transaction share its id (`xmin`).
        let pool = sqlx::PgPool::connect(&t.db.url).await.unwrap();
        let (transactions,): (i64,) = sqlx::query_as(
            "SELECT count(DISTINCT xmin::text) FROM invalidations i \
             WHERE EXISTS (SELECT 1 FROM invalidation_paths p WHERE p.invalidation_id = i.id AND p.path LIKE '/batch/%')",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(transactions <= 20, "40 concurrent submissions took {transactions} transactions");
    }

    // The project of one is gone: it fails, the others in its burst are stored.
    let mut news: Vec<_> = (0..20).map(|i| new_invalidation(t.demo.id, user, &format!("/burst/{i}.jpg"))).collect();
    news.insert(10, new_invalidation(987_654, user, "/nowhere.jpg"));
    let answers = insert_all(&t, news).await;
    assert!(answers[10].is_err(), "a submission for a missing project is refused");
    for (i, answer) in answers.iter().enumerate().filter(|(i, _)| *i != 10) {
        let (new, inv) = answer.as_ref().unwrap_or_else(|e| panic!("submission {i}: {e}"));
        assert_eq!(inv.paths, new.paths);
        assert_eq!(t.store.invalidation(t.demo.id, new.id).await.unwrap().paths, new.paths);
    }
    let q = AuditQuery { project_id: Some(987_654), limit: 10, ..Default::default() };
    assert!(t.store.list_audit(&q).await.unwrap().is_empty(), "no audit row for what was not stored");
    let q = AuditQuery {
        project_id: Some(t.demo.id),
        action: Some("invalidation.submitted".into()),
        limit: 100,
        ..Default::default()
    };
    assert_eq!(t.store.list_audit(&q).await.unwrap().len(), 60);
});

/// Applies each job's changes at once; the store's answers in the same order.
async fn apply_all(
    t: &TestApp,
    groups: Vec<(InvalidationId, LeaseToken, Vec<JobChange>)>,
) -> Vec<Result<(), StoreError>> {
    let calls: Vec<_> = groups
        .into_iter()
        .map(|(id, lease, changes)| {
            let store = t.store.clone();
            tokio::spawn(async move { store.apply(id, &lease, changes).await })
        })
        .collect();
    futures::future::join_all(calls).await.into_iter().map(Result::unwrap).collect()
}

// Many jobs' groups of changes at once, as the worker's lanes send them:
// PostgreSQL stores them in shared statements (`jobs/pg_group.rs`), SQLite
// in shared commits. Each job keeps its own statuses, events and results,
// and a group whose lease was lost writes nothing and fails alone.
db_test!(concurrent_job_groups_share_statements_and_a_lost_lease_fails_alone, |t: TestApp| async move {
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let at = now_ms();
    let targets = vec![
        t.store.add_target(t.demo.id, &target(TargetKind::Varnish, "node-1"), at).await.unwrap(),
        t.store.add_target(t.demo.id, &target(TargetKind::Webhook, "hook-1"), at).await.unwrap(),
    ];
    for i in 0..30 {
        t.app.services.invalidations.submit(&actor, sub(&format!("/jobs/{i}.jpg"), None)).await.unwrap();
    }
    let leases: Vec<LeaseToken> = (0..30).map(|_| LeaseToken::new()).collect();
    let claimed = t.store.claim_many("w1", leases, now_ms(), 60_000).await.unwrap();
    assert_eq!(claimed.len(), 30);
    let stranger = claimed[7].job.id;

    let first = claimed
        .iter()
        .map(|c| {
            let lease = if c.job.id == stranger { LeaseToken::new() } else { c.lease.clone() };
            let changes = vec![
                JobChange::Status { status: Status::Preparing, note: Some("claimed".into()), at_ms: at },
                JobChange::Targets { targets: targets.clone(), at_ms: at + 1 },
                JobChange::Status { status: Status::FlushingResizingServers, note: None, at_ms: at + 2 },
            ];
            (c.job.id, lease, changes)
        })
        .collect();
    for (c, answer) in claimed.iter().zip(apply_all(&t, first).await) {
        if c.job.id == stranger {
            assert!(matches!(answer, Err(StoreError::LeaseLost)), "{answer:?}");
        } else {
            answer.unwrap();
        }
    }
    let ok = |target_id: i64, detail: &str| TargetOutcome {
        target_id,
        state: TargetState::Ok,
        attempts: 1,
        detail: Some(detail.to_owned()),
        duration_ms: 3,
        verified: None,
        verify_note: None,
    };
    let second = claimed
        .iter()
        .filter(|c| c.job.id != stranger)
        .map(|c| {
            let detail = format!("purged {}", c.job.id);
            let changes = vec![
                JobChange::Target { outcome: ok(targets[0].id, &detail), at_ms: at + 3 },
                JobChange::Target { outcome: ok(targets[1].id, &detail), at_ms: at + 4 },
                JobChange::Finish { status: Status::Done, error: None, note: None, at_ms: at + 5, notified: true },
            ];
            (c.job.id, c.lease.clone(), changes)
        })
        .collect();
    for answer in apply_all(&t, second).await {
        answer.unwrap();
    }

    for c in &claimed {
        let inv = t.store.invalidation(t.demo.id, c.job.id).await.unwrap();
        let events: Vec<Status> = t.store.events(c.job.id).await.unwrap().into_iter().map(|e| e.status).collect();
        let results = t.store.target_results(c.job.id).await.unwrap();
        if c.job.id == stranger {
            assert_eq!(inv.status, Status::Received);
            assert_eq!(events, vec![Status::Received]);
            assert!(results.is_empty());
            continue;
        }
        assert_eq!(inv.status, Status::Done);
        assert_eq!(inv.finished.map(|f| f.timestamp_millis()), Some(at + 5));
        let expected = vec![Status::Received, Status::Preparing, Status::FlushingResizingServers, Status::Done];
        assert_eq!(events, expected, "{}", c.job.id);
        assert_eq!(results.len(), 2);
        for r in &results {
            assert_eq!(r.state, TargetState::Ok);
            assert_eq!(r.detail.as_deref(), Some(format!("purged {}", c.job.id).as_str()));
        }
    }
    if t.store.dialect() == "postgres" {
        let pool = sqlx::PgPool::connect(&t.db.url).await.unwrap();
        let (transactions,): (i64,) =
            sqlx::query_as("SELECT count(DISTINCT xmin::text) FROM invalidations WHERE status = 'DONE'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert!(transactions <= 15, "29 concurrent final groups took {transactions} transactions");
    }
});

// Lanes claiming at the same moment: each job goes to exactly one lease,
// each claim gets at most one job per lease, under its own leases, oldest
// first; on PostgreSQL the claims share statements (`jobs/pg_claim.rs`).
db_test!(concurrent_claims_share_statements_and_each_job_goes_once, |t: TestApp| async move {
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    for i in 0..25 {
        t.app.services.invalidations.submit(&actor, sub(&format!("/claims/{i}.jpg"), None)).await.unwrap();
    }
    let calls: Vec<_> = (0..10)
        .map(|lane| {
            let store = t.store.clone();
            let leases: Vec<LeaseToken> = (0..4).map(|_| LeaseToken::new()).collect();
            tokio::spawn(async move {
                let claimed = store.claim_many(&format!("w{lane}"), leases.clone(), now_ms(), 60_000).await.unwrap();
                (leases, claimed)
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for call in calls {
        let (leases, claimed) = call.await.unwrap();
        assert!(claimed.len() <= 4);
        let created: Vec<_> = claimed.iter().map(|c| c.job.id).collect();
        let mut sorted = created.clone();
        sorted.sort();
        assert_eq!(created, sorted, "oldest first");
        for c in &claimed {
            assert!(leases.contains(&c.lease), "a job under another claim's lease");
            assert!(ids.insert(c.job.id), "{} claimed twice", c.job.id);
        }
    }
    assert_eq!(ids.len(), 25, "every job claimed once");
    let nothing = t.store.claim_many("late", vec![LeaseToken::new()], now_ms(), 60_000).await.unwrap();
    assert!(nothing.is_empty());
    if t.store.dialect() == "postgres" {
        let pool = sqlx::PgPool::connect(&t.db.url).await.unwrap();
        let (transactions,): (i64,) =
            sqlx::query_as("SELECT count(DISTINCT xmin::text) FROM invalidations").fetch_one(&pool).await.unwrap();
        assert!(transactions <= 6, "10 concurrent claims took {transactions} transactions");
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

/// SQLite: a write through the pool (settings, team, keys) takes its pool
/// connection before its turn at the writer. While it waits for a connection
/// (here the pool's only one is held), the writer is not paused and
/// submissions commit; the write goes on once a connection is free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_waiting_for_a_pool_connection_does_not_pause_the_writer() {
    use imgflush::backend::store::{connect_sized, PoolSize, SessionDb};
    use std::time::{Duration, Instant};

    let t = TestApp::new(Db::Sqlite).await;
    let user = t.user("ci@example.com", Role::Editor, &t.demo).await;
    let connected = connect_sized(&t.db.url, PoolSize { max_connections: 1 }).await.unwrap();
    let SessionDb::Sqlite(pool) = &connected.sessions else { panic!("a SQLite store") };
    let store = connected.store.clone();
    let held = pool.acquire().await.unwrap();
    let rare = {
        let (store, project) = (store.clone(), t.demo.id);
        tokio::spawn(async move { store.set_retention_days(project, 30).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    store.insert_invalidation(&new_invalidation(t.demo.id, user, "/while-waiting.jpg")).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(1), "the writer waited {:?}", started.elapsed());
    assert!(!rare.is_finished(), "the settings write waits for the held connection");
    drop(held);
    rare.await.unwrap().unwrap();
    assert_eq!(store.retention_days(t.demo.id).await.unwrap(), 30);
}

db_test!(a_submission_stored_leased_is_claimed_already, |t: TestApp| async move {
    // What the console does for a job going straight to its idle worker:
    // stored under a lease (its first claim), in the same batch as queued ones.
    let user = t.user("ci@example.com", Role::Editor, &t.demo).await;
    let lease = |until_ms: i64| NewLease { owner: "beside".into(), token: LeaseToken::new(), until_ms };
    let mut handed = new_invalidation(t.demo.id, user, "/handed.jpg");
    handed.lease = Some(lease(now_ms() + 60_000));
    let queued = new_invalidation(t.demo.id, user, "/queued.jpg");
    let (handed_id, queued_id) = (handed.id, queued.id);
    let calls = [handed, queued].map(|new| {
        let store = t.store.clone();
        tokio::spawn(async move { store.insert_invalidation(&new).await.unwrap() })
    });
    let stored: Vec<Inserted> = futures::future::join_all(calls).await.into_iter().map(Result::unwrap).collect();
    for s in &stored {
        assert_eq!(s.invalidation.status, Status::Received);
        assert!(s.setup_version.is_some(), "the setup version a claim would give");
    }
    // Only the queued one is left to claim.
    let claimed =
        t.store.claim_many("other", vec![LeaseToken::new(), LeaseToken::new()], now_ms(), 60_000).await.unwrap();
    assert_eq!(claimed.iter().map(|c| c.job.id).collect::<Vec<_>>(), [queued_id]);
    assert_eq!(claimed[0].claims, 1);
    assert!(claimed.iter().all(|c| c.job.id != handed_id));

    // A leased job whose worker never ran it is claimed once the lease ends,
    // as its second claim.
    let mut orphan = new_invalidation(t.demo.id, user, "/orphan.jpg");
    orphan.lease = Some(lease(now_ms() - 1));
    let orphan_id = orphan.id;
    let stored = t.store.insert_invalidation(&orphan).await.unwrap();
    let claimed = t.store.claim_many("rescuer", vec![LeaseToken::new()], now_ms(), 60_000).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].job.id, orphan_id);
    assert_eq!(claimed[0].claims, 2, "the lease it was stored under was its first claim");
    assert_eq!(claimed[0].setup_version, stored.setup_version);
});
