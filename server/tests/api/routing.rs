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
            assert!((1..=20).contains(&secs), "{secs}");
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
