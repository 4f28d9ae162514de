//! The per-key rate limit and unknown routes and methods.

use super::*;

macro_rules! db_test_with_config {
    ($name:ident, $tweak:expr, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let t = TestApp::with_config(Db::Sqlite, $tweak).await.unwrap();
                ($body)(t).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(t) = TestApp::with_config(Db::Postgres, $tweak).await else {
                    eprintln!("TEST_DATABASE_URL not set: PostgreSQL half skipped");
                    return;
                };
                ($body)(t).await;
            }
        }
    };
}

db_test_with_config!(
    rate_limit_is_per_key_with_retry_after,
    |c: &mut server::Config| c.api.requests_per_minute = 3,
    |t: TestApp| async move {
        let k = key(&t, &t.demo, "ci", "editor").await;
        let other = key(&t, &t.demo, "other", "support").await;
        for _ in 0..3 {
            call(&t, get("/api/v1/invalidations", Some(&k))).await.expect(200);
        }
        for req in [get("/api/v1/invalidations", Some(&k)), post("/invalidate", Some(&k), &original(&["/a.jpg"]))] {
            let r = call(&t, req).await;
            r.expect_error(429, "rate_limited");
            let secs: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
            // A sliding window: the oldest of the 3 requests leaves it within the minute.
            assert!((1..=60).contains(&secs), "{secs}");
        }
        assert!(t.store.list_invalidations(t.demo.id, &Default::default()).await.unwrap().is_empty());
        call(&t, get("/api/v1/invalidations", Some(&other))).await.expect(200);
        call(&t, get("/api/v1/openapi.json", None)).await.expect(200);
    }
);

db_test!(unknown_routes_and_methods_answer_json, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    call(&t, get("/api/v1/nothing-here", Some(&k))).await.expect_error(404, "not_found");
    call(&t, get("/api/v1", None)).await.expect_error(404, "not_found");
    let r = call(&t, request("DELETE", "/api/v1/invalidations", Some(&k)).body(Body::empty()).unwrap()).await;
    r.expect_error(405, "method_not_allowed");
    let r = call(&t, request("PUT", "/invalidate", Some(&k)).body(Body::empty()).unwrap()).await;
    r.expect_error(405, "method_not_allowed");
});

fn from(peer: &str, mut req: Request<Body>) -> Request<Body> {
    let addr: std::net::SocketAddr = format!("{peer}:40000").parse().unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo(addr));
    req
}

db_test_with_config!(
    an_address_sending_bad_keys_gets_429_before_any_lookup,
    |c: &mut server::Config| c.api.failed_keys_per_source = 3,
    |t: TestApp| async move {
        let good = key(&t, &t.demo, "ci", "editor").await;
        // Another last character (a fixed 'x' was the key itself once in 62 runs).
        let last = if good.ends_with('x') { 'y' } else { 'x' };
        let bad = format!("{}{last}", &good[..good.len() - 1]);
        for k in [Some(bad.as_str()), Some("imf_nope_nope"), None] {
            call(&t, from("203.0.113.5", get("/api/v1/invalidations", k))).await.expect_error(401, "unauthorized");
        }
        for k in [bad.as_str(), good.as_str()] {
            let r = call(&t, from("203.0.113.5", get("/api/v1/invalidations", Some(k)))).await;
            r.expect_error(429, "rate_limited");
            let secs: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
            assert!((1..=600).contains(&secs), "{secs}");
        }
        call(&t, from("198.51.100.7", get("/api/v1/invalidations", Some(&good)))).await.expect(200);
    }
);

db_test_with_config!(
    an_address_has_its_own_request_budget,
    |c: &mut server::Config| c.api.requests_per_minute_per_source = 2,
    |t: TestApp| async move {
        let a = key(&t, &t.demo, "a", "editor").await;
        let b = key(&t, &t.demo, "b", "editor").await;
        call(&t, from("203.0.113.5", get("/api/v1/invalidations", Some(&a)))).await.expect(200);
        call(&t, from("203.0.113.5", get("/api/v1/invalidations", Some(&b)))).await.expect(200);
        let r = call(&t, from("203.0.113.5", get("/api/v1/invalidations", Some(&b)))).await;
        r.expect_error(429, "rate_limited");
        call(&t, from("198.51.100.7", get("/api/v1/invalidations", Some(&a)))).await.expect(200);
    }
);

db_test!(key_last_use_is_written_at_most_once_a_minute, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let last_used = || async {
        let keys = t.store.list_api_keys(t.demo.id).await.unwrap();
        keys[0].last_used.map(|d| d.timestamp_millis())
    };
    call(&t, get("/api/v1/invalidations", Some(&k))).await.expect(200);
    let first = last_used().await.expect("recorded on first use");
    let id = t.store.list_api_keys(t.demo.id).await.unwrap()[0].id;
    let recent = now_ms() - 30_000;
    t.store.touch_api_key(id, recent, None).await.unwrap();
    call(&t, get("/api/v1/invalidations", Some(&k))).await.expect(200);
    assert_eq!(last_used().await, Some(recent), "not rewritten within the minute");
    let stale = now_ms() - 61_000;
    t.store.touch_api_key(id, stale, None).await.unwrap();
    // Written straight to the database, as by another instance: this console
    // reads the key again once its verified copy is a second old.
    tokio::time::sleep(imgflush::backend::keys::VERIFIED_FOR).await;
    call(&t, get("/api/v1/invalidations", Some(&k))).await.expect(200);
    assert!(last_used().await.unwrap() >= first, "rewritten once a minute has passed");
});
