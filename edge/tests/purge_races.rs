//! A purge holds against the fills that were in flight when it ran: the
//! bytes they bring are answered once, never stored and marked so that no
//! shared cache stores them, and a request after the purge never shares
//! their fetch.

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;

/// `purge` is the body's scope and what it names, for the `demo` token.
async fn fill_in_flight_during_a_purge(purge: impl FnOnce(&Harness) -> serde_json::Value) {
    let h = Harness::start().await;
    h.origin.state.put("/img/a.jpg", Answer::Body(jpeg(800, 600, RED)));
    h.origin.state.delay_ms.store(1500, Ordering::SeqCst);
    let url = h.url("demo", "/img/a.jpg?w=300");
    let slow = tokio::spawn({
        let (client, url) = (h.client.clone(), url.clone());
        async move { client.get(url).send().await.unwrap() }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.origin.state.hits() == 0 {
        assert!(Instant::now() < deadline, "the request never reached the origin");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The origin has read the old image and is still sending it.
    h.origin.state.put("/img/a.jpg", Answer::Body(jpeg(800, 600, BLUE)));
    h.origin.state.delay_ms.store(0, Ordering::SeqCst);
    let (status, answer) = h.purge(purge(&h)).await;
    assert_eq!((status, answer["removed"].as_u64()), (200, Some(0)), "nothing was stored yet: {answer}");

    // After the purge, while the old fill is still running: a fetch of its own.
    let after = h.get(&url).await;
    assert_eq!(x_cache(&after), "MISS");
    assert_eq!(header(&after, "cache-control"), "public, max-age=2592000, s-maxage=31536000");
    assert!(close(inspect(&after.bytes().await.unwrap()).2, BLUE), "the new image, not the fill from before");

    let old = slow.await.unwrap();
    assert_eq!(old.status(), 200);
    assert_eq!(header(&old, "cache-control"), "private, no-store", "bytes from before the purge");
    assert!(close(inspect(&old.bytes().await.unwrap()).2, RED));

    let later = h.get(&url).await;
    assert_eq!(x_cache(&later), "HIT");
    assert!(close(inspect(&later.bytes().await.unwrap()).2, BLUE), "the old fill was not stored");
    assert_eq!(h.origin.state.hits(), 2);
}

fn paths(h: &Harness, path: &str) -> serde_json::Value {
    serde_json::json!({"token": "demo", "scope": "original", "paths": [h.origin_path(path)]})
}

#[tokio::test]
async fn a_path_purge_holds_against_a_fill_in_flight() {
    fill_in_flight_during_a_purge(|h| paths(h, "/img/a.jpg")).await;
}

#[tokio::test]
async fn a_prefix_purge_holds_against_a_fill_in_flight() {
    fill_in_flight_during_a_purge(|h| paths(h, "/img/*")).await;
}

/// The fill's tags are not known before the origin answers: any tag purge
/// of the token holds it back.
#[tokio::test]
async fn a_tag_purge_holds_against_a_fill_in_flight() {
    fill_in_flight_during_a_purge(|_| serde_json::json!({"token": "demo", "scope": "tag", "tags": ["products"]})).await;
}

#[tokio::test]
async fn another_projects_purge_leaves_a_fill_cacheable() {
    let h = Harness::start().await;
    h.origin.state.put("/img/a.jpg", Answer::Body(jpeg(800, 600, RED)));
    h.origin.state.delay_ms.store(500, Ordering::SeqCst);
    let url = h.url("demo", "/img/a.jpg?w=300");
    let slow = tokio::spawn({
        let (client, url) = (h.client.clone(), url.clone());
        async move { client.get(url).send().await.unwrap() }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.origin.state.hits() == 0 {
        assert!(Instant::now() < deadline, "the request never reached the origin");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    h.purge_paths("other", &[h.origin_path("/img/a.jpg")]).await;
    let res = slow.await.unwrap();
    assert_eq!(header(&res, "cache-control"), "public, max-age=2592000, s-maxage=31536000");
    assert_eq!(x_cache(&h.get(&url).await), "HIT", "stored: the purge was another project's");
}
