//! Cache tags end to end: read from the origin's headers and the project's
//! rules, labelled on every response as derived keys, purged (and counted)
//! by `POST /_purge` with scope `tag`.

mod common;

use common::*;
use imgflush::domain::cache_key::{tag_header_value, tag_key, xkey_value};
use imgflush::domain::{OriginPath, Tag, TagRule};
use serde_json::json;

/// `demo` and `other` read tags from `Surrogate-Key` and `Cache-Tag`, and
/// tag everything under `/{origin}/shop/` with `catalogue`; `demo` labels
/// responses for two CDNs.
async fn harness() -> Harness {
    Harness::start_with(|c| {
        let edge::SettingsConfig::Static(list) = &mut c.settings else { unreachable!() };
        let origin = list[0].allowed_origin_hosts[0].clone();
        for p in &mut list[..2] {
            p.tag_sources = vec!["surrogate-key".into(), "cache-tag".into()];
            p.tag_rules = vec![TagRule {
                pattern: OriginPath::parse(&format!("/{origin}/shop/*")).unwrap(),
                tag: Tag::parse("catalogue").unwrap(),
            }];
        }
        list[0].tag_headers = vec!["cache-tag".into(), "surrogate-key".into()];
    })
    .await
}

fn tagged_image() -> Answer {
    Answer::WithHeaders(
        jpeg(80, 60, RED),
        vec![
            ("surrogate-key", "products shoes imgflush-t-victim".into()),
            ("cache-tag", "sale,imgflush-g-0000000000000000000000000000000000000000".into()),
            ("xkey", "not-read".into()),
        ],
    )
}

async fn purge_tags(h: &Harness, token: &str, tags: &[&str], dry_run: bool) -> serde_json::Value {
    let (status, body) = h.purge(json!({"token": token, "scope": "tag", "tags": tags, "dry_run": dry_run})).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn origin_tags_become_derived_keys_and_a_tag_purge_removes_exactly_those_objects() {
    let mut h = harness().await;
    h.origin.state.put("/shop/shoe.jpg", tagged_image());
    h.origin.state.put("/blog/post.jpg", Answer::Body(jpeg(80, 60, BLUE)));
    let shoe = h.origin_path("/shop/shoe.jpg");

    let first = h.get(&h.url("demo", "/shop/shoe.jpg?w=40")).await;
    assert_eq!((first.status().as_u16(), x_cache(&first)), (200, "MISS".to_owned()));
    let tags = ["catalogue", "products", "shoes", "sale"];
    let xkey = header(&first, "xkey");
    assert_eq!(xkey, xkey_value("demo", &shoe, &tags), "rule first, then the origin's, cleaned");
    assert!(xkey.contains(&tag_key("demo", "products")));
    assert!(!xkey.contains("victim") && !xkey.contains("imgflush-g-0000") && !xkey.contains("not-read"), "{xkey}");
    // The project's CDN headers carry the edge's keys, not the origin's values.
    assert_eq!(header(&first, "cache-tag"), tag_header_value("cache-tag", "demo", &shoe, &tags).unwrap());
    assert_eq!(header(&first, "surrogate-key"), tag_header_value("surrogate-key", "demo", &shoe, &tags).unwrap());
    let hit = h.get(&h.url("demo", "/shop/shoe.jpg?w=40")).await;
    assert_eq!((x_cache(&hit), header(&hit, "xkey")), ("HIT".to_owned(), xkey.clone()), "hits carry the tags too");

    assert_eq!(x_cache(&h.get(&h.url("demo", "/shop/shoe.jpg?w=20")).await), "MISS");
    let post = h.get(&h.url("demo", "/blog/post.jpg?w=40")).await;
    assert_eq!(header(&post, "xkey"), xkey_value::<&str>("demo", &h.origin_path("/blog/post.jpg"), &[]), "untagged");
    assert!(post.headers().get("surrogate-key").unwrap().to_str().unwrap().starts_with("imgflush-t-demo "));
    let theirs = h.get(&h.url("other", "/shop/shoe.jpg?w=40")).await;
    assert!(header(&theirs, "xkey").contains(&tag_key("other", "products")));
    assert!(theirs.headers().get("surrogate-key").is_none(), "no CDN headers unless the project names them");

    // The dry run counts; nothing goes.
    let counted = purge_tags(&h, "demo", &["products"], true).await;
    assert_eq!(counted["removed"], 2, "{counted}");
    assert!(counted["bytes"].as_u64().unwrap() > 0);
    assert_eq!((counted["paths"].clone(), counted["paths_complete"].clone()), (json!([shoe]), json!(true)));
    assert_eq!(x_cache(&h.get(&h.url("demo", "/shop/shoe.jpg?w=40")).await), "HIT");

    let purged = purge_tags(&h, "demo", &["products"], false).await;
    assert_eq!(purged, counted, "the purge removed what the dry run counted");
    let mut urls: Vec<String> = serde_json::from_value(purged["urls"].clone()).unwrap();
    urls.sort();
    assert_eq!(urls, [format!("{shoe}?w=20"), format!("{shoe}?w=40")]);
    assert_eq!(x_cache(&h.get(&h.url("demo", "/shop/shoe.jpg?w=40")).await), "MISS");
    assert_eq!(x_cache(&h.get(&h.url("demo", "/blog/post.jpg?w=40")).await), "HIT", "untagged stays");
    assert_eq!(x_cache(&h.get(&h.url("other", "/shop/shoe.jpg?w=40")).await), "HIT", "another project's products");

    let metrics = h.get(&format!("http://{}/metrics", h.admin)).await.text().await.unwrap();
    assert!(metrics.contains("edge_purges_total 1\n"), "a dry run is not a purge: {metrics}");
    assert!(metrics.contains("edge_purged_objects_total 2\n"), "{metrics}");

    // Tags are stored with the object: a restarted edge still purges by them.
    h.restart_edge().await;
    assert_eq!(x_cache(&h.get(&h.url("demo", "/shop/shoe.jpg?w=40")).await), "HIT");
    let purged = purge_tags(&h, "demo", &["catalogue", "sale"], false).await;
    assert_eq!((purged["removed"].clone(), purged["paths"].clone()), (json!(1), json!([shoe])));
    assert_eq!(x_cache(&h.get(&h.url("demo", "/blog/post.jpg?w=40")).await), "HIT");
}

#[tokio::test]
async fn bad_tag_purges_are_refused_naming_the_fault() {
    let h = harness().await;
    for (body, names) in [
        (json!({"token": "demo", "scope": "tag", "tags": ["ok", "bad tag"]}), "\"bad tag\""),
        (json!({"token": "demo", "scope": "tag", "tags": ["imgflush-t-victim"]}), "\"imgflush-t-victim\""),
        (json!({"token": "demo", "scope": "tag", "tags": []}), "at least one tag"),
        (
            json!({"token": "demo", "scope": "tag", "tags": (0..16).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
            "at most 15",
        ),
        (json!({"token": "demo", "scope": "tag", "tags": ["a"], "paths": ["/h/a.jpg"]}), "not paths"),
        (json!({"token": "demo", "scope": "original", "paths": ["/h/a.jpg"], "tags": ["a"]}), "only a purge of scope"),
    ] {
        let res = h
            .client
            .post(format!("http://{}/_purge", h.admin))
            .bearer_auth(secret_of("demo"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!((res.status().as_u16(), header(&res, "x-imgflush-error")), (400, "bad_purge".to_owned()), "{body}");
        let text = res.text().await.unwrap();
        assert!(text.contains(names), "{body}: {text}");
    }
}

#[tokio::test]
async fn a_dry_run_of_a_path_or_token_purge_removes_nothing() {
    let h = harness().await;
    h.origin.state.put("/blog/a.jpg", Answer::Body(jpeg(64, 64, GREEN)));
    for q in ["?w=10", "?w=20"] {
        h.get(&h.url("demo", &format!("/blog/a.jpg{q}"))).await;
    }
    let path = h.origin_path("/blog/a.jpg");
    for body in [
        json!({"token": "demo", "scope": "original", "paths": [path], "dry_run": true}),
        json!({"token": "demo", "scope": "all", "dry_run": true}),
    ] {
        let (status, answer) = h.purge(body.clone()).await;
        assert_eq!(
            (status, answer["removed"].clone(), answer["urls"].as_array().map(Vec::len)),
            (200, json!(2), Some(2))
        );
        assert!(answer.get("paths").is_none() && answer["paths_complete"] == true, "{answer}");
        assert_eq!(x_cache(&h.get(&h.url("demo", "/blog/a.jpg?w=10")).await), "HIT", "{body}");
    }
    let (_, answer) = h.purge(json!({"token": "demo", "scope": "all"})).await;
    assert_eq!(answer["removed"], 2);
    assert_eq!(x_cache(&h.get(&h.url("demo", "/blog/a.jpg?w=10")).await), "MISS");
}
