//! Console actions: Copy to new, cancel while RECEIVED and unclaimed (409
//! after), the filtered log as CSV, and pruning by the project's retention.
//! Both databases.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use imgflush::backend::invalidations::DAY_MS;
use imgflush::backend::now_ms;
use imgflush::backend::store::{LeaseToken, Project};
use imgflush::domain::{InvalidationId, Role, Status};
use serde_json::{json, Value};

async fn submit(t: &TestApp, cookie: &str, urls: &str) -> String {
    let r = t
        .server_fn_json(cookie, "submit_invalidation", &[("project", "demo"), ("scope", "original"), ("urls", urls)])
        .await;
    r.as_str().unwrap_or_else(|| panic!("{r}")).to_owned()
}

async fn as_member(t: &TestApp, email: &str, role: Role, project: &Project) -> String {
    t.user(email, role, project).await;
    t.login(email).await
}

db_test!(copy_to_new_prefills_the_form_with_the_old_paths, |t: TestApp| async move {
    let editor = as_member(&t, "editor@example.com", Role::Editor, &t.demo).await;
    let id = submit(&t, &editor, "/sample.li/flat1.jpg\n/sample.li/flat2.jpg").await;
    let detail = body_text(t.get(&format!("/p/demo/invalidation/{id}"), Some(&editor)).await).await;
    assert!(detail.contains(&format!("/p/demo/invalidation?copy={id}")), "the details page links Copy to new");
    let page = body_text(t.get(&format!("/p/demo/invalidation?copy={id}"), Some(&editor)).await).await;
    assert!(page.contains("/sample.li/flat1.jpg\n/sample.li/flat2.jpg</textarea>"), "prefilled without JavaScript");
    let support = as_member(&t, "support@example.com", Role::Support, &t.demo).await;
    let page = body_text(t.get(&format!("/p/demo/invalidation?copy={id}"), Some(&support)).await).await;
    assert!(!page.contains("<textarea"), "no form for read-only roles");
    // Another project's ID prefills nothing.
    let other = t.project("other").await;
    let outsider = as_member(&t, "outsider@example.com", Role::Admin, &other).await;
    let page = body_text(t.get(&format!("/p/other/invalidation?copy={id}"), Some(&outsider)).await).await;
    assert!(!page.contains("flat2.jpg"), "the other project sees nothing of it");
});

db_test!(cancel_works_only_while_received_and_unclaimed, |t: TestApp| async move {
    let other = t.project("other").await;
    let editor = as_member(&t, "editor@example.com", Role::Editor, &t.demo).await;
    let support = as_member(&t, "support@example.com", Role::Support, &t.demo).await;
    let outsider = as_member(&t, "outsider@example.com", Role::Admin, &other).await;
    let id = submit(&t, &editor, "/a.jpg").await;
    let form = [("project", "demo"), ("id", id.as_str())];
    assert_eq!(t.server_fn_json(&support, "cancel_invalidation", &form).await, json!("Forbidden"));
    let foreign = [("project", "other"), ("id", id.as_str())];
    assert_eq!(t.server_fn_json(&outsider, "cancel_invalidation", &foreign).await, json!("NotFound"));
    assert_eq!(t.server_fn_json(&editor, "cancel_invalidation", &form).await, Value::Null);
    let inv = t.store.invalidation(t.demo.id, InvalidationId::parse(&id).unwrap()).await.unwrap();
    assert_eq!(inv.status, Status::Cancelled);
    let events = t.store.events(inv.id).await.unwrap();
    assert_eq!(events.last().unwrap().note.as_deref(), Some("cancelled by editor@example.com"));
    let again = t.server_fn_json(&editor, "cancel_invalidation", &form).await;
    assert!(again["Conflict"].as_str().unwrap().contains("CANCELLED"), "{again}");
    assert!(t.store.claim("w", &LeaseToken::new(), now_ms(), 60_000).await.unwrap().is_none(), "never claimed");

    // Once a worker has claimed it: 409, in the console and the API.
    let claimed = submit(&t, &editor, "/b.jpg").await;
    let job = t.store.claim("w", &LeaseToken::new(), now_ms(), 60_000).await.unwrap().unwrap();
    assert_eq!(job.job.id.to_string(), claimed);
    let late = t.server_fn_json(&editor, "cancel_invalidation", &[("project", "demo"), ("id", &claimed)]).await;
    assert!(late["Conflict"].as_str().unwrap().contains("no worker has picked up"), "{late}");
    let key = t.app.services.keys.create(&imgflush::backend::Actor::operator(t.demo.clone()), "ci", "editor").await;
    let api = t
        .send(
            Request::post(format!("/api/v1/invalidations/{claimed}/cancel"))
                .header(header::HOST, "localhost")
                .header("x-client-key", key.unwrap().1)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(api.status(), StatusCode::CONFLICT);
});

db_test!(the_filtered_log_exports_as_csv, |t: TestApp| async move {
    let editor = as_member(&t, "editor@example.com", Role::Editor, &t.demo).await;
    for i in 0..3 {
        submit(&t, &editor, &format!("/shop/{i}.jpg")).await;
    }
    let cancelled = submit(&t, &editor, "/other/x.jpg").await;
    t.server_fn_json(&editor, "cancel_invalidation", &[("project", "demo"), ("id", &cancelled)]).await;

    let resp = t.get("/p/demo/invalidations.csv?q=%2Fshop%2F", Some(&editor)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    assert!(resp.headers()[header::CONTENT_DISPOSITION].to_str().unwrap().contains("invalidations-demo.csv"));
    let csv = body_text(resp).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("invalidation_id,status,scope,submitted_at,submitted_by"), "{csv}");
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[1].contains("/shop/2.jpg") && lines[3].contains("/shop/0.jpg"), "newest first: {csv}");
    assert!(lines[1].contains(",RECEIVED,original,") && lines[1].contains("editor@example.com"));

    let only = body_text(t.get("/p/demo/invalidations.csv?status=CANCELLED", Some(&editor)).await).await;
    assert_eq!(only.lines().count(), 2, "{only}");
    assert!(only.contains(&cancelled));
    let bad = t.get("/p/demo/invalidations.csv?status=FINISHED", Some(&editor)).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(bad).await.contains("status"));

    let other = t.project("other").await;
    let outsider = as_member(&t, "outsider@example.com", Role::Admin, &other).await;
    assert_eq!(t.get("/p/demo/invalidations.csv", Some(&outsider)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(t.get("/p/demo/invalidations.csv", None).await.status(), StatusCode::SEE_OTHER, "sign in first");
});

db_test!(retention_prunes_final_invalidations_older_than_n_days, |t: TestApp| async move {
    let admin = as_member(&t, "admin@example.com", Role::Admin, &t.demo).await;
    let editor = as_member(&t, "editor@example.com", Role::Editor, &t.demo).await;
    let settings = t.server_fn_json(&admin, "project_settings", &[("project", "demo")]).await;
    assert_eq!(settings["retention_days"], 90, "the default");
    assert_eq!(
        t.server_fn_json(&editor, "save_retention", &[("project", "demo"), ("retention_days", "7")]).await,
        json!("Forbidden")
    );
    let bad = t.server_fn_json(&admin, "save_retention", &[("project", "demo"), ("retention_days", "0")]).await;
    assert_eq!(bad["Invalid"][0]["field"], "retention_days", "{bad}");
    assert_eq!(
        t.server_fn_json(&admin, "save_retention", &[("project", "demo"), ("retention_days", "7")]).await,
        json!(7)
    );

    let done = submit(&t, &editor, "/old.jpg").await;
    t.server_fn_json(&editor, "cancel_invalidation", &[("project", "demo"), ("id", &done)]).await;
    let queued = submit(&t, &editor, "/queued.jpg").await;
    let other = t.project("other").await;
    let keeper = t.actor("keeper@example.com", Role::Editor, &other).await;
    let kept = t
        .app
        .services
        .invalidations
        .submit(
            &keeper,
            imgflush::backend::invalidations::Submission::from_api("original", Some(vec!["/k.jpg".into()]), None)
                .unwrap(),
        )
        .await
        .unwrap()
        .invalidation;
    t.store.cancel_received(other.id, kept.id, "test", now_ms()).await.unwrap();

    let services = &t.app.services.invalidations;
    assert_eq!(services.prune_expired(now_ms() + 6 * DAY_MS).await.unwrap(), 0, "not yet 7 days old");
    assert_eq!(services.prune_expired(now_ms() + 8 * DAY_MS).await.unwrap(), 1);
    let left: Vec<String> = t
        .store
        .list_invalidations(t.demo.id, &Default::default())
        .await
        .unwrap()
        .iter()
        .map(|i| i.id.to_string())
        .collect();
    assert_eq!(left, [queued], "a queued invalidation is never pruned");
    assert!(t.store.events(InvalidationId::parse(&done).unwrap()).await.unwrap().is_empty(), "its events went too");
    assert_eq!(t.store.list_invalidations(other.id, &Default::default()).await.unwrap().len(), 1, "90 days there");
});

/// Rows of `table` that belong to invalidation `id`, read with SQL.
async fn rows_of(t: &TestApp, table: &str, id: InvalidationId) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE invalidation_id = $1");
    if t.db.url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&t.db.url).await.unwrap();
        let n = sqlx::query_scalar(&sql).bind(id.0).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(&t.db.url).await.unwrap();
        let n = sqlx::query_scalar(&sql).bind(id.0).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

db_test!(a_pruned_invalidation_takes_its_events_paths_and_target_rows_along, |t: TestApp| async move {
    // PostgreSQL deletes them with a trigger (no per-row key checks on
    // insert, migration 0016), SQLite through its foreign keys.
    let node = common::recorder::Recorder::start().await;
    let hook = imgflush::backend::store::NewTarget {
        kind: imgflush::domain::TargetKind::Webhook,
        name: "hook".into(),
        url: node.url("/hook"),
        secret: None,
        settings: Default::default(),
        credentials: None,
    };
    let editor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let other = t.project("other").await;
    let keeper = t.actor("keeper@example.com", Role::Editor, &other).await;
    let mut ids = Vec::new();
    for (project, actor) in [(&t.demo, &editor), (&other, &keeper)] {
        t.store.add_target(project.id, &hook, now_ms()).await.unwrap();
        let sub = imgflush::backend::invalidations::Submission::from_api(
            "original",
            Some(vec!["/a.jpg".into(), "/b.jpg".into()]),
            None,
        )
        .unwrap();
        ids.push(t.app.services.invalidations.submit(actor, sub).await.unwrap().invalidation.id);
    }
    let worker = t.app.worker(imgflush::backend::worker::WorkerConfig { id: "prune".into(), ..Default::default() });
    while worker.try_execute_task().await.unwrap().is_some() {}
    let tables = ["invalidation_events", "invalidation_paths", "invalidation_targets"];
    for id in &ids {
        assert_eq!(t.store.invalidation_anywhere(*id).await.unwrap().status, Status::Done);
        for table in tables {
            assert!(rows_of(&t, table, *id).await > 0, "{table} has rows of {id}");
        }
    }
    t.store.prune_invalidations(t.demo.id, now_ms() + DAY_MS).await.unwrap();
    for table in tables {
        assert_eq!(rows_of(&t, table, ids[0]).await, 0, "{table} kept rows of a pruned invalidation");
        assert!(rows_of(&t, table, ids[1]).await > 0, "{table} lost another project's rows");
    }
});
