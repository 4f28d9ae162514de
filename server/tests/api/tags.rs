//! Scope `tag` in `/api/v1` (and not in the anchor's API), the dry run and
//! the search by tag.

use super::*;

db_test!(tag_invalidations_are_v1_only_and_named_as_tags, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let r = call(
        &t,
        post("/api/v1/invalidations", Some(&k), &json!({"scope": "tag", "tags": ["products", "shoes", "products"]})),
    )
    .await;
    let inv = &r.expect(201)["invalidation"];
    assert_eq!(inv["scope"], "tag");
    assert_eq!(inv["tags"], json!(["products", "shoes"]), "duplicates dropped");
    assert_eq!(inv["paths"], json!([]));
    let id = inv["id"].as_str().unwrap().to_owned();
    let one = call(&t, get(&format!("/api/v1/invalidations/{id}"), Some(&k))).await;
    assert_eq!(one.expect(200)["invalidation"]["tags"], json!(["products", "shoes"]));

    // The search finds a tag exactly, never by its start.
    let found = call(&t, get("/api/v1/invalidations?q=products", Some(&k))).await;
    assert_eq!(found.expect(200)["invalidations"][0]["id"], id.as_str());
    let partial = call(&t, get("/api/v1/invalidations?q=prod", Some(&k))).await;
    assert_eq!(partial.expect(200)["invalidations"], json!([]));

    // The anchor's API keeps its two scopes.
    let r = call(&t, post("/invalidate", Some(&k), &json!({"scope": "tag", "urls": ["products"]}))).await;
    let e = r.expect_error(400, "invalid_input");
    assert_eq!(e["details"][0]["field"], "scope");
    assert!(e["message"].as_str().unwrap().contains("/api/v1/invalidations"), "{e}");

    // Each scope takes its own list, and every bad tag is named.
    let r = call(&t, post("/api/v1/invalidations", Some(&k), &json!({"scope": "tag", "urls": ["/a.jpg"]}))).await;
    assert_eq!(r.expect_error(400, "invalid_input")["details"][0]["field"], "urls");
    let r = call(
        &t,
        post("/api/v1/invalidations", Some(&k), &json!({"scope": "original", "urls": ["/a.jpg"], "tags": ["x"]})),
    )
    .await;
    assert_eq!(r.expect_error(400, "invalid_input")["details"][0]["field"], "tags");
    let r = call(
        &t,
        post("/api/v1/invalidations", Some(&k), &json!({"scope": "tag", "tags": ["ok", "a b", "imgflush-t-demo"]})),
    )
    .await;
    let e = r.expect_error(400, "invalid_input");
    let details = e["details"].as_array().unwrap();
    assert_eq!(details.len(), 2, "{e}");
    assert_eq!(details[0]["field"], "tags");
    assert_eq!(details[0]["entry"], "a b");
    assert!(details[1]["message"].as_str().unwrap().contains("reserved"), "{e}");
    let sixteen: Vec<String> = (0..16).map(|i| format!("t{i}")).collect();
    let r = call(&t, post("/api/v1/invalidations", Some(&k), &json!({"scope": "tag", "tags": sixteen}))).await;
    assert!(r.expect_error(400, "invalid_input")["message"].as_str().unwrap().contains("at most 15 tags"));
    let r = call(&t, post("/api/v1/invalidations", Some(&k), &json!({"scope": "tag"}))).await;
    assert!(r.expect_error(400, "invalid_input")["message"].as_str().unwrap().contains("at least one tag"));
});

db_test!(a_dry_run_stores_and_purges_nothing, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    for body in [
        json!({"scope": "tag", "tags": ["products"]}),
        json!({"scope": "all"}),
        json!({"scope": "original", "urls": ["/sample.li/a.jpg", "/sample.li/dir/*"]}),
    ] {
        let r = call(&t, post("/api/v1/invalidations?dry_run=true", Some(&k), &body)).await;
        let p = r.expect(200);
        assert_eq!(p["dry_run"], true);
        assert_eq!(p["scope"], body["scope"]);
        assert_eq!((p["objects"].as_u64(), p["bytes"].as_u64()), (Some(0), Some(0)));
        assert_eq!(p["targets"], json!([]), "the demo project has no targets here");
        assert!(p["summary"].as_str().unwrap().contains("no target can count"), "{p}");
        assert_eq!(p["needs_confirmation"], Value::Null);
    }
    let r = call(&t, post("/api/v1/invalidations?dry_run=true", Some(&k), &original(&["/sample.li/a.jpg"]))).await;
    assert_eq!(r.expect(200)["items"], json!(["/sample.li/a.jpg"]));
    let list = call(&t, get("/api/v1/invalidations", Some(&k))).await;
    assert_eq!(list.expect(200)["invalidations"], json!([]), "a dry run stores nothing");
    // A bad flag and a bad body are still refused, naming the field.
    let r = call(&t, post("/api/v1/invalidations?dry_run=maybe", Some(&k), &original(&["/a.jpg"]))).await;
    assert_eq!(r.expect_error(400, "invalid_input")["details"][0]["field"], "dry_run");
    let r = call(&t, post("/api/v1/invalidations?dry_run=true", Some(&k), &original(&["a.jpg?w=1"]))).await;
    assert_eq!(r.expect_error(400, "invalid_input")["details"][0]["field"], "urls");
    // A read-only key may not preview (it may not submit).
    let support = key(&t, &t.demo, "ro", "support").await;
    let r = call(&t, post("/api/v1/invalidations?dry_run=true", Some(&support), &original(&["/a.jpg"]))).await;
    assert_eq!(r.status, 403);
});
