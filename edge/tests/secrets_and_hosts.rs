//! Issue 24: per-project purge secrets on the admin listener only, custom
//! hosts that cannot capture the edge's own names, and private origins
//! allowed one `host:port` at a time.

mod common;

use common::*;
use edge::{ProjectSettings, SettingsConfig};

fn add_projects(c: &mut edge::EdgeConfig, extra: impl FnOnce(&str) -> Vec<ProjectSettings>) {
    let SettingsConfig::Static(list) = &mut c.settings else { unreachable!() };
    let origin = list[0].allowed_origin_hosts[0].clone();
    list.extend(extra(&origin));
}

#[tokio::test]
async fn a_projects_secret_purges_that_project_only_and_the_node_secret_purges_nothing() {
    let h = Harness::start().await;
    h.origin.state.put("/s.jpg", Answer::Body(jpeg(64, 64, RED)));
    for token in ["demo", "other"] {
        assert_eq!(x_cache(&h.get(&h.url(token, "/s.jpg?w=32")).await), "MISS");
    }
    let url = format!("http://{}/_purge", h.admin);
    let all_of = |token: &str| serde_json::json!({"token": token, "scope": "all", "paths": []});
    for (secret, token) in [(secret_of("demo"), "other"), (SECRET.to_owned(), "other"), (secret_of("other"), "demo")] {
        let res = h.client.post(&url).bearer_auth(&secret).json(&all_of(token)).send().await.unwrap();
        assert_eq!(res.status(), 403, "{token}");
    }
    assert_eq!(x_cache(&h.get(&h.url("other", "/s.jpg?w=32")).await), "HIT", "nothing purged");
    let res = h.client.post(&url).bearer_auth(secret_of("other")).json(&all_of("other")).send().await.unwrap();
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["removed"], 1);
    assert_eq!(x_cache(&h.get(&h.url("other", "/s.jpg?w=32")).await), "MISS");
    assert_eq!(x_cache(&h.get(&h.url("demo", "/s.jpg?w=32")).await), "HIT");
}

#[tokio::test]
async fn the_image_port_serves_no_purge_and_no_metrics() {
    let h = Harness::start_with(|c| c.purge_path = "/custom-purge".into()).await;
    h.origin.state.put("/m.jpg", Answer::Body(jpeg(64, 64, RED)));
    assert_eq!(x_cache(&h.get(&h.url("demo", "/m.jpg?w=32")).await), "MISS");
    let body = serde_json::json!({"token": "demo", "scope": "all", "paths": []});
    for path in ["/_purge", "/purge", "/custom-purge"] {
        let res = h.client.post(format!("http://{}{path}", h.addr)).bearer_auth(secret_of("demo")).json(&body);
        assert_eq!(res.send().await.unwrap().status(), 404, "POST {path} on the image port");
        let res = h.client.get(format!("http://{}{path}", h.addr)).send().await.unwrap();
        assert_eq!(res.status(), 404, "GET {path} on the image port");
    }
    assert_eq!(h.get(&format!("http://{}/metrics", h.addr)).await.status(), 404);
    assert_eq!(x_cache(&h.get(&h.url("demo", "/m.jpg?w=32")).await), "HIT", "nothing purged");

    // The same paths on the admin listener.
    let res = h.client.post(format!("http://{}/custom-purge", h.admin)).bearer_auth(secret_of("demo")).json(&body);
    assert_eq!(res.send().await.unwrap().json::<serde_json::Value>().await.unwrap()["removed"], 1);
    assert_eq!(h.get(&format!("http://{}/metrics", h.admin)).await.status(), 200);
    // And no images there.
    let res = h.client.get(format!("http://{}/demo/{}/m.jpg", h.admin, h.origin.host())).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn a_custom_host_cannot_capture_the_edges_names_or_another_projects_urls() {
    let aliases = ["images.example.net".to_owned()];
    let h = Harness::start_with(|c| {
        c.host_aliases = aliases.to_vec();
        add_projects(c, |origin| {
            ["127.0.0.1", EDGE_DOMAIN, "localhost", "images.example.net", "thief.example"]
                .iter()
                .enumerate()
                .map(|(i, host)| {
                    let mut p = ProjectSettings::new(format!("thief{i}"));
                    p.allowed_origin_hosts = vec![origin.to_owned()];
                    p.origin_scheme = edge::OriginScheme::Http;
                    p.allow_private_origins = true;
                    p.custom_host = Some((*host).to_owned());
                    p
                })
                .collect()
        })
    })
    .await;
    h.origin.state.put("/v.jpg", Answer::Body(jpeg(64, 64, RED)));
    let o = h.origin.host();
    let port = h.addr.port();
    let own = [format!("127.0.0.1:{port}"), EDGE_DOMAIN.to_owned(), format!("localhost:{port}"), aliases[0].clone()];
    for host in own.iter().map(String::as_str).chain(["thief.example"]) {
        let res = h.get_with_host(host, &format!("/demo/{o}/v.jpg?w=16")).await;
        assert_eq!(res.status(), 200, "{host}");
        assert_eq!(header(&res, "x-imgflush-token"), "demo", "{host}: the path-form token wins");
    }
    // The edge's own names are never a custom host, even without a token in the path.
    for host in &own {
        let res = h.get_with_host(host, &format!("/{o}/v.jpg")).await;
        assert_eq!(res.status(), 404, "{host}");
    }
    // A custom host of its own still addresses its project.
    let res = h.get_with_host("thief.example", &format!("/{o}/v.jpg?w=16")).await;
    assert_eq!((res.status().as_u16(), header(&res, "x-imgflush-token")), (200, "thief4".to_owned()));
}

#[tokio::test]
async fn a_listed_private_origin_is_fetched_and_no_other_private_address() {
    let h = Harness::start_with(|c| {
        add_projects(c, |origin| {
            let port = origin.rsplit(':').next().unwrap();
            let mut p = ProjectSettings::new("listed");
            p.allowed_origin_hosts = vec![origin.to_owned(), format!("localhost:{port}"), "127.0.0.2:9".into()];
            p.origin_scheme = edge::OriginScheme::Http;
            p.private_origins_allowed = vec![origin.to_owned()];
            vec![p]
        })
    })
    .await;
    h.origin.state.put("/p.jpg", Answer::Body(jpeg(64, 64, RED)));
    let ok = h.get(&h.url("listed", "/p.jpg?w=16")).await;
    assert_eq!(ok.status(), 200);
    let port = h.origin.addr.port();
    for other in [format!("localhost:{port}"), "127.0.0.2:9".to_owned()] {
        let res = h.get(&format!("http://{}/listed/{other}/p.jpg", h.addr)).await;
        assert_eq!(
            (res.status().as_u16(), header(&res, "x-imgflush-error")),
            (403, "origin_private".into()),
            "{other}"
        );
    }
}
