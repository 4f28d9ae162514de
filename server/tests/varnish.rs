//! Real CDN nodes: two `varnishd` running the shipped VCL in front of a real
//! edge in front of a real origin. An invalidation through the pipeline
//! empties both nodes and the edge; a stopped node ends in ERROR_CDN_NODE
//! naming it. Needs Debian's `varnish` + `varnish-modules` (installed by
//! `./scripts/test.sh` before the Rust tests run).

mod common;

use common::stack::{self, fetch, png, VarnishNode, EDGE_SECRET};
use common::Db;
use imgflush::backend::invalidations::Submission;
use imgflush::backend::now_ms;
use imgflush::backend::store::NewTarget;
use imgflush::backend::worker::WorkerConfig;
use imgflush::domain::{InvalidationId, Role, Status, TargetKind};

const NODE_SECRET: &str = "node-secret-1";

async fn run(db: Db) {
    let Some(stack::Console { t, files, origin, addr: console }) = stack::console(db).await else {
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL half skipped");
        return;
    };
    let cache_dir = tempfile::tempdir().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let edge = stack::edge(console, cache_dir.path(), stop.clone()).await;
    let v1 = VarnishNode::start(edge, NODE_SECRET).await;
    let mut v2 = Some(VarnishNode::start(edge, NODE_SECRET).await);
    let targets = [
        (TargetKind::Edge, "edge-1", format!("http://{edge}/_purge"), EDGE_SECRET),
        (TargetKind::Varnish, "varnish-1", format!("http://{}/", v1.addr), NODE_SECRET),
        (TargetKind::Varnish, "varnish-2", format!("http://{}/", v2.as_ref().unwrap().addr), NODE_SECRET),
    ];
    for (kind, name, url, secret) in targets {
        let new = NewTarget { kind, name: name.into(), url, secret: Some(secret.into()) };
        t.store.add_target(t.demo.id, &new, now_ms()).await.unwrap();
    }
    let nodes = [v1.addr, v2.as_ref().unwrap().addr];
    let client = reqwest::Client::new();
    let url = |node: std::net::SocketAddr, file: &str, q: &str| format!("http://{node}/demo/{origin}/img/{file}?{q}");
    let variants = ["w=32", "w=16", "w=32&vh=abc"];

    let mut before = Vec::new();
    for node in nodes {
        for q in variants {
            assert_eq!(fetch(&client, &url(node, "a.png", q)).await.cache, "MISS", "{node} {q}");
            let hit = fetch(&client, &url(node, "a.png", q)).await;
            assert_eq!(hit.cache, "HIT", "{node} {q}");
            before.push(hit.body);
        }
        fetch(&client, &url(node, "b.png", "w=32")).await;
        assert_eq!(fetch(&client, &url(node, "b.png", "w=32")).await.cache, "HIT");
    }

    // The origin changes; both nodes keep serving what they cached.
    files.lock().unwrap().insert("a.png".into(), png([30, 200, 30]));
    for node in nodes {
        let still = fetch(&client, &url(node, "a.png", "w=32")).await;
        assert_eq!((still.cache.as_str(), &still.body), ("HIT", &before[0]), "{node}");
    }

    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let worker = t.app.worker(WorkerConfig {
        id: "varnish-test".into(),
        backoff: std::time::Duration::from_millis(20),
        ..Default::default()
    });
    let invalidate = |path: String| {
        let (t, actor, worker) = (&t, &actor, &worker);
        async move {
            let sub = Submission::from_api("original", Some(vec![path]), None).unwrap();
            let id: InvalidationId = t.app.services.invalidations.submit(actor, sub).await.unwrap().invalidation.id;
            worker.try_execute_task().await.unwrap().expect("the job");
            t.app.services.invalidations.detail(actor, id).await.unwrap()
        }
    };
    let detail = invalidate(format!("/{origin}/img/a.png")).await;
    assert_eq!(detail.invalidation.status, Status::Done, "{detail:?}");
    for r in &detail.targets {
        // The edge counts its 3 variants; each node its 3 objects.
        assert_eq!(r.detail.as_deref(), Some("removed 3 cached objects"), "{}: {r:?}", r.name);
    }
    for node in nodes {
        for (q, old) in variants.iter().zip(&before) {
            let fresh = fetch(&client, &url(node, "a.png", q)).await;
            assert_eq!(fresh.cache, "MISS", "{node} {q}: fetched again after DONE");
            assert_ne!(&fresh.body, old, "{node} {q}: the new image");
        }
        assert_eq!(fetch(&client, &url(node, "b.png", "w=32")).await.cache, "HIT", "{node}: other paths stay cached");
    }

    // One node down: the invalidation ends ERROR_CDN_NODE naming it, and the
    // other node was purged all the same.
    drop(v2.take());
    let detail = invalidate(format!("/{origin}/img/b.png")).await;
    assert_eq!(detail.invalidation.status, Status::ErrorCdnNode, "{detail:?}");
    let error = detail.invalidation.error.clone().unwrap_or_default();
    assert!(error.contains("varnish-2") && !error.contains("varnish-1"), "{error}");
    assert_eq!(fetch(&client, &url(nodes[0], "b.png", "w=32")).await.cache, "MISS");
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn varnish_nodes_are_purged_through_the_pipeline_sqlite() {
    run(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn varnish_nodes_are_purged_through_the_pipeline_postgres() {
    run(Db::Postgres).await;
}
