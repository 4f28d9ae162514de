//! Real CDN nodes: two `varnishd` running the shipped VCL in front of a real
//! edge in front of a real origin, purged through the pipeline. Needs
//! Debian's `varnish` + `varnish-modules` (installed by `./scripts/test.sh`
//! before the Rust tests run). Every process is stopped when its owner is
//! dropped, also when an assertion fails.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::stack::{self, fetch, png, Seen, VarnishNode};
use common::{body_text, Db, TestApp};
use imgflush::backend::invalidations::{Detail, Submission};
use imgflush::backend::now_ms;
use imgflush::backend::store::{EdgeSettings, NewTarget};
use imgflush::backend::worker::{Worker, WorkerConfig};
use imgflush::backend::Actor;
use imgflush::domain::probe::Probe;
use imgflush::domain::{InvalidationId, Role, Status, TargetKind};
use tokio_util::sync::CancellationToken;

const NODE_SECRET: &str = "node-secret-1";

/// Origin → edge → two Varnish nodes, all three targets of the demo project.
struct Stack {
    t: TestApp,
    files: stack::Files,
    origin: SocketAddr,
    origin_delay: std::sync::Arc<std::sync::atomic::AtomicU64>,
    origin_hits: std::sync::Arc<std::sync::atomic::AtomicU64>,
    edge: SocketAddr,
    nodes: [VarnishNode; 2],
    client: reqwest::Client,
    actor: Actor,
    worker: Worker,
    stop: CancellationToken,
    _cache: tempfile::TempDir,
}

impl Stack {
    async fn start(db: Db, edge: EdgeSettings) -> Option<Stack> {
        let stack::Console { t, files, origin, addr: console, origin_delay, origin_hits } = stack::console(db).await?;
        stack::set_edge(&t, &t.demo, origin, edge).await;
        let cache = tempfile::tempdir().unwrap();
        let stop = CancellationToken::new();
        let edge = stack::edge(console, cache.path(), stop.clone()).await;
        t.store.add_target(t.demo.id, &edge.target("edge-1", "demo"), now_ms()).await.unwrap();
        let edge = edge.addr;
        let nodes = [VarnishNode::start(edge, NODE_SECRET).await, VarnishNode::start(edge, NODE_SECRET).await];
        let targets = [
            (TargetKind::Varnish, "varnish-1", format!("http://{}/", nodes[0].addr), NODE_SECRET),
            (TargetKind::Varnish, "varnish-2", format!("http://{}/", nodes[1].addr), NODE_SECRET),
        ];
        for (kind, name, url, secret) in targets {
            let new = NewTarget {
                kind,
                name: name.into(),
                url,
                secret: Some(secret.into()),
                settings: Default::default(),
                credentials: None,
            };
            t.store.add_target(t.demo.id, &new, now_ms()).await.unwrap();
        }
        let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
        let worker = t.app.worker(WorkerConfig {
            id: "varnish-test".into(),
            backoff: Duration::from_millis(20),
            // The server's default is 1 s; shorter here, the same behaviour.
            cdn_repeat: Some(Duration::from_millis(300)),
            ..Default::default()
        });
        let client = reqwest::Client::new();
        Some(Stack {
            t,
            files,
            origin,
            origin_delay,
            origin_hits,
            edge,
            nodes,
            client,
            actor,
            worker,
            stop,
            _cache: cache,
        })
    }

    fn url(&self, node: usize, token: &str, file: &str, q: &str) -> String {
        format!("http://{}/{token}/{}/img/{file}?{q}", self.nodes[node].addr, self.origin)
    }

    async fn get(&self, node: usize, file: &str, q: &str) -> Seen {
        fetch(&self.client, &self.url(node, "demo", file, q)).await
    }

    /// Submits through the service as an editor and runs the job to its end.
    async fn invalidate(&self, scope: &str, paths: Option<Vec<String>>) -> Detail {
        let sub = Submission::from_api(scope, paths, None).unwrap();
        let id: InvalidationId =
            self.t.app.services.invalidations.submit(&self.actor, sub).await.unwrap().invalidation.id;
        self.run(id).await
    }

    async fn run(&self, id: InvalidationId) -> Detail {
        self.worker.try_execute_task().await.unwrap().expect("the job");
        self.t.app.services.invalidations.detail(&self.actor, id).await.unwrap()
    }

    fn path(&self, file: &str) -> String {
        format!("/{}/img/{file}", self.origin)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

const VARIANTS: [&str; 3] = ["w=300", "w=500", "w=300&vh=abc"];

/// MISS → HIT on each node; the origin changes and the nodes keep the old
/// bytes; one path invalidation reaches DONE and every variant is a MISS
/// with the new bytes on both nodes, another path stays cached; with
/// verify on, the details page shows each node verified.
async fn path_purge(db: Db) {
    let edge = EdgeSettings { verify: true, ..Default::default() };
    let Some(s) = Stack::start(db, edge).await else { return skipped() };
    let mut before = Vec::new();
    for node in 0..2 {
        for q in VARIANTS {
            assert_eq!(s.get(node, "a.png", q).await.cache, "MISS", "node {node} {q}");
            let hit = s.get(node, "a.png", q).await;
            assert_eq!(hit.cache, "HIT", "node {node} {q}");
            before.push(hit.body);
        }
        s.get(node, "b.png", "w=300").await;
        assert_eq!(s.get(node, "b.png", "w=300").await.cache, "HIT");
    }
    s.files.lock().unwrap().insert("a.png".into(), png([30, 200, 30]));
    for node in 0..2 {
        let still = s.get(node, "a.png", "w=300").await;
        assert_eq!((still.cache.as_str(), &still.body), ("HIT", &before[0]), "node {node}: the old bytes");
    }

    let detail = s.invalidate("original", Some(vec![s.path("a.png")])).await;
    assert_eq!(detail.invalidation.status, Status::Done, "{detail:?}");
    for r in &detail.targets {
        // The edge counts its 3 variants; each node its 3 objects.
        assert_eq!(r.detail.as_deref(), Some("removed 3 cached objects"), "{}: {r:?}", r.name);
        match r.kind {
            TargetKind::Varnish => {
                assert_eq!(r.verified, Some(true), "{}: {r:?}", r.name);
                assert_eq!(r.verify_note.as_deref(), Some("verified: 3 of 3 URLs fetched anew"), "{}", r.name);
            }
            _ => assert_eq!(r.verified, None, "only CDN nodes are verified"),
        }
    }
    for node in 0..2 {
        for (q, old) in VARIANTS.iter().zip(&before) {
            // Verification already fetched the variants anew: HIT, but new bytes.
            let fresh = s.get(node, "a.png", q).await;
            assert_ne!(&fresh.body, old, "node {node} {q}: the new image");
        }
        assert_eq!(s.get(node, "b.png", "w=300").await.cache, "HIT", "node {node}: other paths stay cached");
    }

    // The details page shows the proof per node.
    let cookie = s.t.login("editor@example.com").await;
    let page =
        body_text(s.t.get(&format!("/p/demo/invalidation/{}", detail.invalidation.id), Some(&cookie)).await).await;
    let shown = r#"data-testid="verified" class="proof proof-ok">verified: 3 of 3 URLs fetched anew<"#;
    assert_eq!(page.matches(shown).count(), 2, "one proof per node: {page}");
}

/// A prefix invalidation bans `/img/a*` on both nodes (b.png stays), an
/// `all` invalidation empties the token on both nodes; another token's
/// objects stay cached throughout.
async fn prefix_and_all(db: Db) {
    let Some(s) = Stack::start(db, EdgeSettings::default()).await else { return skipped() };
    let other = s.t.project("other").await;
    stack::set_edge(&s.t, &other, s.origin, EdgeSettings::default()).await;
    // The edge reads the new project's settings within its poll interval.
    let other_url = |node: usize| s.url(node, "other", "a.png", "w=300");
    for node in 0..2 {
        let deadline = Instant::now() + Duration::from_secs(10);
        while s.client.get(other_url(node)).send().await.unwrap().status() != 200 {
            assert!(Instant::now() < deadline, "the edge never learnt about project `other`");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for file in ["a.png", "b.png"] {
            s.get(node, file, "w=300").await;
            assert_eq!(s.get(node, file, "w=300").await.cache, "HIT");
        }
        assert_eq!(fetch(&s.client, &other_url(node)).await.cache, "HIT");
    }

    let prefix = format!("/{}/img/a*", s.origin);
    let detail = s.invalidate("original", Some(vec![prefix])).await;
    assert_eq!(detail.invalidation.status, Status::Done, "{detail:?}");
    for r in detail.targets.iter().filter(|r| r.kind == TargetKind::Varnish) {
        assert_eq!(r.detail.as_deref(), Some("1 ban accepted"), "{}", r.name);
    }
    for node in 0..2 {
        assert_eq!(s.get(node, "a.png", "w=300").await.cache, "MISS", "node {node}: under the prefix");
        assert_eq!(s.get(node, "b.png", "w=300").await.cache, "HIT", "node {node}: outside the prefix");
        assert_eq!(fetch(&s.client, &other_url(node)).await.cache, "HIT", "node {node}: another token");
    }

    let detail = s.invalidate("all", None).await;
    assert_eq!(detail.invalidation.status, Status::Done, "{detail:?}");
    for node in 0..2 {
        for file in ["a.png", "b.png"] {
            assert_eq!(s.get(node, file, "w=300").await.cache, "MISS", "node {node} {file}: the whole token");
        }
        assert_eq!(fetch(&s.client, &other_url(node)).await.cache, "HIT", "node {node}: another token");
    }
}

/// A tag purge: the origin labels `a.png` `file-a` for both projects; an
/// invalidation of demo's `file-a` removes demo's `a.png` on both nodes (by
/// the tag's project key, through the edge's `xkey`), and neither demo's
/// `b.png` nor project `other`'s `a.png`, which carries the same tag name.
async fn tag_purge(db: Db) {
    let Some(s) = Stack::start(db, EdgeSettings::default()).await else { return skipped() };
    let other = s.t.project("other").await;
    stack::set_edge(&s.t, &other, s.origin, EdgeSettings::default()).await;
    let other_url = |node: usize| s.url(node, "other", "a.png", "w=300");
    for node in 0..2 {
        let deadline = Instant::now() + Duration::from_secs(10);
        while s.client.get(other_url(node)).send().await.unwrap().status() != 200 {
            assert!(Instant::now() < deadline, "the edge never learnt about project `other`");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for file in ["a.png", "b.png"] {
            s.get(node, file, "w=300").await;
            assert_eq!(s.get(node, file, "w=300").await.cache, "HIT");
        }
        assert_eq!(fetch(&s.client, &other_url(node)).await.cache, "HIT");
    }
    let sub = Submission::from_api_with_tags("tag", None, Some(vec!["file-a".into()]), None).unwrap();
    let id = s.t.app.services.invalidations.submit(&s.actor, sub).await.unwrap().invalidation.id;
    let detail = s.run(id).await;
    assert_eq!(detail.invalidation.status, Status::Done, "{detail:?}");
    for r in detail.targets.iter().filter(|r| r.kind == TargetKind::Varnish) {
        assert_eq!(r.detail.as_deref(), Some("removed 1 cached object"), "{}", r.name);
    }
    for node in 0..2 {
        assert_eq!(s.get(node, "a.png", "w=300").await.cache, "MISS", "node {node}: tagged");
        assert_eq!(s.get(node, "b.png", "w=300").await.cache, "HIT", "node {node}: not tagged");
        assert_eq!(fetch(&s.client, &other_url(node)).await.cache, "HIT", "node {node}: another project's tag");
    }
    // "Check now": each node answers from its cache only.
    let located =
        s.t.app.services.projects.locate_url_in(&s.actor, &format!("/demo{}?w=300", s.path("a.png"))).unwrap();
    let probes = s.t.app.services.targets.probe(&s.actor, &located).await.unwrap();
    for p in probes.iter().filter(|p| p.kind == TargetKind::Varnish) {
        assert!(matches!(p.state, Probe::Cached { stale: false, .. }), "{p:?}");
    }
    let unseen = s.t.app.services.projects.locate_url_in(&s.actor, &format!("/demo{}?w=7", s.path("a.png"))).unwrap();
    let probes = s.t.app.services.targets.probe(&s.actor, &unseen).await.unwrap();
    for p in probes.iter().filter(|p| p.kind == TargetKind::Varnish) {
        assert_eq!(p.state, Probe::NotCached, "{p:?}");
    }
    assert_eq!(s.get(0, "a.png", "w=7").await.cache, "MISS", "the probe filled nothing");
}

/// Soft purge: after DONE the first request is the stale copy, served at
/// once although the origin takes a second; the node refetches in the
/// background, and once that fetch is done the next answer is fresh.
async fn soft_purge(db: Db) {
    let edge = EdgeSettings { soft_purge: true, ..Default::default() };
    let Some(s) = Stack::start(db, edge).await else { return skipped() };
    let mut old = Vec::new();
    for node in 0..2 {
        s.get(node, "a.png", "w=300").await;
        old.push(s.get(node, "a.png", "w=300").await.body);
    }
    s.files.lock().unwrap().insert("a.png".into(), png([30, 200, 30]));
    s.origin_delay.store(1000, Ordering::Relaxed);

    let detail = s.invalidate("original", Some(vec![s.path("a.png")])).await;
    assert_eq!(detail.invalidation.status, Status::Done, "{detail:?}");
    for r in detail.targets.iter().filter(|r| r.kind == TargetKind::Varnish) {
        assert_eq!(r.detail.as_deref(), Some("removed 1 cached object (soft)"), "{}", r.name);
    }
    for (node, old) in old.iter().enumerate() {
        let started = Instant::now();
        let stale = s.get(node, "a.png", "w=300").await;
        assert!(
            started.elapsed() < Duration::from_millis(700),
            "node {node}: the stale copy did not wait for the origin"
        );
        assert_eq!((stale.cache.as_str(), &stale.body), ("HIT", old), "node {node}: stale first");
        // Wait for the background fetch: the node answers the new bytes once it is stored.
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let seen = s.get(node, "a.png", "w=300").await;
            if &seen.body != old {
                assert_eq!(seen.cache, "HIT", "node {node}: refreshed in the background, not on this request");
                break;
            }
            assert!(Instant::now() < deadline, "node {node}: the background fetch never finished");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A request in flight through node 0 while its path is invalidated: the
/// origin is slow and sends the old image, which changed meanwhile, and the
/// invalidation reaches DONE before that answer. Once DONE, both nodes and
/// the edge answer the new image: node 0 did not store what the edge made
/// before its purge, and node 1, asking the edge while the old fill is still
/// running, gets a fetch of its own. `purged`: the path or a prefix of it.
async fn fill_in_flight(db: Db, prefix: bool) {
    let Some(s) = Stack::start(db, EdgeSettings::default()).await else { return skipped() };
    s.origin_delay.store(2000, Ordering::SeqCst);
    let slow = tokio::spawn({
        let (client, url) = (s.client.clone(), s.url(0, "demo", "a.png", "w=300"));
        async move { fetch(&client, &url).await }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.origin_hits.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the request never reached the origin");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    s.files.lock().unwrap().insert("a.png".into(), png([30, 200, 30]));
    s.origin_delay.store(0, Ordering::SeqCst);

    let purged = if prefix { format!("/{}/img/a*", s.origin) } else { s.path("a.png") };
    let detail = s.invalidate("original", Some(vec![purged])).await;
    assert_eq!(detail.invalidation.status, Status::Done, "{detail:?}");
    assert!(!slow.is_finished(), "the old image was still on its way at DONE");
    let new = s.get(1, "a.png", "w=300").await.body;
    let old = slow.await.unwrap().body;
    assert_ne!(new, old, "node 1 after DONE: the new image");

    for node in 0..2 {
        for _ in 0..2 {
            assert_eq!(s.get(node, "a.png", "w=300").await.body, new, "node {node} after DONE");
        }
    }
    let at_edge = format!("http://{}/demo/{}/img/a.png?w=300", s.edge, s.origin);
    assert_eq!(fetch(&s.client, &at_edge).await.body, new, "the edge after DONE");
}

async fn fill_in_flight_path(db: Db) {
    fill_in_flight(db, false).await
}

async fn fill_in_flight_prefix(db: Db) {
    fill_in_flight(db, true).await
}

/// A stopped node: ERROR_CDN_NODE naming it, the other node purged. The node
/// comes back; Retry → DONE, and only that node received the second purge.
async fn stopped_node_then_retry(db: Db) {
    let Some(mut s) = Stack::start(db, EdgeSettings::default()).await else { return skipped() };
    for node in 0..2 {
        s.get(node, "b.png", "w=300").await;
    }
    s.nodes[1].stop();
    let detail = s.invalidate("original", Some(vec![s.path("b.png")])).await;
    let id = detail.invalidation.id;
    assert_eq!(detail.invalidation.status, Status::ErrorCdnNode, "{detail:?}");
    let error = detail.invalidation.error.clone().unwrap_or_default();
    assert!(error.contains("varnish-2") && !error.contains("varnish-1"), "{error}");
    assert_eq!(s.get(0, "b.png", "w=300").await.cache, "MISS", "the running node was purged");

    s.nodes[1].restart().await;
    s.t.app.services.invalidations.retry(&s.actor, id).await.unwrap();
    let detail = s.run(id).await;
    assert_eq!(detail.invalidation.status, Status::Done, "{detail:?}");
    let mine = |log: Vec<String>| log.into_iter().filter(|l| l.starts_with(&format!("id={id} "))).count();
    // Each purge is repeated once (`cdn_repeat`).
    assert_eq!(mine(s.nodes[0].purge_log()), 2, "varnish-1 was purged before the Retry only");
    assert_eq!(mine(s.nodes[1].purge_log()), 2, "varnish-2 was purged by the Retry");
    let attempts: Vec<(String, i32)> = detail.targets.iter().map(|r| (r.name.clone(), r.attempts)).collect();
    let default_attempts = WorkerConfig::default().max_attempts as i32;
    assert_eq!(
        attempts,
        [("edge-1".to_owned(), 1), ("varnish-1".to_owned(), 1), ("varnish-2".to_owned(), default_attempts + 1)],
        "only the failed node was called again"
    );
}

/// Automatic format through the nodes: Chromium's, an old Safari's and
/// curl's Accept get AVIF, WebP and PNG, each cached once per node whatever
/// the browser string (the VCL reduces Accept to the edge's classes); one
/// path invalidation removes every format on the edge and on both nodes.
async fn format_variants(db: Db) {
    let edge = EdgeSettings { auto_format: true, ..Default::default() };
    let Some(s) = Stack::start(db, edge).await else { return skipped() };
    let get = |node: usize, accept: &'static str| {
        let url = s.url(node, "demo", "a.png", "w=300");
        let client = s.client.clone();
        async move {
            let resp = client.get(&url).header("accept", accept).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{url}");
            let h = |n: &str| resp.headers().get(n).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            let (cache, kind, vary) = (h("x-cache"), h("content-type"), h("vary"));
            (cache, kind, vary, resp.bytes().await.unwrap().to_vec())
        }
    };
    const CHROME: &str = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
    const FIREFOX: &str = "image/avif,image/webp,*/*";
    const SAFARI: &str = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5";
    let mut before = Vec::new();
    for node in 0..2 {
        for (accept, kind) in [(CHROME, "image/avif"), (SAFARI, "image/webp"), ("*/*", "image/png")] {
            let (cache, got, vary, body) = get(node, accept).await;
            assert_eq!((cache.as_str(), got.as_str()), ("MISS", kind), "node {node} {accept}");
            assert!(vary.to_ascii_lowercase().contains("accept"), "node {node}: Vary {vary:?}");
            before.push(body);
        }
        // Another browser string of the AVIF class: the same object.
        let (cache, got, _, body) = get(node, FIREFOX).await;
        assert_eq!((cache.as_str(), got.as_str()), ("HIT", "image/avif"), "node {node}");
        assert_eq!(body, before[node * 3]);
    }
    s.files.lock().unwrap().insert("a.png".into(), png([30, 200, 30]));
    let detail = s.invalidate("original", Some(vec![s.path("a.png")])).await;
    assert_eq!(detail.invalidation.status, Status::Done, "{detail:?}");
    for r in &detail.targets {
        // Three formats of one URL: three objects on the edge and on each node.
        assert_eq!(r.detail.as_deref(), Some("removed 3 cached objects"), "{}: {r:?}", r.name);
    }
    for node in 0..2 {
        for (i, (accept, kind)) in
            [(FIREFOX, "image/avif"), (SAFARI, "image/webp"), ("text/html", "image/png")].into_iter().enumerate()
        {
            let (cache, got, _, body) = get(node, accept).await;
            assert_eq!(got, kind, "node {node} {accept}");
            assert_ne!(body, before[node * 3 + i], "node {node} {accept}: the new image ({cache})");
        }
    }
}

fn skipped() {
    eprintln!("TEST_DATABASE_URL not set: PostgreSQL half skipped");
}

macro_rules! both {
    ($name:ident) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(Db::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(Db::Postgres).await;
            }
        }
    };
}

both!(path_purge);
both!(prefix_and_all);
both!(tag_purge);
both!(soft_purge);
both!(stopped_node_then_retry);
both!(fill_in_flight_path);
both!(fill_in_flight_prefix);
both!(format_variants);
