//! Signed-in sessions: each sign-in is listed (device, address, last seen);
//! one session, every other one, or all end from the account page; owners
//! end a user's sessions; each is in the audit trail, and an ended session
//! is signed out on its next request.

mod common;

use axum::http::{header, StatusCode};
use common::*;
use imgflush::backend::store::AuditQuery;
use imgflush::domain::Role;
use serde_json::Value;

/// Signs in from `peer` with a browser's User-Agent; answers the cookie.
async fn sign_in_from(t: &TestApp, peer: &str, ua: &str) -> String {
    let body = format!("email={}&password={}&next=%2F", enc("editor@example.com"), enc(PASSWORD));
    let peer: std::net::SocketAddr = format!("{peer}:40000").parse().unwrap();
    let req = axum::http::Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "http://localhost")
        .header(header::HOST, "localhost")
        .header(header::USER_AGENT, ua)
        .extension(axum::extract::ConnectInfo(peer))
        .body(axum::body::Body::from(body))
        .unwrap();
    let resp = t.send(req).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    session_cookie(&resp).expect("a session cookie")
}

const FIREFOX: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";
const CHROME: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

async fn signed_in(t: &TestApp, cookie: &str) -> bool {
    t.server_fn(cookie, "me", &[]).await.status() == StatusCode::OK
}

async fn actions(t: &TestApp) -> Vec<(String, String)> {
    let entries = t.store.list_audit(&AuditQuery { limit: 100, ..Default::default() }).await.unwrap();
    entries.into_iter().map(|e| (e.action, e.detail)).collect()
}

db_test!(sessions_are_listed_and_ended_one_by_one_or_all_but_this_one, |t: TestApp| async move {
    t.user("editor@example.com", Role::Editor, &t.demo).await;
    let laptop = sign_in_from(&t, "198.51.100.7", FIREFOX).await;
    let desk = sign_in_from(&t, "203.0.113.9", CHROME).await;
    let phone = sign_in_from(&t, "192.0.2.44", CHROME).await;

    let list = t.server_fn_json(&desk, "my_sessions", &[]).await;
    let list = list.as_array().expect("a list");
    assert_eq!(list.len(), 3, "{list:?}");
    let current: Vec<&Value> = list.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(
        (current[0]["device"].as_str(), current[0]["address"].as_str()),
        (Some("Chrome on Linux"), Some("203.0.113.9"))
    );
    let firefox = list.iter().find(|s| s["device"] == "Firefox on Windows").expect("the laptop");
    assert_eq!(firefox["address"], "198.51.100.7");

    // Another user's session id is not ours to end.
    t.user("other@example.com", Role::Editor, &t.demo).await;
    let other = t.login("other@example.com").await;
    let id = firefox["id"].as_str().unwrap();
    assert_eq!(t.server_fn(&other, "end_session", &[("session_id", id)]).await.status(), StatusCode::NOT_FOUND);
    assert!(signed_in(&t, &laptop).await);

    // Sign out the laptop from the desk: its next request is signed out.
    assert_eq!(t.server_fn(&desk, "end_session", &[("session_id", id)]).await.status(), StatusCode::OK);
    assert!(!signed_in(&t, &laptop).await, "the ended session is signed out");
    assert!(signed_in(&t, &desk).await && signed_in(&t, &phone).await);
    let page = t.get("/p/demo/invalidation", Some(&laptop)).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER, "pages send it to the sign-in page");
    assert!(location(&page).starts_with("/login"));
    assert_eq!(t.server_fn_json(&desk, "my_sessions", &[]).await.as_array().unwrap().len(), 2);

    // Every other session: the phone ends, the desk carries on.
    assert_eq!(t.server_fn(&desk, "end_sessions", &[]).await.status(), StatusCode::OK);
    assert!(!signed_in(&t, &phone).await);
    assert!(signed_in(&t, &desk).await, "this session stays signed in");
    let left = t.server_fn_json(&desk, "my_sessions", &[]).await;
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["current"], true);

    // Everywhere, this one too.
    assert_eq!(t.server_fn(&desk, "end_sessions", &[("everywhere", "on")]).await.status(), StatusCode::OK);
    assert!(!signed_in(&t, &desk).await);

    let audit = actions(&t).await;
    assert!(
        audit.iter().any(|(a, d)| a == "session.ended" && d.contains("Firefox on Windows, 198.51.100.7")),
        "{audit:?}"
    );
    assert!(audit.iter().any(|(a, d)| a == "session.ended_all" && d.starts_with("every other session")));
    assert!(audit.iter().any(|(a, d)| a == "session.ended_all" && d.starts_with("every session")));
});

db_test!(sign_out_is_recorded_and_a_password_change_ends_the_listed_sessions, |t: TestApp| async move {
    t.user("editor@example.com", Role::Editor, &t.demo).await;
    let a = sign_in_from(&t, "198.51.100.7", FIREFOX).await;
    let b = sign_in_from(&t, "203.0.113.9", CHROME).await;
    let logout = axum::http::Request::post("/logout")
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "http://localhost")
        .header(header::COOKIE, &a)
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(t.send(logout).await.status(), StatusCode::SEE_OTHER);
    assert!(actions(&t).await.iter().any(|(a, _)| a == "sign_out"));
    assert_eq!(
        t.server_fn_json(&b, "my_sessions", &[]).await.as_array().unwrap().len(),
        1,
        "the signed-out one is gone"
    );

    let pw = [
        ("current_password", PASSWORD),
        ("new_password", "a brand new passphrase"),
        ("confirm", "a brand new passphrase"),
    ];
    let changed = t.server_fn(&b, "change_password", &pw).await;
    assert_eq!(changed.status(), StatusCode::OK);
    // Signed in again under a fresh session id (a new cookie).
    let b = session_cookie(&changed).expect("a new session cookie");
    let after = t.server_fn_json(&b, "my_sessions", &[]).await;
    assert_eq!(after.as_array().unwrap().len(), 1, "only this session, signed in again: {after}");
    assert_eq!(after[0]["current"], true);
});

db_test!(owners_end_every_session_of_a_user_and_nobody_else_may, |t: TestApp| async move {
    let editor_id = t.user("editor@example.com", Role::Editor, &t.demo).await;
    let session = sign_in_from(&t, "198.51.100.7", FIREFOX).await;
    let owner_id = t.user("owner@example.com", Role::Support, &t.demo).await;
    t.store.set_instance_role(owner_id, Some(imgflush::domain::InstanceRole::Owner)).await.unwrap();
    let owner = t.login("owner@example.com").await;
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let admin = t.login("admin@example.com").await;

    let form = [("user_id", editor_id.to_string())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(t.server_fn(&admin, "end_user_sessions", &form).await.status(), StatusCode::FORBIDDEN);
    assert!(signed_in(&t, &session).await, "a project admin may not");
    assert_eq!(t.server_fn_json(&owner, "end_user_sessions", &form).await, Value::from(1));
    assert!(!signed_in(&t, &session).await);
    assert!(signed_in(&t, &admin).await, "another user's sessions are untouched");
    let audit = actions(&t).await;
    assert!(audit.iter().any(|(a, d)| a == "session.ended_by_owner" && d.contains("editor@example.com")), "{audit:?}");
});
