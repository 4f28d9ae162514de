//! API keys limited to path prefixes, tags and scopes: a submission outside
//! them is refused 403 naming the first path or tag outside, and so is its
//! dry run; the keys page and the CLI list the limits.

use super::*;
use imgflush::domain::key_limits::KeyLimits;

async fn limited(t: &TestApp, name: &str, prefixes: &str, tags: &str, scopes: &[&str]) -> String {
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    let limits = KeyLimits::parse(prefixes, tags, &scopes).unwrap();
    t.app.services.keys.create_limited(&Actor::operator(t.demo.clone()), name, "editor", limits).await.unwrap().1
}

db_test!(a_limited_key_purges_only_within_its_limits, |t: TestApp| async move {
    let blog = limited(&t, "blog", "/sample.li/blog/*", "", &[]).await;
    let uri = "/api/v1/invalidations";
    let ok = call(&t, post(uri, Some(&blog), &original(&["/sample.li/blog/a.jpg", "/sample.li/blog/2024/*"]))).await;
    ok.expect(201);
    let r = call(&t, post(uri, Some(&blog), &original(&["/sample.li/blog/a.jpg", "/sample.li/shop/b.jpg"]))).await;
    let e = r.expect_error(403, "forbidden");
    assert!(e["message"].as_str().unwrap().contains("\"/sample.li/shop/b.jpg\" is outside"), "{e}");
    let r = call(&t, post(uri, Some(&blog), &json!({"scope": "all"}))).await;
    assert!(r.expect_error(403, "forbidden")["message"].as_str().unwrap().contains("scope \"all\""));
    let r = call(&t, post(uri, Some(&blog), &json!({"scope": "tag", "tags": ["products"]}))).await;
    assert!(r.expect_error(403, "forbidden")["message"].as_str().unwrap().contains("\"products\""));
    // The anchor's API and the dry run keep the same limits.
    let r = call(&t, post("/invalidate", Some(&blog), &original(&["/sample.li/shop/b.jpg"]))).await;
    r.expect_error(403, "forbidden");
    let r = call(&t, post(&format!("{uri}?dry_run=true"), Some(&blog), &json!({"scope": "all"}))).await;
    r.expect_error(403, "forbidden");

    let shop = limited(&t, "shop", "", "products shoes", &["tag"]).await;
    call(&t, post(uri, Some(&shop), &json!({"scope": "tag", "tags": ["shoes"]}))).await.expect(201);
    let r = call(&t, post(uri, Some(&shop), &json!({"scope": "tag", "tags": ["shoes", "hats"]}))).await;
    assert!(r.expect_error(403, "forbidden")["message"].as_str().unwrap().contains("\"hats\""));
    let r = call(&t, post(uri, Some(&shop), &original(&["/sample.li/a.jpg"]))).await;
    assert!(r.expect_error(403, "forbidden")["message"].as_str().unwrap().contains("scope \"original\""));

    // Nothing outside the limits was stored.
    let all = limited(&t, "reader", "", "", &[]).await;
    let list = call(&t, get(uri, Some(&all))).await;
    assert_eq!(list.expect(200)["invalidations"].as_array().unwrap().len(), 2);

    // The key's limits are listed (the keys page and the CLI read this).
    let keys = t.app.services.keys.list(&Actor::operator(t.demo.clone())).await.unwrap();
    let described: Vec<String> = keys.iter().map(|k| k.limits.describe()).collect();
    assert_eq!(described, ["paths under /sample.li/blog/*", "tags products, shoes; scopes tag", "no limits"]);
});

db_test!(a_limited_key_cannot_retry_beyond_its_limits, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let id = create(&t, &k, &["/sample.li/shop/a.jpg"]).await;
    finish(&t, &id, Status::Error).await;
    let blog = limited(&t, "blog", "/sample.li/blog/*", "", &[]).await;
    let r = call(&t, post(&format!("/api/v1/invalidations/{id}/retry"), Some(&blog), &json!({}))).await;
    assert!(r.expect_error(403, "forbidden")["message"].as_str().unwrap().contains("/sample.li/shop/a.jpg"));
    let r = call(&t, post(&format!("/api/v1/invalidations/{id}/retry"), Some(&k), &json!({}))).await;
    r.expect(200);
    // Nor cancel one outside them.
    let queued = create(&t, &k, &["/sample.li/shop/b.jpg"]).await;
    let r = call(&t, post(&format!("/api/v1/invalidations/{queued}/cancel"), Some(&blog), &json!({}))).await;
    assert!(r.expect_error(403, "forbidden")["message"].as_str().unwrap().contains("/sample.li/shop/b.jpg"));
    let mine = create(&t, &blog, &["/sample.li/blog/c.jpg"]).await;
    let r = call(&t, post(&format!("/api/v1/invalidations/{mine}/cancel"), Some(&blog), &json!({}))).await;
    assert_eq!(r.expect(200)["invalidation"]["status"], "CANCELLED");
});
