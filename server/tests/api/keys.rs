//! Key authentication: both headers, last use, 401s, cross-project 404, roles.

use super::*;

db_test!(bearer_or_client_key_and_last_used, |t: TestApp| async move {
    let (api_key, secret) =
        t.app.services.keys.create(&Actor::operator(t.demo.clone()), "deploy", "editor").await.unwrap();
    assert!(api_key.last_used.is_none());
    let bearer = |req: axum::http::request::Builder| req.header(header::AUTHORIZATION, format!("Bearer {secret}"));

    let req = bearer(request("POST", "/invalidate", None))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(original(&["/x.jpg"]).to_string()))
        .unwrap();
    let uuid = call(&t, req).await.expect(201)["invalidation"]["uuid"].as_str().unwrap().to_owned();
    let req = bearer(request("GET", &format!("/api/v1/invalidations/{uuid}"), None)).body(Body::empty()).unwrap();
    let r = call(&t, req).await;
    assert_eq!(r.expect(200)["invalidation"]["submitted_by"], "API key deploy");
    let r = call(&t, get(&format!("/invalidate/{uuid}"), Some(&secret))).await;
    r.expect(200);

    let keys = t.store.list_api_keys(t.demo.id).await.unwrap();
    let used = keys.iter().find(|k| k.id == api_key.id).unwrap().last_used.expect("last_used recorded");
    assert!((chrono::Utc::now() - used).num_seconds().abs() < 60);
});

db_test!(missing_bad_and_revoked_keys_are_401, |t: TestApp| async move {
    let (api_key, secret) = t.app.services.keys.create(&Actor::operator(t.demo.clone()), "ci", "editor").await.unwrap();
    let id = create(&t, &secret, &["/a.jpg"]).await;
    let body = original(&["/a.jpg"]);

    for req in [
        post("/invalidate", None, &body),
        get(&format!("/invalidate/{id}"), None),
        post("/api/v1/invalidations", None, &body),
        get("/api/v1/invalidations", None),
        get(&format!("/api/v1/invalidations/{id}"), None),
        request("POST", &format!("/api/v1/invalidations/{id}/retry"), None).body(Body::empty()).unwrap(),
    ] {
        let r = call(&t, req).await;
        r.expect_error(401, "unauthorized");
        assert!(r.body["message"].as_str().unwrap().contains("X-Client-Key"));
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }

    let wrong = format!("{secret}x");
    for bad in ["nonsense", "imf_nope_nope", wrong.as_str()] {
        let r = call(&t, get("/api/v1/invalidations", Some(bad))).await;
        r.expect_error(401, "unauthorized");
        assert!(!r.body.to_string().contains(bad), "the presented key is never echoed");
    }
    let basic = request("GET", "/api/v1/invalidations", None)
        .header(header::AUTHORIZATION, "Basic dXNlcjpwYXNz")
        .body(Body::empty())
        .unwrap();
    call(&t, basic).await.expect_error(401, "unauthorized");

    // Revoked in this console (a revocation elsewhere applies within a second:
    // services.rs), the key is refused at once, although it was just used.
    let admin = t.actor("admin@example.com", imgflush::domain::Role::Admin, &t.demo).await;
    t.app.services.keys.revoke(&admin, api_key.id).await.unwrap();
    call(&t, get(&format!("/invalidate/{id}"), Some(&secret))).await.expect_error(401, "unauthorized");
    call(&t, post("/api/v1/invalidations", Some(&secret), &body)).await.expect_error(401, "unauthorized");
});

db_test!(another_projects_invalidation_is_404, |t: TestApp| async move {
    let other = t.project("other").await;
    let ours = key(&t, &t.demo, "ci", "editor").await;
    let theirs = key(&t, &other, "ci", "editor").await;
    let id = create(&t, &ours, &["/a.jpg"]).await;
    finish(&t, &id, Status::Error).await;

    call(&t, get(&format!("/invalidate/{id}"), Some(&theirs))).await.expect_error(404, "not_found");
    call(&t, get(&format!("/api/v1/invalidations/{id}"), Some(&theirs))).await.expect_error(404, "not_found");
    let retry = |k: &str| post(&format!("/api/v1/invalidations/{id}/retry"), Some(k), &json!({}));
    call(&t, retry(&theirs)).await.expect_error(404, "not_found");
    let r = call(&t, get("/api/v1/invalidations", Some(&theirs))).await;
    assert_eq!(r.expect(200)["invalidations"], json!([]));
    // Still there, still errored, for its owner.
    let r = call(&t, get(&format!("/api/v1/invalidations/{id}"), Some(&ours))).await;
    assert_eq!(r.expect(200)["invalidation"]["status"], "ERROR");

    let absent = "0193a5b2-7c1d-7e4f-9a2b-3c4d5e6f7a8b";
    call(&t, get(&format!("/invalidate/{absent}"), Some(&ours))).await.expect_error(404, "not_found");
    call(&t, get(&format!("/api/v1/invalidations/{absent}"), Some(&ours))).await.expect_error(404, "not_found");
    let r = call(&t, get("/invalidate/inv-42", Some(&ours))).await;
    assert_eq!(r.expect_error(400, "invalid_input")["details"][0]["field"], "id");
    assert!(r.body["message"].as_str().unwrap().contains("is not a valid Invalidation ID"));
});

db_test!(support_key_reads_but_may_not_create_or_retry, |t: TestApp| async move {
    let editor = key(&t, &t.demo, "ci", "editor").await;
    let support = key(&t, &t.demo, "helpdesk", "support").await;
    let id = create(&t, &editor, &["/a.jpg"]).await;
    finish(&t, &id, Status::Error).await;

    let r = call(&t, post("/invalidate", Some(&support), &original(&["/a.jpg"]))).await;
    assert!(r.expect_error(403, "forbidden")["message"].as_str().unwrap().contains("support"));
    call(&t, post("/api/v1/invalidations", Some(&support), &original(&["/a.jpg"])))
        .await
        .expect_error(403, "forbidden");
    let retry = post(&format!("/api/v1/invalidations/{id}/retry"), Some(&support), &json!({}));
    call(&t, retry).await.expect_error(403, "forbidden");

    call(&t, get(&format!("/invalidate/{id}"), Some(&support))).await.expect(200);
    call(&t, get(&format!("/api/v1/invalidations/{id}"), Some(&support))).await.expect(200);
    let r = call(&t, get("/api/v1/invalidations", Some(&support))).await;
    assert_eq!(r.expect(200)["invalidations"].as_array().unwrap().len(), 1);
});
