//! Two console instances on one PostgreSQL database behave as one: a key's
//! API budget and the sign-in throttle are counted across both (within the
//! limiter's tolerance: each instance sees the other's events after its next
//! sync). Runs when `TEST_DATABASE_URL` is set.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use tower::ServiceExt;

use common::*;
use imgflush::backend::store;
use imgflush::backend::Actor;
use imgflush::domain::Role;
use server::{App, Config};

/// Sync interval in these tests; waiting [`SETTLE`] lets both instances sync twice.
const SYNC_MS: u64 = 200;
const SETTLE: Duration = Duration::from_millis(4 * SYNC_MS + 300);

/// Instance A (the [`TestApp`], which owns the database) and instance B on the same database.
async fn two_instances(tweak: fn(&mut Config)) -> Option<(TestApp, App)> {
    let a = TestApp::with_config(Db::Postgres, |c| {
        c.limits.sync_ms = SYNC_MS;
        tweak(c)
    })
    .await?;
    let b = server::build_with_store(a.app.config.clone(), store::connect(&a.db.url).await.unwrap()).await.unwrap();
    Some((a, b))
}

async fn send(router: &Router, req: Request<Body>) -> axum::response::Response {
    router.clone().oneshot(req).await.unwrap()
}

fn create(key: &str, n: usize) -> Request<Body> {
    let body = serde_json::json!({"scope": "original", "urls": [format!("/sample.li/{n}.jpg")]});
    Request::post("/invalidate")
        .header(header::HOST, "localhost")
        .header("x-client-key", key)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn login(email: &str, password: &str) -> Request<Body> {
    let peer: std::net::SocketAddr = "192.0.2.10:40000".parse().unwrap();
    Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "http://localhost")
        .header(header::HOST, "localhost")
        .extension(axum::extract::ConnectInfo(peer))
        .body(Body::from(format!("email={}&password={}&next=%2F", enc(email), enc(password))))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keys_budget_spent_across_two_instances_answers_429_on_either() {
    let Some((a, b)) = two_instances(|c| c.api.requests_per_minute = 10).await else {
        eprintln!("TEST_DATABASE_URL not set: skipped");
        return;
    };
    let key = a.app.services.keys.create(&Actor::operator(a.demo.clone()), "ci", "editor").await.unwrap().1;
    for n in 0..6 {
        assert_eq!(send(&a.router, create(&key, n)).await.status(), StatusCode::CREATED, "request {n} on A");
    }
    tokio::time::sleep(SETTLE).await;
    for n in 6..10 {
        assert_eq!(send(&b.router, create(&key, n)).await.status(), StatusCode::CREATED, "request {n} on B");
    }
    let over = send(&b.router, create(&key, 10)).await;
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS, "B counted A's 6 requests");
    assert!(over.headers().contains_key(header::RETRY_AFTER));
    tokio::time::sleep(SETTLE).await;
    let over = send(&a.router, create(&key, 11)).await;
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS, "A counted B's 4 requests");
    // A refused request counts nothing: 10 accepted in all, none beyond.
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invalidations")
        .fetch_one(&sqlx::PgPool::connect(&a.db.url).await.unwrap())
        .await
        .unwrap();
    assert_eq!(stored, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_failures_on_one_instance_throttle_the_other() {
    let Some((a, b)) = two_instances(|c| c.security.login_attempts_per_account = 3).await else {
        eprintln!("TEST_DATABASE_URL not set: skipped");
        return;
    };
    a.user("alice@example.com", Role::Editor, &a.demo).await;
    for n in 0..3 {
        let resp = send(&a.router, login("alice@example.com", "wrong password")).await;
        assert!(location(&resp).contains("error=invalid"), "attempt {n} on A: {}", location(&resp));
    }
    tokio::time::sleep(SETTLE).await;
    let resp = send(&b.router, login("alice@example.com", PASSWORD)).await;
    assert!(location(&resp).contains("error=throttled"), "B refused the right password: {}", location(&resp));
    assert!(session_cookie(&resp).is_none());
    // And A, where the failures happened, refuses it as well.
    let resp = send(&a.router, login("alice@example.com", PASSWORD)).await;
    assert!(location(&resp).contains("error=throttled"), "{}", location(&resp));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_successful_sign_in_resets_the_pair_on_every_instance() {
    let Some((a, b)) = two_instances(|c| c.security.login_attempts_per_account = 3).await else {
        eprintln!("TEST_DATABASE_URL not set: skipped");
        return;
    };
    a.user("bob@example.com", Role::Editor, &a.demo).await;
    for _ in 0..2 {
        send(&b.router, login("bob@example.com", "wrong password")).await;
    }
    tokio::time::sleep(SETTLE).await;
    let ok = send(&a.router, login("bob@example.com", PASSWORD)).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert!(session_cookie(&ok).is_some(), "{}", location(&ok));
    tokio::time::sleep(SETTLE).await;
    // B forgot its 2 failures: 2 more are still "invalid", not "throttled".
    for n in 0..2 {
        let resp = send(&b.router, login("bob@example.com", "wrong password")).await;
        assert!(location(&resp).contains("error=invalid"), "attempt {n} on B: {}", location(&resp));
    }
}
