//! The anchor-compatible `/invalidate` endpoints.

use super::*;

db_test!(anchor_create_and_status, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let r = call(&t, post("/invalidate", Some(&k), &original(&["/sample.li/flat1.jpg", "/sample.li/b%20c.jpg"]))).await;
    let body = r.expect(201);
    assert_eq!(body["status"], "success");
    assert_eq!(body["msg"], "Your invalidation request has been received");
    assert_eq!(body["invalidation"]["status"], "RECEIVED");
    assert_eq!(body["invalidation"].as_object().unwrap().len(), 3, "{body}");
    let anchor_time = assert_anchor_time(&body["invalidation"]["added_at"]);
    let uuid = body["invalidation"]["uuid"].as_str().unwrap().to_owned();
    // The same instant as the native API's RFC 3339 answer.
    let native = call(&t, get(&format!("/api/v1/invalidations/{uuid}"), Some(&k))).await;
    let created = native.expect(200)["invalidation"]["created_at"].clone();
    assert_rfc3339_utc(&created);
    let created = chrono::DateTime::parse_from_rfc3339(created.as_str().unwrap()).unwrap().naive_utc();
    assert_eq!(anchor_time, created);
    let added_at = body["invalidation"]["added_at"].clone();

    let r = call(&t, get(&format!("/invalidate/{uuid}"), Some(&k))).await;
    let inv = &r.expect(200)["invalidation"];
    assert_eq!(r.body["status"], "success");
    assert_eq!(inv["status"], "RECEIVED");
    assert_eq!(inv["uuid"], uuid.as_str());
    assert_eq!(inv["added_at"], added_at);
    assert_eq!(inv["scope"], "original");
    assert_eq!(inv["urls"]["received"], json!(["/sample.li/flat1.jpg", "/sample.li/b%20c.jpg"]));
    assert_eq!(inv["urls"]["invalidated"], json!([]));
    assert_eq!(inv["urls"]["failed"], json!([]));

    let r = call(&t, post("/invalidate", Some(&k), &json!({"scope": "all"}))).await;
    let uuid = r.expect(201)["invalidation"]["uuid"].as_str().unwrap().to_owned();
    let r = call(&t, get(&format!("/invalidate/{uuid}"), Some(&k))).await;
    assert_eq!(r.expect(200)["invalidation"]["scope"], "all");
    assert_eq!(r.body["invalidation"]["urls"]["received"], json!([]));

    // Submitted through the API, shown in the console log with the key's name.
    let id = InvalidationId::parse(&uuid).unwrap();
    let stored = t.store.invalidation(t.demo.id, id).await.unwrap();
    assert_eq!(stored.submitted_by, "API key ci");
});

db_test!(anchor_status_lists_invalidated_and_failed_urls, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let done = create(&t, &k, &["/a.jpg", "/b/*"]).await;
    finish(&t, &done, Status::Done).await;
    let failed = create(&t, &k, &["/c.jpg"]).await;
    finish(&t, &failed, Status::ErrorCdnNode).await;

    let r = call(&t, get(&format!("/invalidate/{done}"), Some(&k))).await;
    let urls = &r.expect(200)["invalidation"]["urls"];
    assert_eq!(r.body["invalidation"]["status"], "DONE");
    assert_eq!(urls["received"], json!(["/a.jpg", "/b/*"]));
    assert_eq!(urls["invalidated"], json!(["/a.jpg", "/b/*"]));
    assert_eq!(urls["failed"], json!([]));

    let r = call(&t, get(&format!("/invalidate/{failed}"), Some(&k))).await;
    let urls = &r.expect(200)["invalidation"]["urls"];
    assert_eq!(r.body["invalidation"]["status"], "ERROR_CDN_NODE");
    assert_eq!(urls["invalidated"], json!([]));
    assert_eq!(urls["failed"], json!(["/c.jpg"]));
});
