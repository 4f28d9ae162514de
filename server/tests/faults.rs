//! The worker under faults: leases that belong to one claim, poison jobs,
//! Retry reaching new targets, and the database going away mid-job.
//! Both databases; the PostgreSQL outage closes the test's own database to new
//! connections and terminates its backends, the SQLite hiccup holds the write lock.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::recorder::Recorder;
use common::*;
use imgflush::backend::invalidations::{PathsInput, Submission};
use imgflush::backend::now_ms;
use imgflush::backend::store::{
    Invalidation, JobChange, LeaseToken, NewTarget, StoreError, TargetOutcome, TargetState,
};
use imgflush::backend::worker::WorkerConfig;
use imgflush::backend::Actor;
use imgflush::domain::{InvalidationId, Role, Scope, Status, TargetKind};
use sqlx::Connection;
use tokio_util::sync::CancellationToken;

fn fast(id: &str) -> WorkerConfig {
    WorkerConfig {
        id: id.into(),
        lease: Duration::from_secs(2),
        poll: Duration::from_millis(100),
        concurrency: 2,
        target_timeout: Duration::from_secs(20),
        max_attempts: 2,
        backoff: Duration::from_millis(20),
        max_claims: 5,
        cdn_repeat: None,
        provider_poll: Duration::from_secs(2),
        provider_wait: Duration::from_secs(300),
    }
}

async fn add(t: &TestApp, kind: TargetKind, name: &str, url: String) {
    let new = NewTarget { kind, name: name.into(), url, secret: None, settings: Default::default(), credentials: None };
    t.store.add_target(t.demo.id, &new, now_ms()).await.unwrap();
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

async fn current(t: &TestApp, id: InvalidationId) -> Invalidation {
    t.store.invalidation(t.demo.id, id).await.unwrap()
}

// Waits (bounded) until the invalidation reaches a final status; tolerates
// the database being away meanwhile.
async fn settle(t: &TestApp, id: InvalidationId, within: Duration) -> Invalidation {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(inv) = t.store.invalidation(t.demo.id, id).await {
            if inv.status.is_final() {
                return inv;
            }
        }
        assert!(Instant::now() < deadline, "{id} not final after {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_until(what: &str, within: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !ready() {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn run_worker(t: &TestApp, cfg: WorkerConfig) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let cancel = CancellationToken::new();
    let handle = tokio::spawn(t.app.worker(cfg).run(cancel.clone()));
    (cancel, handle)
}

// ---------------------------------------------------------------- leases ---

// The same worker claims a job a second time (its first claim's lease ran
// out during a pause or a database hiccup): the first claim's task may not
// write anything any more, although the worker id is the same.
db_test!(a_second_claim_by_the_same_worker_fences_off_the_first, |t: TestApp| async move {
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let inv = submit(&t, &actor, &["/a.jpg"]).await;
    let first = LeaseToken::new();
    // A lease that is already over, as after a 30 s pause.
    let claimed = t.store.claim("w1", &first, now_ms(), -1).await.unwrap().expect("the job");
    assert_eq!((claimed.job.id, claimed.claims), (inv.id, 1));

    // The same worker id claims it again in another task, and finishes it.
    let worker = t.app.worker(fast("w1"));
    let done = worker.try_execute_task().await.unwrap().expect("claimed again");
    assert_eq!(done.id, inv.id);
    assert_eq!(current(&t, inv.id).await.status, Status::Done);

    // The first task wakes up: every write with its token is refused.
    let now = now_ms();
    let outcome = TargetOutcome {
        target_id: 1,
        state: TargetState::Ok,
        attempts: 1,
        detail: None,
        duration_ms: 1,
        verified: None,
        verify_note: None,
    };
    let refused = [
        t.store.extend_lease(inv.id, &first, now, 60_000).await,
        t.store
            .apply(inv.id, &first, vec![JobChange::Status { status: Status::Preparing, note: None, at_ms: now }])
            .await,
        t.store.apply(inv.id, &first, vec![JobChange::Targets { targets: vec![], at_ms: now }]).await,
        t.store.apply(inv.id, &first, vec![JobChange::Target { outcome, at_ms: now }]).await,
        t.store.finish(inv.id, &first, Status::Error, Some("stale"), None, now).await,
    ];
    for r in refused {
        assert!(matches!(r, Err(StoreError::LeaseLost)), "{r:?}");
    }
    let after = current(&t, inv.id).await;
    assert_eq!((after.status, after.error), (Status::Done, None));
});

// A live claim fences off a concurrent one with the same owner name: the
// token, not the worker id, is what every write checks.
db_test!(a_live_lease_is_not_claimed_again_even_by_its_own_worker, |t: TestApp| async move {
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    submit(&t, &actor, &["/a.jpg"]).await;
    let held = LeaseToken::new();
    t.store.claim("w1", &held, now_ms(), 60_000).await.unwrap().expect("the job");
    let again = t.store.claim("w1", &LeaseToken::new(), now_ms(), 60_000).await.unwrap();
    assert!(again.is_none(), "a live lease was claimed again");
    assert!(t.app.worker(fast("w1")).try_execute_task().await.unwrap().is_none());
});

// ----------------------------------------------------------- poison jobs ---

// A job whose workers keep dying (here: claims that never finish) ends
// `ERROR` with a note after `max_claims` claims; Retry starts the count anew.
db_test!(a_job_abandoned_by_max_claims_workers_ends_error_and_retry_runs_it, |t: TestApp| async move {
    let edge = Recorder::start().await;
    add(&t, TargetKind::Edge, "edge", edge.url("/purge")).await;
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let inv = submit(&t, &actor, &["/a.jpg"]).await;
    let mut cfg = fast("survivor");
    cfg.max_claims = 3;
    let worker = t.app.worker(cfg);

    for n in 1..=3 {
        // Each of these workers "crashes" at once: its lease is already over.
        let c = t.store.claim(&format!("crashing-{n}"), &LeaseToken::new(), now_ms(), -1).await.unwrap();
        assert_eq!(c.expect("the job").claims, n);
    }
    worker.try_execute_task().await.unwrap().expect("the job");
    let failed = current(&t, inv.id).await;
    assert_eq!(failed.status, Status::Error);
    let error = failed.error.unwrap();
    assert!(error.starts_with("abandoned by 3 workers in a row: "), "{error}");
    assert_eq!(edge.count(), 0, "a poison job is not run again");

    t.app.services.invalidations.retry(&actor, inv.id).await.unwrap();
    worker.try_execute_task().await.unwrap().expect("the retried job");
    let done = current(&t, inv.id).await;
    assert_eq!((done.status, done.attempt), (Status::Done, 2), "{:?}", done.error);
    assert_eq!(edge.count(), 1);
});

// ----------------------------------------------------------------- retry ---

// A target added after the first run is purged by Retry; targets that
// already succeeded are not called again.
db_test!(retry_purges_a_target_added_since_the_first_run, |t: TestApp| async move {
    let edge = Recorder::start().await;
    let bad = Recorder::start().await;
    let late = Recorder::start().await;
    bad.respond_with(500);
    add(&t, TargetKind::Edge, "edge", edge.url("/purge")).await;
    add(&t, TargetKind::Webhook, "hook", bad.url("/hook")).await;
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let inv = submit(&t, &actor, &["/a.jpg"]).await;
    let worker = t.app.worker(fast("w1"));
    worker.try_execute_task().await.unwrap().expect("the job");
    assert_eq!(current(&t, inv.id).await.status, Status::ErrorCdnNode);

    add(&t, TargetKind::Varnish, "varnish-late", late.url("/")).await;
    bad.respond_with(204);
    t.app.services.invalidations.retry(&actor, inv.id).await.unwrap();
    worker.try_execute_task().await.unwrap().expect("the retried job");
    let done = current(&t, inv.id).await;
    assert_eq!(done.status, Status::Done, "{:?}", done.error);
    assert_eq!((edge.count(), bad.count(), late.count()), (1, 3, 1), "edge skipped, hook again, new target once");
    let detail = t.app.services.invalidations.detail(&actor, inv.id).await.unwrap();
    let states: Vec<(&str, TargetState)> = detail.targets.iter().map(|r| (r.name.as_str(), r.state)).collect();
    assert_eq!(states, [("edge", TargetState::Ok), ("hook", TargetState::Ok), ("varnish-late", TargetState::Ok)]);
});

// ------------------------------------------------------- database faults ---

// The test's own PostgreSQL database, closed to new connections with its
// backends terminated; reopened by [`PgOutage::end`].
struct PgOutage {
    admin: sqlx::PgPool,
    name: String,
}

impl PgOutage {
    async fn begin(db_url: &str) -> PgOutage {
        let admin = sqlx::PgPool::connect(&std::env::var("TEST_DATABASE_URL").unwrap()).await.unwrap();
        let name = db_url.rsplit('/').next().unwrap().to_owned();
        assert!(name.starts_with("imgflush_test_"), "only a test database may be cut: {name}");
        sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).execute(&admin).await.unwrap();
        sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&name)
        .execute(&admin)
        .await
        .unwrap();
        PgOutage { admin, name }
    }

    async fn end(self) {
        let name = &self.name;
        sqlx::query(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).execute(&self.admin).await.unwrap();
        self.admin.close().await;
    }
}

// What holds the database away: PostgreSQL closed, or SQLite's write lock held.
enum Fault {
    Pg(PgOutage),
    Sqlite(sqlx::SqliteConnection),
}

impl Fault {
    async fn begin(t: &TestApp) -> Fault {
        if t.db.url.starts_with("postgres") {
            Fault::Pg(PgOutage::begin(&t.db.url).await)
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&t.db.url).await.unwrap();
            sqlx::query("BEGIN IMMEDIATE").execute(&mut conn).await.unwrap();
            Fault::Sqlite(conn)
        }
    }

    async fn end(self) {
        match self {
            Fault::Pg(outage) => outage.end().await,
            Fault::Sqlite(mut conn) => {
                sqlx::query("COMMIT").execute(&mut conn).await.unwrap();
                conn.close().await.unwrap();
            }
        }
    }
}

// Two workers; the edge hangs on its first call far past the lease; while it
// hangs the database goes away for longer than the lease (PostgreSQL: closed
// and its connections killed; SQLite: the write lock held), then comes back.
// The worker that lost its lease drops its call before the lease ends, the
// job is taken over and ends DONE, every target answered at least once for
// the attempt, and no target was ever called by two claims at once.
db_test!(two_workers_a_hanging_target_and_a_lost_database_end_done_without_overlap, |t: TestApp| async move {
    let edge = Recorder::start().await;
    let cdn = Recorder::start().await;
    add(&t, TargetKind::Edge, "edge", edge.url("/purge")).await;
    add(&t, TargetKind::Varnish, "cdn", cdn.url("/")).await;
    edge.hang_next(1, 8_000);
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let mut first = fast("w1");
    first.concurrency = 1;
    let (c1, w1) = run_worker(&t, first);

    let inv = submit(&t, &actor, &["/a.jpg", "/b/*"]).await;
    wait_until("the first edge call", Duration::from_secs(10), || edge.in_flight() == 1).await;
    let fault = Fault::begin(&t).await;
    // A second worker, eager to take over the moment the database is back.
    let mut eager = fast("w2");
    eager.poll = Duration::from_millis(20);
    let (c2, w2) = run_worker(&t, eager);
    // Longer than the lease (2 s): the claim holding the job cannot renew it.
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    assert_eq!(edge.in_flight(), 0, "the call of a claim whose lease could not be renewed was not dropped");
    fault.end().await;

    let done = settle(&t, inv.id, Duration::from_secs(30)).await;
    assert_eq!(done.status, Status::Done, "{:?}", done.error);
    for (name, r) in [("edge", &edge), ("cdn", &cdn)] {
        let overlaps = r.overlapping();
        assert!(overlaps.is_empty(), "{name} was called by two claims at once: {overlaps:?}");
        let answered = r.calls().iter().filter(|c| c.answered).count();
        assert!(answered >= 1, "{name} was never purged to the end");
    }
    assert!(edge.calls().len() >= 2, "the dropped edge call was made again");
    let events = t.store.events(inv.id).await.unwrap();
    assert!(events.iter().any(|e| e.note.as_deref().is_some_and(|n| n.starts_with("resumed by"))), "{events:?}");
    c1.cancel();
    c2.cancel();
    w1.await.unwrap();
    w2.await.unwrap();
});

// A claimer whose clock runs ahead of the holder's (another machine; here a
// claim stamped 5 s ahead) while the holder calls a slow target under a
// lease it keeps renewing: when a lease ends is decided on the database's
// clock, so the live lease is not taken, the call runs to its end and the
// target is called once. Before, a claim compared the holder's wall-clock
// lease end with its own clock and took the job: two claims purging at
// once. PostgreSQL only: SQLite is one machine's file, its processes share
// one clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claimer_whose_clock_runs_ahead_does_not_take_a_live_lease() {
    let Some(t) = TestApp::try_new(Db::Postgres).await else {
        eprintln!("TEST_DATABASE_URL not set: skipped");
        return;
    };
    let edge = Recorder::start().await;
    add(&t, TargetKind::Edge, "edge", edge.url("/purge")).await;
    // Longer than the lease (2 s): the holder renews it meanwhile.
    edge.hang_next(1, 3_000);
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let mut holder = fast("w1");
    holder.concurrency = 1;
    let (c1, w1) = run_worker(&t, holder);
    let inv = submit(&t, &actor, &["/a.jpg"]).await;
    wait_until("the edge call", Duration::from_secs(10), || edge.in_flight() == 1).await;

    let until = Instant::now() + Duration::from_millis(2_500);
    while Instant::now() < until {
        let ahead = t.store.claim("w2", &LeaseToken::new(), now_ms() + 5_000, 2_000).await.unwrap();
        assert!(ahead.is_none(), "a claimer 5 s ahead took the live lease of a job being purged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let done = settle(&t, inv.id, Duration::from_secs(30)).await;
    assert_eq!(done.status, Status::Done, "{:?}", done.error);
    let calls = edge.calls();
    assert_eq!(calls.len(), 1, "one call, answered: the lease held throughout: {calls:?}");
    assert!(calls[0].answered && edge.overlapping().is_empty(), "{calls:?}");
    c1.cancel();
    w1.await.unwrap();
}

// A TCP relay between one worker's pool and PostgreSQL that can hold every
// byte (a worker cut off from the database while the others still reach it).
struct Relay {
    addr: std::net::SocketAddr,
    held: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Relay {
    async fn start(to: &str) -> Relay {
        use std::sync::atomic::{AtomicBool, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let held = std::sync::Arc::new(AtomicBool::new(false));
        let (to, flag) = (to.to_owned(), held.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&to).await else { continue };
                let ((cr, cw), (sr, sw)) = (client.into_split(), server.into_split());
                let pipe = |mut from: tokio::net::tcp::OwnedReadHalf,
                            mut into: tokio::net::tcp::OwnedWriteHalf,
                            flag: std::sync::Arc<AtomicBool>| async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    while let Ok(n) = from.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        while flag.load(Ordering::SeqCst) {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        if into.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                };
                tokio::spawn(pipe(cr, sw, flag.clone()));
                tokio::spawn(pipe(sr, cw, flag.clone()));
            }
        });
        Relay { addr, held }
    }

    fn hold(&self, on: bool) {
        self.held.store(on, std::sync::atomic::Ordering::SeqCst);
    }
}

// Two workers; the first reaches PostgreSQL through a relay. While it calls a
// hanging edge, its relay holds every byte: its renewals are sent but never
// reach the database, which the second worker still reaches. The second claims
// the job the moment the lease ends on the database; the first has dropped
// its call before that, on its own clock: the edge is never called by two
// claims at once, and the job ends DONE. (SQLite has no per-process path to
// cut: its outage is the shared write lock, in the test above.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewals_that_cannot_reach_the_database_stop_the_calls_before_another_claim() {
    let Some(t) = TestApp::try_new(Db::Postgres).await else {
        eprintln!("TEST_DATABASE_URL not set: skipped");
        return;
    };
    let edge = Recorder::start().await;
    let cdn = Recorder::start().await;
    add(&t, TargetKind::Edge, "edge", edge.url("/purge")).await;
    add(&t, TargetKind::Varnish, "cdn", cdn.url("/")).await;
    edge.hang_next(1, 8_000);
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;

    let (host_port, rest) = t.db.url.split_once('@').unwrap().1.split_once('/').unwrap();
    let relay = Relay::start(host_port).await;
    let cut_off = imgflush::backend::store::connect(&format!("postgres://postgres@{}/{rest}", relay.addr))
        .await
        .expect("the relayed store");
    let network = imgflush::backend::network::NetworkPolicy::parse(&["127.0.0.0/8"]).unwrap();
    let mut first = fast("w1");
    first.concurrency = 1;
    let c1 = CancellationToken::new();
    let w1 = imgflush::backend::worker::Worker::new(cut_off.store, Default::default(), first).with_network(network);
    let w1 = tokio::spawn(w1.run(c1.clone()));

    let inv = submit(&t, &actor, &["/a.jpg"]).await;
    wait_until("the first edge call", Duration::from_secs(10), || edge.in_flight() == 1).await;
    relay.hold(true);
    let mut eager = fast("w2");
    eager.poll = Duration::from_millis(20);
    let (c2, w2) = run_worker(&t, eager);

    let done = settle(&t, inv.id, Duration::from_secs(30)).await;
    assert_eq!(done.status, Status::Done, "{:?}", done.error);
    let calls = edge.calls();
    assert!(calls.len() >= 2 && !calls[0].answered, "the first call was dropped, the job taken over: {calls:?}");
    let overlaps = edge.overlapping();
    assert!(overlaps.is_empty(), "the edge was called by two claims at once: {overlaps:?}");
    relay.hold(false);
    c1.cancel();
    c2.cancel();
    w2.await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(10), w1).await;
}

// During a PostgreSQL outage the API and the console answer 503 with
// `Retry-After` and say why, `/readyz` fails; once the database is back the
// same process answers again without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_answers_503_with_retry_after_and_recovers() {
    let Some(t) = TestApp::try_new(Db::Postgres).await else {
        eprintln!("TEST_DATABASE_URL not set: skipped");
        return;
    };
    let admin = t.actor("admin@example.com", Role::Admin, &t.demo).await;
    let (_, key) = t.app.services.keys.create(&admin, "ci", "editor").await.unwrap();
    t.user("editor@example.com", Role::Editor, &t.demo).await;
    let cookie = t.login("editor@example.com").await;
    let api = |key: &str| {
        Request::get("/api/v1/invalidations").header(header::AUTHORIZATION, format!("Bearer {key}")).body(Body::empty())
    };
    assert_eq!(t.send(api(&key).unwrap()).await.status(), StatusCode::OK);

    let outage = PgOutage::begin(&t.db.url).await;
    let resp = t.send(api(&key).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "5");
    let body = body_json(resp).await;
    assert_eq!(body["code"], "unavailable");
    assert_eq!(body["message"], "the database is unavailable; retry in 5 s");

    let resp = t.server_fn(&cookie, "list_invalidations", &[("project", "demo")]).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "5");
    let text = body_text(resp).await;
    assert!(text.contains("Unavailable"), "{text}");

    let resp = t.get("/p/demo/invalidation", Some(&cookie)).await;
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "a page, not a redirect to the sign-in");
    assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "5");
    assert!(body_text(resp).await.contains("The database is unavailable; retry in 5 s."));

    assert_eq!(t.get("/readyz", None).await.status(), StatusCode::SERVICE_UNAVAILABLE);
    let sign_in = t.login_response("someone@example.com", "whatever-password").await;
    assert_eq!(sign_in.status(), StatusCode::SERVICE_UNAVAILABLE, "sign-in during the outage");
    assert!(sign_in.headers().contains_key("retry-after"));
    outage.end().await;

    let deadline = Instant::now() + Duration::from_secs(10);
    while t.get("/readyz", None).await.status() != StatusCode::OK {
        assert!(Instant::now() < deadline, "/readyz did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(t.send(api(&key).unwrap()).await.status(), StatusCode::OK);
    let resp = t.server_fn(&cookie, "list_invalidations", &[("project", "demo")]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(t.get("/p/demo/invalidation", Some(&cookie)).await.status(), StatusCode::OK);
}
