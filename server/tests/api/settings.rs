//! Everything on the Settings page through the API: `/api/v1/project` and
//! `/api/v1/targets`, read by any key of the project, changed by admin keys
//! without limits, checked as the page checks them.

use super::*;
use imgflush::domain::key_limits::KeyLimits;

fn send(method: &str, uri: &str, key: &str, body: &Value) -> Request<Body> {
    request(method, uri, Some(key))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

db_test!(project_settings_are_read_and_changed_with_the_pages_checks, |t: TestApp| async move {
    let admin = key(&t, &t.demo, "admin", "admin").await;
    let editor = key(&t, &t.demo, "editor", "editor").await;
    let doc = call(&t, get("/api/v1/project", Some(&editor))).await;
    let doc = &doc.expect(200)["project"];
    assert_eq!(doc["token"], "demo");
    assert_eq!(doc["signing"], false);

    let change = json!({
        "origin_hosts": ["img.example.com", "cdn.example.com"],
        "soft_purge": true,
        "sign_salt": "a-salt-of-some-length",
        "max_age_secs": 86400,
        "tag_rules": ["/img.example.com/products/* products"],
        "confirm_above_objects": 5000,
        "retention_days": 30
    });
    let after = call(&t, send("PATCH", "/api/v1/project", &admin, &change)).await;
    let after = &after.expect(200)["project"];
    assert_eq!(after["origin_hosts"], json!(["img.example.com", "cdn.example.com"]));
    assert_eq!((after["soft_purge"].as_bool(), after["signing"].as_bool()), (Some(true), Some(true)));
    assert_eq!((after["max_age_secs"].as_i64(), after["retention_days"].as_i64()), (Some(86400), Some(30)));
    assert_eq!(after["tag_rules"], json!(["/img.example.com/products/* products"]));
    assert!(!after.to_string().contains("a-salt-of-some-length"), "the salt never comes back");

    // Every bad field named at once, and nothing changed.
    let bad =
        json!({"max_age_secs": -1, "origin_scheme": "ftp", "sealed": true, "sign_salt": null, "retention_days": 30});
    let r = call(&t, send("PATCH", "/api/v1/project", &admin, &bad)).await;
    let e = r.expect_error(400, "invalid_input");
    let fields: Vec<&str> = e["details"].as_array().unwrap().iter().filter_map(|d| d["field"].as_str()).collect();
    for field in ["max_age_secs", "origin_scheme", "sealed"] {
        assert!(fields.contains(&field), "{field}: {e}");
    }
    let now = call(&t, get("/api/v1/project", Some(&admin))).await;
    assert_eq!(now.expect(200)["project"], *after, "a refused change changes nothing");
    let r = call(&t, send("PATCH", "/api/v1/project", &admin, &json!({"retention_days": 0}))).await;
    r.expect_error(400, "invalid_input");
    // `null` clears; unknown fields are refused by name.
    let r = call(&t, send("PATCH", "/api/v1/project", &admin, &json!({"confirm_above_objects": null}))).await;
    assert_eq!(r.expect(200)["project"]["confirm_above_objects"], Value::Null);
    let r = call(&t, send("PATCH", "/api/v1/project", &admin, &json!({"colour": "blue"}))).await;
    assert!(r.expect(422)["message"].as_str().unwrap().contains("colour"), "{}", r.body);

    // Who may change: admins, not editors, not limited keys; private origins: owners only.
    let r = call(&t, send("PATCH", "/api/v1/project", &editor, &json!({"soft_purge": false}))).await;
    r.expect_error(403, "forbidden");
    let limits = KeyLimits::parse("/img.example.com/blog/*", "", &[]).unwrap();
    let operator = Actor::operator(t.demo.clone());
    let narrow = t.app.services.keys.create_limited(&operator, "narrow", "admin", limits).await.unwrap().1;
    let r = call(&t, send("PATCH", "/api/v1/project", &narrow, &json!({"soft_purge": false}))).await;
    r.expect_error(403, "forbidden");
    let r = call(&t, send("PATCH", "/api/v1/project", &admin, &json!({"allow_private_origins": true}))).await;
    assert!(r.expect_error(400, "invalid_input").to_string().contains("allow_private_origins"));

    // The audit trail has the change, without the salt.
    let trail = t.app.services.audit.project_log(&operator, Default::default()).await.unwrap();
    let changed: Vec<_> = trail.iter().filter(|e| e.action == "settings.changed").collect();
    assert!(!changed.is_empty() && changed.iter().all(|e| !e.detail.contains("a-salt-of-some-length")));
});

db_test!(targets_are_listed_added_changed_tested_and_removed, |t: TestApp| async move {
    let admin = key(&t, &t.demo, "admin", "admin").await;
    let support = key(&t, &t.demo, "support", "support").await;
    let recorder = Recorder::start().await;
    let url = recorder.url("/_purge");
    let body =
        json!({"kind": "varnish", "name": "node-a", "url": url, "secret": "a-node-secret-of-length", "settings": {}});
    let added = call(&t, send("POST", "/api/v1/targets", &admin, &body)).await;
    let added = added.expect(201)["target"].clone();
    assert_eq!((added["kind"].as_str(), added["secret_set"].as_bool()), (Some("varnish"), Some(true)));
    assert!(!added.to_string().contains("a-node-secret-of-length"));

    let list = call(&t, get("/api/v1/targets", Some(&support))).await;
    let listed = &list.expect(200)["targets"];
    let node = listed.as_array().unwrap().iter().find(|t| t["name"] == "node-a").expect("listed").clone();
    assert!(!node["url"].as_str().unwrap().contains("/_purge"), "support sees the host only: {node}");
    let r = call(&t, send("POST", "/api/v1/targets", &support, &body)).await;
    r.expect_error(403, "forbidden");

    // A change keeps what it leaves out (the secret included).
    let r = call(&t, send("PATCH", "/api/v1/targets/node-a", &admin, &json!({"name": "node-b"}))).await;
    let changed = r.expect(200)["target"].clone();
    assert_eq!((changed["name"].as_str(), changed["secret_set"].as_bool()), (Some("node-b"), Some(true)));
    let id = changed["id"].as_i64().unwrap();
    let r = call(&t, get(&format!("/api/v1/targets/{id}"), Some(&admin))).await;
    assert_eq!(r.expect(200)["target"]["name"], "node-b");
    let tested =
        call(&t, request("POST", "/api/v1/targets/node-b/test", Some(&admin)).body(Body::empty()).unwrap()).await;
    assert!(tested.expect(200)["answer"].as_str().unwrap().starts_with("ok"), "{}", tested.body);
    let calls = recorder.requests();
    let secret = Some("a-node-secret-of-length");
    assert!(calls.iter().any(|c| c.header("x-purge-secret") == secret), "the kept secret is used");

    // Bad fields named; another project's target is not found.
    let bad = json!({"kind": "varnish", "name": "", "url": "ftp://x"});
    let r = call(&t, send("POST", "/api/v1/targets", &admin, &bad)).await;
    let e = r.expect_error(400, "invalid_input").to_string();
    assert!(e.contains("\"name\"") && e.contains("\"url\""), "{e}");
    let other = t.project("other").await;
    let foreign = key(&t, &other, "admin", "admin").await;
    call(&t, get("/api/v1/targets/node-b", Some(&foreign))).await.expect_error(404, "not_found");
    call(&t, send("PATCH", "/api/v1/targets/node-b", &foreign, &json!({"name": "x"})))
        .await
        .expect_error(404, "not_found");

    let gone = call(&t, request("DELETE", "/api/v1/targets/node-b", Some(&admin)).body(Body::empty()).unwrap()).await;
    assert_eq!(gone.expect(200)["target"]["name"], "node-b");
    call(&t, get("/api/v1/targets/node-b", Some(&admin))).await.expect_error(404, "not_found");
});
