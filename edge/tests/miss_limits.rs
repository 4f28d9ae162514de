//! Misses are rationed per client address and per token; hits are not.

mod common;

use common::*;
use edge::TrustedProxies;

async fn get_from(h: &Harness, url: &str, forwarded_for: Option<&str>) -> reqwest::Response {
    let req = h.client.get(url);
    let req = match forwarded_for {
        Some(xff) => req.header("x-forwarded-for", xff),
        None => req,
    };
    req.send().await.unwrap()
}

fn refused(res: &reqwest::Response) -> (u16, String, String) {
    (res.status().as_u16(), header(res, "x-imgflush-error"), header(res, "retry-after"))
}

#[tokio::test]
async fn misses_past_the_client_budget_answer_429_while_hits_still_answer() {
    let h = Harness::start_with(|c| {
        c.limits.misses_per_minute_per_client = 3;
        c.limits.misses_per_minute_per_token = 0;
    })
    .await;
    h.origin.state.put("/m.jpg", Answer::Body(jpeg(64, 64, RED)));
    for vh in 1..=3 {
        let res = h.get(&h.url("demo", &format!("/m.jpg?w=10&vh={vh}"))).await;
        assert_eq!((res.status().as_u16(), x_cache(&res)), (200, "MISS".to_owned()));
    }
    let res = h.get(&h.url("demo", "/m.jpg?w=10&vh=4")).await;
    assert_eq!(refused(&res), (429, "too_many_misses".into(), "20".into()), "60 s / 3 misses");
    assert_eq!(header(&res, "cache-control"), "no-store");
    assert!(res.text().await.unwrap().contains("for this address"));
    assert_eq!(h.origin.state.hits(), 3, "the refused miss never reached the origin");
    for vh in 1..=3 {
        let res = h.get(&h.url("demo", &format!("/m.jpg?w=10&vh={vh}"))).await;
        assert_eq!((res.status().as_u16(), x_cache(&res)), (200, "HIT".to_owned()));
    }
}

#[tokio::test]
async fn the_token_budget_applies_whatever_the_address() {
    let h = Harness::start_with(|c| {
        c.limits.misses_per_minute_per_token = 2;
        c.limits.misses_per_minute_per_client = 0;
        c.trusted_proxies = TrustedProxies::parse(&["127.0.0.0/8"]).unwrap();
    })
    .await;
    h.origin.state.put("/t.jpg", Answer::Body(jpeg(64, 64, BLUE)));
    for (vh, client) in [(1, "198.51.100.1"), (2, "198.51.100.2")] {
        let res = get_from(&h, &h.url("demo", &format!("/t.jpg?vh={vh}")), Some(client)).await;
        assert_eq!(res.status(), 200);
    }
    let res = get_from(&h, &h.url("demo", "/t.jpg?vh=3"), Some("198.51.100.3")).await;
    assert_eq!(refused(&res), (429, "too_many_misses".into(), "30".into()));
    assert!(res.text().await.unwrap().contains("for this project"));
    assert_eq!(h.get(&h.url("other", "/t.jpg?vh=3")).await.status(), 200, "another token has its own budget");
    assert_eq!(x_cache(&h.get(&h.url("demo", "/t.jpg?vh=1")).await), "HIT");
}

#[tokio::test]
async fn forwarded_for_counts_only_from_trusted_proxies() {
    let limit = |trusted: &'static [&'static str]| {
        move |c: &mut edge::EdgeConfig| {
            c.limits.misses_per_minute_per_client = 1;
            c.limits.misses_per_minute_per_token = 0;
            c.trusted_proxies = TrustedProxies::parse(trusted).unwrap();
        }
    };
    // Untrusted peer (127.0.0.1 is not listed): the header is ignored, the peer counts.
    let h = Harness::start_with(limit(&["10.0.0.0/8"])).await;
    h.origin.state.put("/x.jpg", Answer::Body(jpeg(32, 32, GREEN)));
    assert_eq!(get_from(&h, &h.url("demo", "/x.jpg?vh=1"), Some("203.0.113.1")).await.status(), 200);
    let res = get_from(&h, &h.url("demo", "/x.jpg?vh=2"), Some("203.0.113.2")).await;
    assert_eq!(refused(&res).0, 429, "a forged X-Forwarded-For is no new budget");

    // Trusted peer (a Varnish node on loopback): each client has its own budget.
    let h = Harness::start_with(limit(&["127.0.0.0/8"])).await;
    h.origin.state.put("/x.jpg", Answer::Body(jpeg(32, 32, GREEN)));
    assert_eq!(get_from(&h, &h.url("demo", "/x.jpg?vh=1"), Some("203.0.113.1")).await.status(), 200);
    assert_eq!(get_from(&h, &h.url("demo", "/x.jpg?vh=2"), Some("203.0.113.1")).await.status(), 429);
    assert_eq!(get_from(&h, &h.url("demo", "/x.jpg?vh=2"), Some("203.0.113.2")).await.status(), 200);
    // Only the right-most untrusted hop is believed, not what the client wrote on the left.
    let res = get_from(&h, &h.url("demo", "/x.jpg?vh=3"), Some("203.0.113.9, 203.0.113.2")).await;
    assert_eq!(res.status(), 429);
    // No header from the proxy: the proxy itself is the client.
    assert_eq!(get_from(&h, &h.url("demo", "/x.jpg?vh=4"), None).await.status(), 200);
    assert_eq!(get_from(&h, &h.url("demo", "/x.jpg?vh=5"), None).await.status(), 429);
}

#[tokio::test]
async fn an_expired_copy_stands_in_for_a_refused_revalidation() {
    let h = Harness::start_with(|c| c.limits.misses_per_minute_per_client = 1).await;
    h.origin.state.put("/e.jpg", Answer::Body(jpeg(32, 32, RED)));
    let url = h.url("demo", "/e.jpg?ci_cache=1");
    let first = h.get(&url).await;
    assert_eq!(x_cache(&first), "MISS");
    let body = first.bytes().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let stale = h.get(&url).await;
    assert_eq!((stale.status().as_u16(), x_cache(&stale)), (200, "HIT".to_owned()));
    assert!(header(&stale, "warning").contains("Stale"));
    assert_eq!(stale.bytes().await.unwrap(), body);
    assert_eq!(h.origin.state.hits(), 1);
}
