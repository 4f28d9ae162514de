//! `GET /api/v1/lookup`: "is this URL fresh?" for the key's own project.

use super::*;

fn lookup(url: &str, check: bool) -> String {
    let check = if check { "&check=true" } else { "" };
    format!("/api/v1/lookup?url={}{check}", common::enc(url))
}

fn ids(body: &Value) -> Vec<String> {
    let mut ids: Vec<String> =
        body["invalidations"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

db_test!(a_url_maps_to_its_path_and_the_invalidations_that_covered_it, |t: TestApp| async move {
    let k = key(&t, &t.demo, "ci", "editor").await;
    let a = create(&t, &k, &["/sample.li/a.jpg"]).await;
    let dir = create(&t, &k, &["/sample.li/dir/*"]).await;
    let _other = create(&t, &k, &["/sample.li/other.jpg"]).await;
    let all = call(&t, post("/api/v1/invalidations", Some(&k), &json!({"scope": "all"}))).await.expect(201)
        ["invalidation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    call(&t, post("/api/v1/invalidations", Some(&k), &json!({"scope": "tag", "tags": ["x"]}))).await.expect(201);

    for url in [
        "/demo/sample.li/a.jpg?w=300",
        "https://img.example.net/demo/v7/sample.li/a.jpg?w=300",
        "//img.example.net/demo/sample.li/a.jpg?w=300",
    ] {
        let r = call(&t, get(&lookup(url, false), Some(&k))).await;
        let body = r.expect(200);
        assert_eq!(body["origin_path"], "/sample.li/a.jpg", "{url}");
        assert_eq!(body["token"], "demo");
        let mut want = vec![a.clone(), all.clone()];
        want.sort();
        assert_eq!(ids(body), want, "{url}: the path itself and scope all, not other paths or tags");
        assert_eq!(body["last_done_at"], Value::Null);
        assert_eq!(body["caches"], Value::Null);
    }
    let r = call(&t, get(&lookup("/demo/sample.li/dir/sub/x.jpg", false), Some(&k))).await;
    let mut want = vec![dir.clone(), all.clone()];
    want.sort();
    assert_eq!(ids(r.expect(200)), want, "a prefix covers the paths under it");

    finish(&t, &a, Status::Done).await;
    let r = call(&t, get(&lookup("/demo/sample.li/a.jpg?w=300", true), Some(&k))).await;
    let body = r.expect(200);
    assert!(body["last_done_at"].is_string(), "{body}");
    assert_eq!(body["query"], "w=300");
    assert_eq!(body["caches"], json!([]), "the demo project has no targets here");

    // Another project's URL answers like a URL of no project at all.
    t.project("other").await;
    for url in ["/other/sample.li/a.jpg", "/nobody/sample.li/a.jpg", "https://elsewhere.example/sample.li/a.jpg"] {
        let r = call(&t, get(&lookup(url, false), Some(&k))).await;
        let e = r.expect_error(400, "invalid_input");
        assert_eq!(e["details"][0]["field"], "url");
        assert!(e["message"].as_str().unwrap().contains("names no project"), "{e}");
    }
    let r = call(&t, get("/api/v1/lookup", Some(&k))).await;
    assert_eq!(r.expect_error(400, "invalid_input")["details"][0]["field"], "url");
});
