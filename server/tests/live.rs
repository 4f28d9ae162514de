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

async fn open(t: &TestApp, cookie: &str) -> axum::http::Response<Body> {
    t.send(
        Request::get("/p/demo/live")
            .header(header::HOST, "localhost")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// Reads the stream until it ends; panics if it is still open after `within`.
async fn expect_end(body: &mut Body, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, body.frame()).await {
            Err(_) => panic!("the stream is still open after {within:?}"),
            Ok(None) => return,
            Ok(Some(frame)) => drop(frame.expect("a frame")),
        }
    }
}

// A member removed while their page is open stops receiving at the next
// keep-alive: the stream ends, it does not keep sending IDs and statuses.
db_test_cfg!(
    a_removed_member_loses_the_stream_at_the_next_keep_alive,
    |c: &mut server::Config| c.security.live_recheck_secs = 1,
    |t: TestApp| async move {
        let editor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
        let cookie = t.login("editor@example.com").await;
        let resp = open(&t, &cookie).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let mut body = resp.into_body();
        tokio::time::sleep(Duration::from_millis(400)).await;
        let submit = || Submission::from_api("original", Some(vec!["/a.jpg".to_owned()]), None).unwrap();
        let first = t.app.services.invalidations.submit(&editor, submit()).await.unwrap().invalidation;
        expect_event(&mut body, &first.id.to_string()).await;

        let user_id = editor.user_id().unwrap();
        t.store.change_member(t.demo.id, user_id, None).await.unwrap();
        expect_end(&mut body, Duration::from_secs(5)).await;
        assert_eq!(t.app.services.live.open_streams(user_id), 0, "the stream gave its slot back");
    }
);

db_test_cfg!(
    a_user_holds_a_bounded_number_of_streams,
    |c: &mut server::Config| c.security.live_streams_per_user = 2,
    |t: TestApp| async move {
        t.user("editor@example.com", Role::Editor, &t.demo).await;
        t.user("other@example.com", Role::Editor, &t.demo).await;
        let cookie = t.login("editor@example.com").await;
        let first = open(&t, &cookie).await;
        let second = open(&t, &cookie).await;
        assert_eq!((first.status(), second.status()), (StatusCode::OK, StatusCode::OK));
        let third = open(&t, &cookie).await;
        assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(third.headers().contains_key(header::RETRY_AFTER));
        // Another user has their own budget; a closed stream gives its slot back.
        let other = t.login("other@example.com").await;
        assert_eq!(open(&t, &other).await.status(), StatusCode::OK);
        drop(first);
        assert_eq!(open(&t, &cookie).await.status(), StatusCode::OK);
    }
);

// Each project has its own channel: a subscriber is handed only its own
// project's changes, whatever else moves.
db_test!(a_subscriber_wakes_only_for_its_project, |t: TestApp| async move {
    let other = t.project("other").await;
    let mine = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let theirs = t.actor("outsider@example.com", Role::Editor, &other).await;
    let mut sub = t.app.services.live.subscribe(&mine).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let submit = || Submission::from_api("original", Some(vec!["/a.jpg".to_owned()]), None).unwrap();
    for _ in 0..5 {
        t.app.services.invalidations.submit(&theirs, submit()).await.unwrap();
    }
    let woke = tokio::time::timeout(Duration::from_secs(3), sub.next()).await;
    assert!(woke.is_err(), "woken for another project's change: {:?}", woke.ok().flatten().map(|c| c.project_id));
    let own = t.app.services.invalidations.submit(&mine, submit()).await.unwrap().invalidation;
    let change = tokio::time::timeout(Duration::from_secs(5), sub.next()).await.unwrap().unwrap();
    assert_eq!((change.project_id, change.id), (t.demo.id, own.id));
});
