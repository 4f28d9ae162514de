//! The live log: `GET /p/{token}/live` pushes the project's status changes
//! as server-sent events, including changes written by another process
//! (a poll of `updated_ms`, which sees every writer). Both databases.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use http_body_util::BodyExt;
use imgflush::backend::invalidations::Submission;
use imgflush::backend::now_ms;
use imgflush::backend::store;
use imgflush::domain::Role;

/// Reads the event stream until a `change` event whose data contains `needle`.
async fn expect_event(body: &mut Body, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut seen = String::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let frame =
            tokio::time::timeout(left, body.frame()).await.unwrap_or_else(|_| panic!("no {needle} in {seen:?}"));
        let frame = frame.expect("stream open").expect("a frame");
        if let Some(data) = frame.data_ref() {
            seen.push_str(&String::from_utf8_lossy(data));
        }
        if let Some(event) = seen.split("\n\n").find(|e| e.contains("event: change") && e.contains(needle)) {
            return event.to_owned();
        }
    }
}

db_test!(status_changes_stream_to_the_project_page, |t: TestApp| async move {
    let other = t.project("other").await;
    let editor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let outsider_actor = t.actor("outsider@example.com", Role::Editor, &other).await;
    let cookie = t.login("editor@example.com").await;
    let resp = t
        .send(
            Request::get("/p/demo/live")
                .header(header::HOST, "localhost")
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut body = resp.into_body();
    tokio::time::sleep(Duration::from_millis(400)).await;

    let submit = || Submission::from_api("original", Some(vec!["/a.jpg".to_owned()]), None).unwrap();
    let theirs = t.app.services.invalidations.submit(&outsider_actor, submit()).await.unwrap().invalidation;
    let mine = t.app.services.invalidations.submit(&editor, submit()).await.unwrap().invalidation;
    let first = expect_event(&mut body, &mine.id.to_string()).await;
    assert!(first.contains("\"status\":\"RECEIVED\""), "{first}");
    assert!(!first.contains(&theirs.id.to_string()));

    // Another process (its own connection pool) changes the status: it shows too.
    let elsewhere = store::connect(&t.db.url).await.unwrap().store;
    elsewhere.cancel_received(t.demo.id, mine.id, "another instance", now_ms()).await.unwrap();
    let cancelled = expect_event(&mut body, "CANCELLED").await;
    assert!(cancelled.contains(&mine.id.to_string()), "{cancelled}");
});

db_test!(the_live_log_is_for_members_only, |t: TestApp| async move {
    let other = t.project("other").await;
    t.user("outsider@example.com", Role::Admin, &other).await;
    let outsider = t.login("outsider@example.com").await;
    assert_eq!(t.get("/p/demo/live", Some(&outsider)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(t.get("/p/nope/live", Some(&outsider)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(t.get("/p/demo/live", None).await.status(), StatusCode::SEE_OTHER, "sign in first");
});
