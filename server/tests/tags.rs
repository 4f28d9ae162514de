//! Purge by tag through the whole stack: an origin labelling its images
//! (`Surrogate-Key`) and a project's tag rule, a real edge that keeps the
//! tags and labels its responses with the project's derived keys, the
//! dry-run preview, the large-purge guard, and the worker purging the edge
//! by tag.

mod common;

use common::stack::{self, fetch};
use common::Db;
use imgflush::backend::invalidations::Submission;
use imgflush::backend::now_ms;
use imgflush::backend::store::EdgeSettings;
use imgflush::backend::worker::WorkerConfig;
use imgflush::backend::ServiceError;
use imgflush::domain::cache_key::{path_key, tag_key};
use imgflush::domain::preview::Count;
use imgflush::domain::probe::Probe;
use imgflush::domain::{OriginPath, Role, Status, TagRule};

fn tags(list: &[&str]) -> Submission {
    Submission::from_api_with_tags("tag", None, Some(list.iter().map(|t| t.to_string()).collect()), None).unwrap()
}

async fn run(db: Db) {
    let Some(stack::Console { t, origin, addr: console, .. }) = stack::console(db).await else {
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL half skipped");
        return;
    };
    let rule = TagRule {
        pattern: OriginPath::parse(&format!("/{origin}/img/b.png")).unwrap(),
        tag: imgflush::domain::Tag::parse("rule-b").unwrap(),
    };
    stack::set_edge(&t, &t.demo, origin, EdgeSettings { tag_rules: vec![rule], ..Default::default() }).await;
    let cache_dir = tempfile::tempdir().unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let node = stack::edge(console, cache_dir.path(), stop.clone()).await;
    t.store.add_target(t.demo.id, &node.target("edge-1", "demo"), now_ms()).await.unwrap();

    let client = reqwest::Client::new();
    let url = |file: &str, query: &str| format!("http://{}/demo/{origin}/img/{file}?{query}", node.addr);
    for (file, q) in [("a.png", "w=32"), ("a.png", "w=16"), ("b.png", "w=32")] {
        assert_eq!(fetch(&client, &url(file, q)).await.cache, "MISS", "{file}?{q}");
        assert_eq!(fetch(&client, &url(file, q)).await.cache, "HIT", "{file}?{q}");
    }
    // The edge labels each response with the project's keys of its tags,
    // never the origin's forged key, and not the origin's header itself.
    let resp = client.get(url("a.png", "w=32")).send().await.unwrap();
    let xkey = resp.headers()["xkey"].to_str().unwrap().to_owned();
    let a_path = format!("/{origin}/img/a.png");
    for key in [path_key("demo", &a_path), tag_key("demo", "file-a"), tag_key("demo", "images")] {
        assert!(xkey.split(' ').any(|k| k == key), "{key} not in {xkey}");
    }
    assert!(!xkey.contains("victim"), "{xkey}");
    assert!(resp.headers().get("surrogate-key").is_none(), "the origin's tags are not passed on");
    let b = client.get(url("b.png", "w=32")).send().await.unwrap();
    assert!(b.headers()["xkey"].to_str().unwrap().contains(&tag_key("demo", "rule-b")), "the project's rule tags b");

    // The preview counts exactly what a tag purge would remove, removing nothing.
    let editor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let preview = t.app.services.invalidations.preview(&editor, &tags(&["file-a"])).await.unwrap();
    assert_eq!(preview.objects, 2, "{preview:?}");
    assert!(matches!(preview.targets[0].count, Count::Counted { objects: 2, bytes } if bytes > 0), "{preview:?}");
    assert_eq!(
        preview.bytes,
        match preview.targets[0].count {
            Count::Counted { bytes, .. } => bytes,
            _ => 0,
        }
    );
    let all = Submission::from_api("all", None, None).unwrap();
    let everything = t.app.services.invalidations.preview(&editor, &all).await.unwrap();
    assert_eq!(everything.objects, 3);
    assert!(
        everything.summary().starts_with("the cache to rebuild on the edges: 3 objects"),
        "{}",
        everything.summary()
    );
    assert_eq!(fetch(&client, &url("a.png", "w=32")).await.cache, "HIT", "a preview removes nothing");

    // A tag invalidation purges exactly the tagged objects.
    let id = t.app.services.invalidations.submit(&editor, tags(&["file-a"])).await.unwrap().invalidation.id;
    let worker = t.app.worker(WorkerConfig { id: "tags-test".into(), ..Default::default() });
    assert_eq!(worker.try_execute_task().await.unwrap().expect("the job").id, id);
    let detail = t.app.services.invalidations.detail(&editor, id).await.unwrap();
    assert_eq!(detail.invalidation.status, Status::Done, "{detail:?}");
    assert_eq!(detail.targets[0].detail.as_deref(), Some("removed 2 cached objects carrying the tags"));
    assert_eq!(fetch(&client, &url("a.png", "w=32")).await.cache, "MISS");
    assert_eq!(fetch(&client, &url("a.png", "w=16")).await.cache, "MISS");
    assert_eq!(fetch(&client, &url("b.png", "w=32")).await.cache, "HIT", "untagged objects stay");

    // Above the project's threshold, a submission needs a confirmation
    // that names the preview's figures.
    let guarded = EdgeSettings { confirm_above_objects: Some(2), ..Default::default() };
    stack::set_edge(&t, &t.demo, origin, guarded).await;
    let project = t.store.project_by_token("demo").await.unwrap();
    let editor = t.actor("editor@example.com", Role::Editor, &project).await;
    let Err(ServiceError::Invalid(errors)) = t.app.services.invalidations.submit(&editor, tags(&["images"])).await
    else {
        panic!("a purge of 3 objects above a limit of 2 needs a confirmation");
    };
    assert_eq!(errors[0].field, "confirm");
    assert!(
        errors[0].message.contains("would remove 3 objects") && errors[0].message.contains("limit of 2 objects"),
        "{}",
        errors[0].message
    );
    let small = t.app.services.invalidations.submit(&editor, tags(&["rule-b"])).await;
    assert!(small.is_ok(), "1 object is below the limit: {:?}", small.err());
    let confirmed = tags(&["images"]).confirmed(true);
    t.app.services.invalidations.submit(&editor, confirmed).await.unwrap();
    while worker.try_execute_task().await.unwrap().is_some() {}
    for (file, q) in [("a.png", "w=32"), ("a.png", "w=16"), ("b.png", "w=32")] {
        assert_eq!(fetch(&client, &url(file, q)).await.cache, "MISS", "{file}?{q}");
    }

    // The same guard through the API: the dry run says so beforehand, the
    // submission is refused naming `confirm`, and `confirm=true` goes ahead.
    let key = t.app.services.keys.create(&imgflush::backend::Actor::operator(project.clone()), "ci", "editor").await;
    let key = key.unwrap().1;
    let api = |q: &str| format!("http://{console}/api/v1/invalidations{q}");
    let body = serde_json::json!({"scope": "tag", "tags": ["images"]});
    let post = |url: String| client.post(url).bearer_auth(&key).json(&body).send();
    let dry: serde_json::Value = post(api("?dry_run=true")).await.unwrap().json().await.unwrap();
    assert_eq!(dry["objects"], 3, "{dry}");
    assert!(dry["needs_confirmation"].as_str().unwrap().contains("limit of 2 objects"), "{dry}");
    let refused = post(api("")).await.unwrap();
    assert_eq!(refused.status(), 400);
    let refused: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(refused["details"][0]["field"], "confirm", "{refused}");
    assert_eq!(post(api("?confirm=true")).await.unwrap().status(), 201);
    while worker.try_execute_task().await.unwrap().is_some() {}
    for (file, q) in [("a.png", "w=32"), ("a.png", "w=16"), ("b.png", "w=32")] {
        assert_eq!(fetch(&client, &url(file, q)).await.cache, "MISS", "{file}?{q}");
    }

    // "Is this URL fresh?": the URL a customer pasted maps to its path; the
    // edge says, from its index only, that it holds the variant and which
    // tags it carries, so the tag invalidations that covered it are listed.
    let pasted = format!("http://{}/demo/{origin}/img/a.png?w=32", node.addr);
    let located = t.app.services.projects.locate_url_in(&editor, &pasted).unwrap();
    assert_eq!(located.origin.as_str(), a_path);
    let probes = t.app.services.targets.probe(&editor, &located).await.unwrap();
    let Probe::Cached { age_secs, stale, tags } = &probes[0].state else { panic!("{probes:?}") };
    assert!(*age_secs < 60 && !stale, "{probes:?}");
    assert_eq!(tags, &["file-a", "images"]);
    let covering = t.app.services.invalidations.covering(&editor, &located.origin, tags).await.unwrap();
    assert_eq!(covering.len(), 3, "file-a, and images twice (console and API): {covering:?}");
    assert!(covering.iter().all(|i| i.scope == imgflush::domain::Scope::Tag));
    // A variant nobody asked for: not held, and the probe did not fetch it.
    let unseen = t.app.services.projects.locate_url_in(&editor, &format!("/demo/{origin}/img/a.png?w=7")).unwrap();
    let probes = t.app.services.targets.probe(&editor, &unseen).await.unwrap();
    assert_eq!(probes[0].state, Probe::NotCached);
    assert_eq!(fetch(&client, &url("a.png", "w=7")).await.cache, "MISS", "the probe filled nothing");
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_purge_exactly_the_tagged_objects_sqlite() {
    run(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_purge_exactly_the_tagged_objects_postgres() {
    run(Db::Postgres).await;
}
