//! Caching, the three addressings, and the purge contract.

mod common;

use common::*;
use imgflush::domain::cache_key::xkey_value;

#[tokio::test]
async fn miss_hit_origin_change_then_purge() {
    let h = Harness::start().await;
    h.origin.state.put("/img/a.jpg", Answer::Body(jpeg(800, 600, RED)));
    let url = h.url("demo", "/img/a.jpg?w=300");

    let first = h.get(&url).await;
    assert_eq!(first.status(), 200);
    assert_eq!(x_cache(&first), "MISS");
    assert_eq!(header(&first, "content-type"), "image/jpeg");
    let path = h.origin_path("/img/a.jpg");
    assert_eq!(header(&first, "xkey"), xkey_value::<&str>("demo", &path, &[]));
    assert_eq!(header(&first, "x-imgflush-token"), "demo");
    assert_eq!(header(&first, "x-imgflush-path"), path);
    assert_eq!(header(&first, "cache-control"), "public, max-age=2592000, s-maxage=31536000");
    assert_eq!(header(&first, "age"), "0");
    let etag = header(&first, "etag");
    assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");
    let body = first.bytes().await.unwrap();
    let (w, hh, c) = inspect(&body);
    assert_eq!((w, hh), (300, 225));
    assert!(close(c, RED));

    h.origin.state.put("/img/a.jpg", Answer::Body(jpeg(800, 600, BLUE)));
    let second = h.get(&url).await;
    assert_eq!(x_cache(&second), "HIT");
    assert_eq!(second.bytes().await.unwrap(), body, "still the cached bytes");
    assert_eq!(h.origin.state.hits(), 1);

    let not_modified = h.client.get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(not_modified.status(), 304);
    assert_eq!(header(&not_modified, "etag"), etag);

    assert_eq!(h.purge_paths("demo", &[path]).await, 1);
    let third = h.get(&url).await;
    assert_eq!(x_cache(&third), "MISS");
    assert!(close(inspect(&third.bytes().await.unwrap()).2, BLUE), "fresh bytes after the purge");
}

#[tokio::test]
async fn one_path_purge_removes_every_variant_and_only_that_path() {
    let h = Harness::start().await;
    for p in ["/a/1.jpg", "/a/2.jpg", "/b/x.jpg"] {
        h.origin.state.put(p, Answer::Body(jpeg(640, 480, RED)));
    }
    for q in ["?w=300", "?w=500", "?w=300&vh=1"] {
        assert_eq!(x_cache(&h.get(&h.url("demo", &format!("/a/1.jpg{q}"))).await), "MISS");
    }
    for p in ["/a/2.jpg", "/b/x.jpg"] {
        h.get(&h.url("demo", p)).await;
    }
    let (status, body) =
        h.purge(serde_json::json!({"token": "demo", "scope": "original", "paths": [h.origin_path("/a/1.jpg")]})).await;
    assert_eq!((status, body["removed"].as_u64()), (200, Some(3)), "{body}");
    // The answer names the removed variants as request paths (for the worker's verification).
    let mut urls: Vec<String> = serde_json::from_value(body["urls"].clone()).unwrap();
    urls.sort();
    let base = h.origin_path("/a/1.jpg");
    assert_eq!(urls, [format!("{base}?w=300"), format!("{base}?w=300&vh=1"), format!("{base}?w=500")]);
    for q in ["?w=300", "?w=500", "?w=300&vh=1"] {
        assert_eq!(x_cache(&h.get(&h.url("demo", &format!("/a/1.jpg{q}"))).await), "MISS", "{q}");
    }
    assert_eq!(x_cache(&h.get(&h.url("demo", "/a/2.jpg")).await), "HIT");

    // Prefix: /a/* takes both /a/ paths (4 objects now), keeps /b/x.jpg.
    assert_eq!(h.purge_paths("demo", &[h.origin_path("/a/*")]).await, 4);
    assert_eq!(x_cache(&h.get(&h.url("demo", "/a/2.jpg")).await), "MISS");
    assert_eq!(x_cache(&h.get(&h.url("demo", "/b/x.jpg")).await), "HIT");
    let (status, body) = h.purge(serde_json::json!({"token": "demo", "scope": "original", "paths": ["/x?w=1"]})).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn token_purge_removes_that_token_only() {
    let h = Harness::start().await;
    h.origin.state.put("/p.jpg", Answer::Body(jpeg(64, 64, RED)));
    for token in ["demo", "other"] {
        assert_eq!(x_cache(&h.get(&h.url(token, "/p.jpg?w=32")).await), "MISS");
    }
    h.get(&h.url("demo", "/p.jpg?w=16")).await;
    // The request is the one type the worker sends (`imgflush::domain::PurgeRequest`):
    // an invalidation ID that is not one is refused, saying why.
    let res = h
        .client
        .post(format!("http://{}/_purge", h.admin))
        .bearer_auth(secret_of("demo"))
        .json(&serde_json::json!({"invalidation_id": "x", "token": "demo", "scope": "all", "paths": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let text = res.text().await.unwrap();
    assert!(text.contains("purge body") && text.contains("is not a valid Invalidation ID"), "{text}");
    let id = "01938f3e-8a7b-7c00-8000-000000000001";
    let (status, body) =
        h.purge(serde_json::json!({"invalidation_id": id, "token": "demo", "scope": "all", "paths": []})).await;
    assert_eq!((status, body["removed"].as_u64()), (200, Some(2)));
    assert_eq!(x_cache(&h.get(&h.url("demo", "/p.jpg?w=32")).await), "MISS");
    assert_eq!(x_cache(&h.get(&h.url("other", "/p.jpg?w=32")).await), "HIT");
}

#[tokio::test]
async fn a_new_vh_alone_fetches_the_new_image() {
    let h = Harness::start().await;
    h.origin.state.put("/v.jpg", Answer::Body(jpeg(100, 100, RED)));
    h.get(&h.url("demo", "/v.jpg?w=50&vh=1")).await;
    h.origin.state.put("/v.jpg", Answer::Body(jpeg(100, 100, GREEN)));
    let old = h.get(&h.url("demo", "/v.jpg?w=50&vh=1")).await;
    assert!(close(inspect(&old.bytes().await.unwrap()).2, RED));
    let new = h.get(&h.url("demo", "/v.jpg?w=50&vh=2")).await;
    assert_eq!(x_cache(&new), "MISS");
    assert!(close(inspect(&new.bytes().await.unwrap()).2, GREEN));
}

#[tokio::test]
async fn host_label_cname_v7_and_aliases_share_the_path_form_entry() {
    let h = Harness::start().await;
    h.origin.state.put("/f.jpg", Answer::Body(jpeg(400, 300, RED)));
    let o = h.origin.host();
    let first = h.get(&h.url("demo", "/f.jpg?w=200&h=100")).await;
    assert_eq!(x_cache(&first), "MISS");
    let body = first.bytes().await.unwrap();
    let label = format!("demo.{EDGE_DOMAIN}");
    for (host, path) in [
        (label.as_str(), format!("/{o}/f.jpg?w=200&h=100")),
        (label.as_str(), format!("/v7/{o}/f.jpg?h=100&w=200")),
        (CNAME, format!("/{o}/f.jpg?width=200&height=100&func=crop")),
        (CNAME, format!("/v7/{o}/f.jpg?w=200&h=100&unknown=1")),
    ] {
        let res = h.get_with_host(host, &path).await;
        assert_eq!((res.status().as_u16(), x_cache(&res)), (200, "HIT".to_owned()), "{host} {path}");
        assert_eq!(header(&res, "xkey"), xkey_value::<&str>("demo", &h.origin_path("/f.jpg"), &[]));
        assert_eq!(res.bytes().await.unwrap(), body);
    }
    assert_eq!(h.origin.state.hits(), 1);
}

#[tokio::test]
async fn concurrent_misses_fetch_once_and_the_cache_survives_a_restart() {
    let mut h = Harness::start().await;
    h.origin.state.put("/c.jpg", Answer::Body(jpeg(1200, 900, RED)));
    let url = h.url("demo", "/c.jpg?w=120");
    let all = futures::future::join_all((0..8).map(|_| h.get(&url))).await;
    assert!(all.iter().all(|r| r.status() == 200));
    assert_eq!(h.origin.state.hits(), 1, "single flight");

    h.restart_edge().await;
    let res = h.get(&h.url("demo", "/c.jpg?w=120")).await;
    assert_eq!(x_cache(&res), "HIT", "index rebuilt from disk");
    assert_eq!(h.origin.state.hits(), 1);
}

#[tokio::test]
async fn purge_auth_health_and_metrics() {
    let h = Harness::start().await;
    let url = format!("http://{}/purge", h.admin);
    let body = serde_json::json!({"token": "demo", "scope": "all", "paths": []});
    let none = h.client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let wrong = h.client.post(&url).bearer_auth("nope").json(&body).send().await.unwrap();
    assert_eq!(wrong.status(), 403);
    let ok = h.client.post(&url).bearer_auth(secret_of("demo")).json(&body).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<serde_json::Value>().await.unwrap()["removed"], 0);

    for addr in [h.addr, h.admin] {
        let health = h.get(&format!("http://{addr}/healthz")).await;
        assert_eq!(health.status(), 200);
    }
    let metrics = h.get(&format!("http://{}/metrics", h.admin)).await.text().await.unwrap();
    assert!(metrics.contains("edge_purges_total 1"), "{metrics}");
    assert!(metrics.contains("edge_request_duration_seconds_bucket{le=\"+Inf\"}"));
}

/// A project purged through CDNs gets their tag headers on every response,
/// each in its CDN's syntax with the same two keys as `xkey`; a project
/// without CDN targets gets none.
#[tokio::test]
async fn cdn_tag_headers_follow_the_project() {
    let h = Harness::start_with(|c| {
        if let edge::SettingsConfig::Static(list) = &mut c.settings {
            list[1].tag_headers = vec!["cache-tag".into(), "surrogate-key".into(), "x-not-a-cdn".into()];
        }
    })
    .await;
    h.origin.state.put("/img/t.jpg", Answer::Body(jpeg(80, 60, RED)));
    let path = h.origin_path("/img/t.jpg");
    let tagged = h.get(&h.url("other", "/img/t.jpg?w=40")).await;
    assert_eq!(tagged.status(), 200);
    let keys = imgflush::domain::cache_key::path_key("other", &path);
    assert_eq!(header(&tagged, "cache-tag"), format!("imgflush-t-other,{keys}"));
    assert_eq!(header(&tagged, "surrogate-key"), format!("imgflush-t-other {keys}"));
    assert!(tagged.headers().get("x-not-a-cdn").is_none());
    let plain = h.get(&h.url("demo", "/img/t.jpg?w=40")).await;
    assert!(plain.headers().get("cache-tag").is_none() && plain.headers().get("surrogate-key").is_none());
}
