//! The whole path a newcomer's first invalidation takes: a real origin, a
//! real edge that reads its settings from the console's internal endpoint,
//! and the worker purging the edge as its `edge` target. After DONE the edge
//! answers with the new image; variants of other paths stay cached.

mod common;

use common::stack::{self, fetch, png};
use common::Db;
use imgflush::backend::invalidations::Submission;
use imgflush::backend::now_ms;
use imgflush::backend::worker::WorkerConfig;
use imgflush::domain::{Role, Status};

async fn run(db: Db) {
    let Some(stack::Console { t, files, origin, addr: console, .. }) = stack::console(db).await else {
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL half skipped");
        return;
    };

    // The internal endpoint refuses anyone without the token.
    let client = reqwest::Client::new();
    let settings_url = format!("http://{console}/internal/edge/projects");
    assert_eq!(client.get(&settings_url).send().await.unwrap().status(), 401);

    let cache_dir = tempfile::tempdir().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let node = stack::edge(console, cache_dir.path(), stop.clone()).await;
    let edge_addr = node.addr;
    t.store.add_target(t.demo.id, &node.target("edge-1", "demo"), now_ms()).await.unwrap();

    let url = |file: &str, query: &str| format!("http://{edge_addr}/demo/{origin}/img/{file}?{query}");
    let variants = ["w=32", "w=16", "w=32&vh=abc"];
    let mut before = Vec::new();
    for q in variants {
        assert_eq!(fetch(&client, &url("a.png", q)).await.cache, "MISS", "{q}");
        let hit = fetch(&client, &url("a.png", q)).await;
        assert_eq!(hit.cache, "HIT", "{q}");
        before.push(hit.body);
    }
    assert_eq!(fetch(&client, &url("b.png", "w=32")).await.cache, "MISS");

    // The origin changes: the edge still serves what it cached.
    files.lock().unwrap().insert("a.png".into(), png([30, 200, 30]));
    let stale = fetch(&client, &url("a.png", "w=32")).await;
    assert_eq!((stale.cache.as_str(), &stale.body), ("HIT", &before[0]));

    // Invalidate the path as a user would; the worker purges the edge.
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let path = format!("/{origin}/img/a.png");
    let sub = Submission::from_api("original", Some(vec![path]), None).unwrap();
    let id = t.app.services.invalidations.submit(&actor, sub).await.unwrap().invalidation.id;
    let worker = t.app.worker(WorkerConfig { id: "edge-test".into(), ..Default::default() });
    let job = worker.try_execute_task().await.unwrap().expect("the job");
    assert_eq!(job.id, id);
    let detail = t.app.services.invalidations.detail(&actor, id).await.unwrap();
    assert_eq!(detail.invalidation.status, Status::Done, "{detail:?}");
    let edge_result = &detail.targets[0];
    assert_eq!(edge_result.detail.as_deref(), Some("removed 3 cached objects"), "{edge_result:?}");

    // Every variant of the path comes fresh from the origin; the other path stays cached.
    for (q, old) in variants.iter().zip(&before) {
        let fresh = fetch(&client, &url("a.png", q)).await;
        assert_eq!(fresh.cache, "MISS", "{q}");
        assert_ne!(&fresh.body, old, "{q}: new bytes after the purge");
    }
    assert_eq!(fetch(&client, &url("b.png", "w=32")).await.cache, "HIT");
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_empties_the_edge_cache_sqlite() {
    run(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalidation_empties_the_edge_cache_postgres() {
    run(Db::Postgres).await;
}
