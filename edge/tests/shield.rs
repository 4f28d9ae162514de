//! A shield tier on loopback: one parent (shield) edge and two child edges
//! in front of a real origin that counts its requests. Children fetch
//! transformed variants from the parent with the shared secret; the parent
//! answers only its children's addresses.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use edge::shield::wire::{credential, SHIELD_HEADER, TAGS_HEADER, TTL_HEADER};
use edge::{EdgeConfig, Secret};
use imgflush::domain::cache_key::tag_key;
use serde_json::json;
use tokio::sync::oneshot;

const SHIELD_SECRET: &str = "a-shield-secret-for-the-tests";

struct Node {
    addr: SocketAddr,
    admin: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Node {
    async fn start(origin: &str, tweak: impl FnOnce(&mut EdgeConfig)) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path(), origin);
        c.shield_secret = Some(Secret::new(SHIELD_SECRET));
        for p in match &mut c.settings {
            edge::SettingsConfig::Static(list) => list,
            _ => unreachable!(),
        } {
            p.tag_sources = vec!["surrogate-key".into()];
        }
        tweak(&mut c);
        let (addr, admin, tx, task) = start_edge(c).await;
        Node { addr, admin, stop: Some(tx), task: Some(task), _dir: dir }
    }

    async fn stop(&mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = self.task.take().unwrap().await;
    }
}

/// The origin, a shield answering 127.0.0.1 and two children behind it.
struct Tier {
    origin: OriginServer,
    parent: Node,
    a: Node,
    b: Node,
    client: reqwest::Client,
}

impl Tier {
    async fn start() -> Tier {
        let origin = OriginServer::start().await;
        let host = origin.host();
        let parent = Node::start(&host, |c| c.shield_children = vec!["127.0.0.1/32".parse().unwrap()]).await;
        let url = edge::parse_parent(&format!("http://{}", parent.addr)).unwrap();
        let a = Node::start(&host, |c| c.parent = Some(url.clone())).await;
        let b = Node::start(&host, |c| c.parent = Some(url.clone())).await;
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        Tier { origin, parent, a, b, client }
    }

    fn url(&self, node: &Node, token: &str, path_and_query: &str) -> String {
        format!("http://{}/{token}/{}{path_and_query}", node.addr, self.origin.host())
    }

    async fn get(&self, node: &Node, token: &str, path_and_query: &str) -> reqwest::Response {
        self.client.get(self.url(node, token, path_and_query)).send().await.unwrap()
    }

    async fn admin(&self, node: &Node, route: &str, body: serde_json::Value) -> serde_json::Value {
        let token = body["token"].as_str().unwrap().to_owned();
        let res = self
            .client
            .post(format!("http://{}{route}", node.admin))
            .bearer_auth(secret_of(&token))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    async fn cached(&self, node: &Node, path: &str, query: &str) -> bool {
        let path = format!("/{}{path}", self.origin.host());
        let answer = self.admin(node, "/_lookup", json!({"token": "demo", "path": path, "query": query})).await;
        answer["cached"] == true
    }

    async fn metric(&self, node: &Node, name: &str) -> u64 {
        let text = self.client.get(format!("http://{}/metrics", node.admin)).send().await.unwrap();
        let text = text.text().await.unwrap();
        let line = text.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("{name}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    }
}

fn hits(t: &Tier) -> u64 {
    t.origin.state.hits()
}

/// (1) and (6): concurrent misses of one variant on both children, the
/// origin slow, cost one origin fetch; the children's misses do not draw
/// from the shield's per-client budget (one miss a minute here).
#[tokio::test]
async fn concurrent_misses_on_two_children_wait_for_one_origin_fetch() {
    let mut t = Tier::start().await;
    t.parent.stop().await;
    let host = t.origin.host();
    t.parent = Node::start(&host, |c| {
        c.shield_children = vec!["127.0.0.1/32".parse().unwrap()];
        c.limits.misses_per_minute_per_client = 1;
    })
    .await;
    let url = edge::parse_parent(&format!("http://{}", t.parent.addr)).unwrap();
    (t.a, t.b) = (
        Node::start(&host, |c| c.parent = Some(url.clone())).await,
        Node::start(&host, |c| c.parent = Some(url.clone())).await,
    );
    t.origin.state.put("/img/a.jpg", Answer::Body(jpeg(400, 300, RED)));
    t.origin.state.delay_ms.store(600, Ordering::SeqCst);
    let started = Instant::now();
    let mut all = Vec::new();
    for node in [&t.a, &t.b, &t.a, &t.b] {
        all.push(t.client.get(t.url(node, "demo", "/img/a.jpg?w=100")).send());
    }
    for res in futures::future::join_all(all).await {
        let res = res.unwrap();
        assert_eq!((res.status().as_u16(), x_cache(&res)), (200, "MISS".to_owned()));
        assert!(res.headers().get(TAGS_HEADER).is_none() && res.headers().get(TTL_HEADER).is_none());
        assert_eq!(inspect(&res.bytes().await.unwrap()).0, 100);
    }
    assert!(started.elapsed() >= Duration::from_millis(600));
    assert_eq!(hits(&t), 1, "one origin fetch for two children");
    assert_eq!(t.metric(&t.a, "edge_shield_fetches_total").await, 1, "single flight on the child too");
    assert_eq!(t.metric(&t.parent, "edge_shield_requests_total").await, 2);
    assert_eq!(x_cache(&t.get(&t.a, "demo", "/img/a.jpg?w=100").await), "HIT");

    t.origin.state.delay_ms.store(0, Ordering::SeqCst);
    for w in [10, 20, 30] {
        assert_eq!(t.get(&t.b, "demo", &format!("/img/a.jpg?w={w}")).await.status(), 200, "children are not clients");
    }
    assert_eq!(t.metric(&t.parent, "edge_misses_refused_total").await, 0);
    assert_eq!(hits(&t), 4);
}

/// (2) Signed and sealed projects: the children check their clients'
/// signatures; the shield answers them without one.
#[tokio::test]
async fn signed_projects_work_through_the_shield_and_public_clients_still_sign() {
    let t = Tier::start().await;
    t.origin.state.put("/s.jpg", Answer::Body(jpeg(100, 100, RED)));
    let o = t.origin.host();
    let sig = edge::signature("salt", &format!("/{o}/s.jpg?w=50"), 18);
    for node in [&t.a, &t.b] {
        let ok = t.get(node, "signed", &format!("/s.jpg?ci_sign={sig}&w=50")).await;
        assert_eq!(ok.status(), 200);
        assert_eq!(inspect(&ok.bytes().await.unwrap()).0, 50);
    }
    let eqs = "dz01MA"; // base64url("w=50")
    let seal = edge::seal("salt", &format!("/{o}/s.jpg"), eqs, 18);
    let ok = t.get(&t.a, "sealed", &format!("/s.jpg?ci_eqs={eqs}&ci_seal={seal}")).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(hits(&t), 2, "one fetch for each project's variant");
    for node in [&t.a, &t.b, &t.parent] {
        for (token, q) in [("signed", "/s.jpg?w=50"), ("sealed", "/s.jpg?w=50"), ("signed", "/s.jpg?ci_sign=00&w=50")] {
            let res = t.get(node, token, q).await;
            assert_eq!((res.status().as_u16(), header(&res, "x-imgflush-error")), (403, "bad_signature".to_owned()));
        }
    }
    assert_eq!(hits(&t), 2);
}

/// (3) The children store the tag names the shield sends: a tag purge on
/// every node removes the object everywhere.
#[tokio::test]
async fn a_tag_purge_on_every_node_removes_the_object_everywhere() {
    let t = Tier::start().await;
    let tagged = vec![("surrogate-key", "products shoes".to_owned())];
    t.origin.state.put("/shop/shoe.jpg", Answer::WithHeaders(jpeg(80, 60, RED), tagged));
    t.origin.state.put("/blog/post.jpg", Answer::Body(jpeg(80, 60, BLUE)));
    for node in [&t.a, &t.b] {
        let res = t.get(node, "demo", "/shop/shoe.jpg?w=40").await;
        assert!(header(&res, "xkey").contains(&tag_key("demo", "products")), "the child labels with the tags");
        t.get(node, "demo", "/blog/post.jpg?w=40").await;
    }
    assert_eq!(hits(&t), 2);
    let lookup = json!({"token": "demo", "path": format!("/{}/shop/shoe.jpg", t.origin.host()), "query": "w=40"});
    assert_eq!(t.admin(&t.a, "/_lookup", lookup).await["tags"], json!(["products", "shoes"]));
    for node in [&t.parent, &t.a, &t.b] {
        let purged = t.admin(node, "/_purge", json!({"token": "demo", "scope": "tag", "tags": ["shoes"]})).await;
        assert_eq!(purged["removed"], 1, "{purged}");
    }
    for node in [&t.parent, &t.a, &t.b] {
        assert!(!t.cached(node, "/shop/shoe.jpg", "w=40").await);
        assert!(t.cached(node, "/blog/post.jpg", "w=40").await, "untagged stays");
    }
}

/// (4) Why the purge pipeline purges shields first: a child purged while
/// its shield still holds the old bytes gets those bytes back.
#[tokio::test]
async fn shields_must_be_purged_before_their_children() {
    let t = Tier::start().await;
    t.origin.state.put("/a.jpg", Answer::Body(jpeg(64, 64, RED)));
    let colour = |res: reqwest::Response| async move { inspect(&res.bytes().await.unwrap()).2 };
    assert!(close(colour(t.get(&t.a, "demo", "/a.jpg?w=32").await).await, RED));
    t.origin.state.put("/a.jpg", Answer::Body(jpeg(64, 64, BLUE)));
    let path = json!({"token": "demo", "scope": "original", "paths": [format!("/{}/a.jpg", t.origin.host())]});

    // Only the child: it refills from the shield's old copy.
    t.admin(&t.a, "/_purge", path.clone()).await;
    let again = t.get(&t.a, "demo", "/a.jpg?w=32").await;
    assert_eq!(x_cache(&again), "MISS");
    assert!(close(colour(again).await, RED), "the purged bytes came back from the shield");

    // Shield first, then the child: nothing old is left anywhere.
    t.admin(&t.parent, "/_purge", path.clone()).await;
    t.admin(&t.a, "/_purge", path).await;
    assert!(close(colour(t.get(&t.a, "demo", "/a.jpg?w=32").await).await, BLUE));
    assert!(close(colour(t.get(&t.parent, "demo", "/a.jpg?w=32").await).await, BLUE));
    assert!(close(colour(t.get(&t.b, "demo", "/a.jpg?w=32").await).await, BLUE));
    assert_eq!(hits(&t), 2);
}

/// A shield purged while a child's fetch is in flight answers it
/// `no-store`: the child serves those bytes once and stores nothing.
#[tokio::test]
async fn a_shield_purged_during_a_childs_fetch_leaves_no_copy() {
    let t = Tier::start().await;
    t.origin.state.put("/a.jpg", Answer::Body(jpeg(64, 64, RED)));
    t.origin.state.delay_ms.store(800, Ordering::SeqCst);
    let slow = tokio::spawn(t.client.get(t.url(&t.a, "demo", "/a.jpg?w=32")).send());
    let deadline = Instant::now() + Duration::from_secs(10);
    while hits(&t) == 0 {
        assert!(Instant::now() < deadline, "the fetch never reached the origin");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    t.origin.state.put("/a.jpg", Answer::Body(jpeg(64, 64, BLUE)));
    t.origin.state.delay_ms.store(0, Ordering::SeqCst);
    let path = json!({"token": "demo", "scope": "original", "paths": [format!("/{}/a.jpg", t.origin.host())]});
    t.admin(&t.parent, "/_purge", path).await;
    let old = slow.await.unwrap().unwrap();
    assert!(close(inspect(&old.bytes().await.unwrap()).2, RED), "served once");
    assert!(!t.cached(&t.a, "/a.jpg", "w=32").await && !t.cached(&t.parent, "/a.jpg", "w=32").await);
    let new = t.get(&t.a, "demo", "/a.jpg?w=32").await;
    assert!(close(inspect(&new.bytes().await.unwrap()).2, BLUE));
}

/// (5) The shield down: the child fetches the origin itself (counted);
/// shield and origin down: it serves its stale copy. A shield's 404 is
/// cached like an origin's; its 422 is passed on.
#[tokio::test]
async fn a_child_falls_back_to_the_origin_and_then_to_its_stale_copy() {
    let mut t = Tier::start().await;
    t.origin.state.put("/a.jpg", Answer::Body(jpeg(64, 64, RED)));
    t.origin.state.put("/text.jpg", Answer::Body(b"not an image".to_vec()));
    let missing = t.get(&t.a, "demo", "/none.jpg?w=10").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(t.get(&t.a, "demo", "/none.jpg?w=10").await.status(), 404);
    let text = t.get(&t.a, "demo", "/text.jpg?w=10").await;
    assert_eq!((text.status().as_u16(), header(&text, "x-imgflush-error")), (422, "origin_not_image".to_owned()));
    assert_eq!(hits(&t), 2, "the 404 was cached by the child");
    assert_eq!(t.get(&t.a, "demo", "/a.jpg?w=32&ci_cache=1").await.status(), 200);

    t.parent.stop().await;
    let direct = t.get(&t.a, "demo", "/a.jpg?w=20").await;
    assert_eq!((direct.status().as_u16(), x_cache(&direct)), (200, "MISS".to_owned()));
    assert_eq!(t.metric(&t.a, "edge_shield_fallbacks_total").await, 1);
    assert_eq!(hits(&t), 4);

    tokio::time::sleep(Duration::from_millis(2100)).await;
    t.origin.state.put("/a.jpg", Answer::Status(503));
    let stale = t.get(&t.a, "demo", "/a.jpg?w=32&ci_cache=1").await;
    assert_eq!((stale.status().as_u16(), x_cache(&stale)), (200, "HIT".to_owned()));
    assert!(header(&stale, "warning").contains("Stale"));
    // A purged copy is never the stale one.
    t.admin(&t.a, "/_purge", json!({"token": "demo", "scope": "all"})).await;
    assert_eq!(t.get(&t.a, "demo", "/a.jpg?w=32&ci_cache=1").await.status(), 502);
}

/// A parent that is not a shield (here: the origin itself, answering 404
/// without the shield's headers) is a failed shield, not a 404 to cache.
#[tokio::test]
async fn a_parent_that_is_not_a_shield_is_a_failed_one() {
    let t = Tier::start().await;
    t.origin.state.put("/a.jpg", Answer::Body(jpeg(64, 64, RED)));
    let wrong = edge::parse_parent(&format!("http://{}", t.origin.addr)).unwrap();
    let c = Node::start(&t.origin.host(), |c| c.parent = Some(wrong)).await;
    let res = t.get(&c, "demo", "/a.jpg?w=32").await;
    assert_eq!((res.status().as_u16(), x_cache(&res)), (200, "MISS".to_owned()));
    assert_eq!(t.metric(&c, "edge_shield_fallbacks_total").await, 1);
    assert_eq!(hits(&t), 2, "the wrong parent, then the origin");
}

/// (7) The internal form from an address that is not a child, or with a
/// wrong credential, is refused, and tells nothing.
#[tokio::test]
async fn internal_requests_from_strangers_are_refused() {
    let t = Tier::start().await;
    t.origin.state.put("/s.jpg", Answer::Body(jpeg(100, 100, RED)));
    let pq = format!("/signed/{}/s.jpg?w=50", t.origin.host());
    let good = credential(&Secret::new(SHIELD_SECRET), &pq);
    let url = format!("http://{}{pq}", t.parent.addr);
    let stranger = reqwest::Client::builder().no_proxy().local_address("127.0.0.9".parse().ok()).build().unwrap();
    for (client, cred) in [(&stranger, good.as_str()), (&t.client, "00ff"), (&t.client, "")] {
        let res = client.get(&url).header(SHIELD_HEADER, cred).send().await.unwrap();
        assert_eq!((res.status().as_u16(), header(&res, "x-imgflush-error")), (403, "shield_refused".to_owned()));
        assert!(res.headers().get(TAGS_HEADER).is_none());
    }
    let public = stranger.get(&url).send().await.unwrap();
    assert_eq!(public.status(), 403, "without the header: a public request, unsigned");
    assert_eq!((hits(&t), t.metric(&t.parent, "edge_shield_refused_total").await), (0, 3));
    let child = t.client.get(&url).header(SHIELD_HEADER, good).send().await.unwrap();
    assert_eq!((child.status().as_u16(), header(&child, TTL_HEADER)), (200, "31536000".to_owned()));
}
