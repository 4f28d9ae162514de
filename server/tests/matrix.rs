//! The role matrix of the console's remaining new entry points (cancel,
//! retention, CSV export, live log), the first-start owner, and the one-time
//! results a form posted without JavaScript leaves in the session.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use imgflush::backend::invalidations::Submission;
use imgflush::domain::{InstanceRole, Role};
use serde_json::{json, Value};

/// `(email, role in demo or in another project, instance role, expected outcome)`.
fn people() -> [(&'static str, Role, Option<InstanceRole>, bool, &'static str); 6] {
    [
        ("owner@example.com", Role::Support, Some(InstanceRole::Owner), false, "admin"),
        ("staff@example.com", Role::Support, Some(InstanceRole::Staff), false, "reader"),
        ("admin@example.com", Role::Admin, None, true, "admin"),
        ("editor@example.com", Role::Editor, None, true, "editor"),
        ("support@example.com", Role::Support, None, true, "reader"),
        ("outsider@example.com", Role::Admin, None, false, "outsider"),
    ]
}

db_test!(role_matrix_of_cancel_retention_export_and_live, |t: TestApp| async move {
    let other = t.project("other").await;
    let submitter = t.actor("submitter@example.com", Role::Editor, &t.demo).await;
    for (email, role, instance, in_demo, kind) in people() {
        let id = t.user(email, role, if in_demo { &t.demo } else { &other }).await;
        t.store.set_instance_role(id, instance).await.unwrap();
        let cookie = t.login(email).await;
        let sub = Submission::from_api("original", Some(vec!["/m.jpg".into()]), None).unwrap();
        let inv = t.app.services.invalidations.submit(&submitter, sub).await.unwrap().invalidation.id.to_string();

        let cancel = t.server_fn_json(&cookie, "cancel_invalidation", &[("project", "demo"), ("id", &inv)]).await;
        let retention =
            t.server_fn_json(&cookie, "save_retention", &[("project", "demo"), ("retention_days", "60")]).await;
        let csv = t.get("/p/demo/invalidations.csv", Some(&cookie)).await.status();
        let live = t.get("/p/demo/live", Some(&cookie)).await.status();
        let (cancel_ok, retention_ok) = match kind {
            "admin" => (true, true),
            "editor" => (true, false),
            _ => (false, false),
        };
        if kind == "outsider" {
            assert_eq!((cancel, retention), (json!("NotFound"), json!("NotFound")), "{email}");
            assert_eq!((csv, live), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND), "{email}");
            continue;
        }
        assert_eq!(cancel == Value::Null, cancel_ok, "{email} cancel: {cancel}");
        if !cancel_ok {
            assert_eq!(cancel, json!("Forbidden"), "{email}");
        }
        assert_eq!(retention == json!(60), retention_ok, "{email} retention: {retention}");
        if !retention_ok {
            assert_eq!(retention, json!("Forbidden"), "{email}");
        }
        assert_eq!((csv, live), (StatusCode::OK, StatusCode::OK), "{email} reads the log");
    }
});

db_test!(the_first_start_admin_is_the_owner, |t: TestApp| async move {
    let config = server::Config::with_database(&t.db.url);
    // The test app has no users yet: this is a first start.
    server::bootstrap::first_start(&t.app.services, &config).await.unwrap();
    let admin = t.store.user_by_email("admin@example.com").await.unwrap();
    assert_eq!(admin.instance_role, Some(InstanceRole::Owner));
});

db_test!(a_form_posted_without_javascript_finds_its_result_once, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let cookie = t.login("admin@example.com").await;
    // As a browser posts a form without JavaScript: it accepts HTML and follows the redirect.
    let resp = t
        .send(
            Request::post("/sfn/add_member")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html,application/xhtml+xml")
                .header(header::HOST, "localhost")
                .header(header::ORIGIN, "http://localhost")
                .header(header::REFERER, "http://localhost/p/demo/members")
                .header(header::COOKIE, &cookie)
                .body(Body::from("project=demo&email=new%40example.com&role=editor"))
                .unwrap(),
        )
        .await;
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let kept = t.server_fn_json(&cookie, "take_flash", &[("key", "invite")]).await;
    let added: Value = serde_json::from_str(kept.as_str().expect("kept for the page")).unwrap();
    assert_eq!(added["email"], "new@example.com");
    assert!(added["invite_path"].as_str().unwrap().starts_with("/invite/"));
    assert_eq!(t.server_fn_json(&cookie, "take_flash", &[("key", "invite")]).await, Value::Null, "shown once");
    // With JavaScript (a JSON answer) nothing is kept: the page shows the value itself.
    t.server_fn_json(&cookie, "add_member", &[("project", "demo"), ("email", "js@example.com"), ("role", "editor")])
        .await;
    assert_eq!(t.server_fn_json(&cookie, "take_flash", &[("key", "invite")]).await, Value::Null);
    assert_eq!(t.server_fn_json(&cookie, "take_flash", &[("key", "user")]).await, json!("NotFound"), "only known keys");
    assert_eq!(t.server_fn_json("", "take_flash", &[("key", "invite")]).await, json!("Unauthorized"));
});

// Every console page looks for one-time results; a view with none to show
// must not write the session back, or a tab reading a page would overwrite
// the result another tab of the same session just kept (seen as a lost
// "Test" answer when two tabs share a sign-in).
db_test!(a_page_with_no_result_to_show_leaves_the_session_unwritten, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let cookie = t.login("admin@example.com").await;
    for page in ["/p/demo/settings", "/p/demo/members", "/p/demo/api-keys", "/projects"] {
        let resp = t.get(page, Some(&cookie)).await;
        assert_eq!(resp.status(), StatusCode::OK, "{page}");
        assert!(resp.headers().get(header::SET_COOKIE).is_none(), "{page} wrote the session back");
    }
    // A result that is there is shown once, and its removal is written.
    let resp = t
        .send(
            Request::post("/sfn/add_member")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html")
                .header(header::HOST, "localhost")
                .header(header::ORIGIN, "http://localhost")
                .header(header::REFERER, "http://localhost/p/demo/members")
                .header(header::COOKIE, &cookie)
                .body(Body::from("project=demo&email=kept%40example.com&role=editor"))
                .unwrap(),
        )
        .await;
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let shown = t.get("/p/demo/members", Some(&cookie)).await;
    assert!(shown.headers().get(header::SET_COOKIE).is_some(), "the shown result is removed from the session");
    let html = body_text(shown).await;
    assert!(html.contains("kept@example.com"), "the invitation is shown");
    let again = t.get("/p/demo/members", Some(&cookie)).await;
    assert!(again.headers().get(header::SET_COOKIE).is_none(), "nothing left to remove");
});

db_test!(server_function_errors_answer_their_http_status, |t: TestApp| async move {
    t.user("support@example.com", Role::Support, &t.demo).await;
    let cookie = t.login("support@example.com").await;
    let submit = [("project", "demo"), ("scope", "original"), ("urls", "/a.jpg")];
    let status = |r: axum::response::Response| r.status();
    assert_eq!(status(t.server_fn(&cookie, "submit_invalidation", &submit).await), StatusCode::FORBIDDEN);
    let foreign = [("project", "nope"), ("scope", "original"), ("urls", "/a.jpg")];
    assert_eq!(status(t.server_fn(&cookie, "submit_invalidation", &foreign).await), StatusCode::NOT_FOUND);
    assert_eq!(status(t.server_fn("", "me", &[]).await), StatusCode::UNAUTHORIZED);
    let bad = [("project", "demo"), ("status", "FINISHED")];
    assert_eq!(status(t.server_fn(&cookie, "list_invalidations", &bad).await), StatusCode::BAD_REQUEST);
    // A form posted without JavaScript is still sent back to its page.
    let resp = t
        .send(
            Request::post("/sfn/submit_invalidation")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html")
                .header(header::HOST, "localhost")
                .header(header::ORIGIN, "http://localhost")
                .header(header::REFERER, "http://localhost/p/demo/invalidation")
                .header(header::COOKIE, &cookie)
                .body(Body::from("project=demo&scope=original&urls=%2Fa.jpg"))
                .unwrap(),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert!(location(&resp).starts_with("http://localhost/p/demo/invalidation"), "{}", location(&resp));
});
