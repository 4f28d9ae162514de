//! Issue 24, the console's side of the edge: custom hosts that are not the
//! edge's own names and wait for an owner's approval, private origins that
//! only owners allow (exactly the embedded demo origin for the demo project),
//! and the embedded demo's loop through the edge's admin listener with the
//! project's own purge secret. Both databases.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use imgflush::backend::invalidations::Submission;
use imgflush::backend::now_ms;
use imgflush::backend::store::{EdgeSettings, NewTarget, ProjectSettingsUpdate};
use imgflush::backend::worker::WorkerConfig;
use imgflush::domain::{InstanceRole, Role, Status, TargetKind};
use server::config::{Config, Secret};
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "a-settings-token-of-at-least-32-characters";

fn with_token(c: &mut Config) {
    c.edge.settings_token = Some(Secret::new(TOKEN));
    c.edge.names = vec!["img.edge.example".into(), "edge-2.internal:8081".into()];
}

/// The demo project as the edges read it from `/internal/edge/projects`.
async fn feed(t: &TestApp) -> serde_json::Value {
    let req = Request::get("/internal/edge/projects")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let resp = t.send(req).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let all = body_json(resp).await;
    all["projects"].as_array().unwrap().iter().find(|p| p["token"] == "demo").unwrap().clone()
}

async fn owner(t: &TestApp) -> String {
    let id = t.user("owner@example.com", Role::Support, &t.demo).await;
    t.store.set_instance_role(id, Some(InstanceRole::Owner)).await.unwrap();
    t.login("owner@example.com").await
}

async fn admin(t: &TestApp) -> String {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    t.login("admin@example.com").await
}

fn form<'a>(custom_host: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("project", "demo"),
        ("name", "Demo"),
        ("origin_hosts", "sample.li"),
        ("max_age_secs", "60"),
        ("s_maxage_secs", "60"),
        ("origin_scheme", "https"),
        ("custom_host", custom_host),
        ("sign_length", ""),
    ];
    f.extend_from_slice(extra);
    f
}

db_test_cfg!(a_custom_host_is_never_an_address_nor_the_edges_own_name, with_token, |t: TestApp| async move {
    let cookie = admin(&t).await;
    for host in [
        "127.0.0.1",
        "2130706433",
        "[::1]",
        "localhost",
        "img.edge.example",
        "demo.img.edge.example",
        "edge-2.internal",
    ] {
        let body = body_json(t.server_fn(&cookie, "save_settings", &form(host, &[])).await).await;
        let errors = body["Invalid"].as_array().unwrap_or_else(|| panic!("{host}: {body}"));
        assert_eq!(errors[0]["field"], "custom_host", "{host}: {body}");
        assert!(errors[0]["message"].as_str().unwrap().contains("e.g. images.example.com"), "{host}: {body}");
    }
    assert_eq!(t.store.project_by_id(t.demo.id).await.unwrap().edge.custom_host, None);
});

db_test_cfg!(a_custom_host_reaches_the_edges_once_an_owner_approved_it, with_token, |t: TestApp| async move {
    let (admin, owner) = (admin(&t).await, owner(&t).await);
    let save = |cookie: &str, host: &'static str| {
        let cookie = cookie.to_owned();
        let t = &t;
        async move {
            let resp = t.server_fn(&cookie, "save_settings", &form(host, &[])).await;
            assert_eq!(resp.status(), StatusCode::OK, "{}", body_text(resp).await);
        }
    };

    save(&admin, "images.shop.example").await;
    let p = t.store.project_by_id(t.demo.id).await.unwrap();
    assert_eq!((p.edge.custom_host.as_deref(), p.edge.custom_host_pending), (Some("images.shop.example"), true));
    assert!(feed(&t).await["custom_host"].is_null(), "a pending custom host never reaches the edges");
    let view = t.server_fn_json(&admin, "project_settings", &[("project", "demo")]).await;
    assert_eq!((view["custom_host_pending"].as_bool(), view["owner"].as_bool()), (Some(true), Some(false)), "{view}");

    // An owner's save approves it.
    let view = t.server_fn_json(&owner, "project_settings", &[("project", "demo")]).await;
    assert_eq!(view["owner"], true, "{view}");
    save(&owner, "images.shop.example").await;
    assert_eq!(feed(&t).await["custom_host"], "images.shop.example");
    // The admin saving other fields keeps the approval ...
    save(&admin, "images.shop.example").await;
    assert_eq!(feed(&t).await["custom_host"], "images.shop.example");
    // ... changing the host asks again.
    save(&admin, "other.shop.example").await;
    assert!(feed(&t).await["custom_host"].is_null());
    assert!(t.store.project_by_id(t.demo.id).await.unwrap().edge.custom_host_pending);

    // Documents written before the flag existed: their custom host stays approved.
    let old: EdgeSettings = serde_json::from_str(r#"{"custom_host":"legacy.example"}"#).unwrap();
    assert!(!old.custom_host_pending);
});

db_test_cfg!(only_owners_allow_private_origins, with_token, |t: TestApp| async move {
    let (admin, owner) = (admin(&t).await, owner(&t).await);
    let private = [("allow_private_origins", "on"), ("private_origins_allowed", "169.254.169.254:80")];
    let resp = t.server_fn(&admin, "save_settings", &form("", &private)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let p = t.store.project_by_id(t.demo.id).await.unwrap();
    assert!(!p.edge.allow_private_origins && p.edge.private_origins_allowed.is_empty(), "{:?}", p.edge);

    let resp = t.server_fn(&owner, "save_settings", &form("", &[("private_origins_allowed", "127.0.0.1:3003")])).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(feed(&t).await["private_origins_allowed"], serde_json::json!(["127.0.0.1:3003"]));
    // An admin's later save keeps what the owner set; the page shows it to them.
    let resp = t.server_fn(&admin, "save_settings", &form("", &[])).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(feed(&t).await["private_origins_allowed"], serde_json::json!(["127.0.0.1:3003"]));
    assert_eq!(feed(&t).await["allow_private_origins"], false);
    let view = t.server_fn_json(&admin, "project_settings", &[("project", "demo")]).await;
    assert_eq!(view["private_origins_allowed"], serde_json::json!(["127.0.0.1:3003"]), "{view}");
    let body =
        body_json(t.server_fn(&owner, "save_settings", &form("", &[("private_origins_allowed", "10.0.0.1")])).await)
            .await;
    assert!(body.to_string().contains("private_origins_allowed"), "{body}");
});

fn embedded(c: &mut Config) {
    with_token(c);
    c.edge.embedded = true;
    c.edge.embedded_addr = "127.0.0.1:0".into();
    c.edge.embedded_admin_addr = "127.0.0.1:0".into();
    c.edge.demo_origin_addr = "127.0.0.1:0".into();
    let dir = std::env::temp_dir().join(format!("imgflush-demo-{}", uuid::Uuid::new_v4()));
    c.edge.data_dir = dir.to_string_lossy().into_owned();
}

db_test_cfg!(
    the_embedded_demo_purges_on_the_admin_listener_with_the_projects_secret,
    embedded,
    |t: TestApp| async move {
        // As an earlier version left it: every private address allowed, the
        // embedded edge's target on the image port with the node secret.
        let p = t.store.project_by_id(t.demo.id).await.unwrap();
        let edge = EdgeSettings { allow_private_origins: true, ..p.edge.clone() };
        let legacy = ProjectSettingsUpdate {
            name: p.name.clone(),
            origin_hosts: p.origin_hosts.clone(),
            max_age_secs: p.max_age_secs,
            s_maxage_secs: p.s_maxage_secs,
            edge,
        };
        t.store.update_project_settings(t.demo.id, &legacy).await.unwrap();
        let old = NewTarget {
            kind: TargetKind::Edge,
            name: "embedded-edge".into(),
            url: "http://127.0.0.1:3002/_purge".into(),
            secret: Some("old-node-secret".into()),
            settings: Default::default(),
            credentials: None,
        };
        t.store.add_target(t.demo.id, &old, now_ms()).await.unwrap();

        let console = common::stack::serve(t.router.clone()).await;
        let stop = CancellationToken::new();
        let e =
            server::demo::start(&t.app.config, &t.app.services, console, stop.clone()).await.unwrap().expect("started");
        let p = t.store.project_by_id(t.demo.id).await.unwrap();
        assert!(!p.edge.allow_private_origins, "no longer every private address");
        assert_eq!(p.edge.private_origins_allowed, [e.origin.to_string()], "exactly the demo origin");
        let node = std::fs::read_to_string(server::demo::node_secret_file(&t.app.config)).unwrap();
        let targets = t.store.list_targets(t.demo.id).await.unwrap();
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].url, format!("http://{}/_purge", e.admin));
        let secret = edge::project_secret(&edge::Secret::new(node.trim()), "demo");
        assert_eq!(targets[0].secret.as_deref(), Some(secret.as_str()));

        // start.sh's loop: open, swap, still cached, invalidate, the edge removes the copy.
        let client = reqwest::Client::new();
        let url = format!("http://{}/demo/{}/{}?w=400", e.edge, e.origin, server::demo::SAMPLE);
        let mut tries = 0;
        while client.get(&url).send().await.unwrap().status() != 200 {
            tries += 1;
            assert!(tries < 50, "the embedded edge never served {url}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let first = common::stack::fetch(&client, &url).await;
        assert_eq!(first.cache, "HIT");
        server::demo::write_sample(&t.app.config, true).unwrap();
        let stale = common::stack::fetch(&client, &url).await;
        assert_eq!((stale.cache.as_str(), &stale.body), ("HIT", &first.body));
        let refused = client.post(format!("http://{}/_purge", e.edge)).bearer_auth(&secret).body("{}").send().await;
        assert_eq!(refused.unwrap().status(), 404, "no purge on the image port");

        let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
        let path = format!("/{}/{}", e.origin, server::demo::SAMPLE);
        let sub = Submission::from_api("original", Some(vec![path]), None).unwrap();
        let id = t.app.services.invalidations.submit(&actor, sub).await.unwrap().invalidation.id;
        let worker = t.app.worker(WorkerConfig { id: "demo-test".into(), ..Default::default() });
        worker.try_execute_task().await.unwrap().expect("the job");
        let detail = t.app.services.invalidations.detail(&actor, id).await.unwrap();
        assert_eq!(detail.invalidation.status, Status::Done, "{detail:?}");
        assert_eq!(detail.targets[0].detail.as_deref(), Some("removed 1 cached object"), "{detail:?}");
        let fresh = common::stack::fetch(&client, &url).await;
        assert_eq!(fresh.cache, "MISS");
        assert_ne!(fresh.body, first.body, "the new image");
        stop.cancel();

        // With the embedded edge off, the demo project fetches no private address.
        let mut off = t.app.config.clone();
        off.edge.embedded = false;
        assert!(server::demo::start(&off, &t.app.services, console, CancellationToken::new()).await.unwrap().is_none());
        let p = t.store.project_by_id(t.demo.id).await.unwrap();
        assert!(!p.edge.allow_private_origins && p.edge.private_origins_allowed.is_empty(), "{:?}", p.edge);
        let _ = std::fs::remove_dir_all(&t.app.config.edge.data_dir);
    }
);

db_test_cfg!(the_edges_label_responses_for_the_cdns_the_project_purges, with_token, |t: TestApp| async move {
    assert_eq!(feed(&t).await["tag_headers"], serde_json::json!([]));
    for (kind, name) in
        [(TargetKind::Cloudflare, "cf"), (TargetKind::Fastly, "fastly"), (TargetKind::Cloudfront, "cfr")]
    {
        let new = NewTarget {
            kind,
            name: name.into(),
            url: "https://api.example/".into(),
            secret: None,
            settings: Default::default(),
            credentials: None,
        };
        t.store.add_target(t.demo.id, &new, now_ms()).await.unwrap();
    }
    // CloudFront has no tags; the other project has no CDN at all.
    assert_eq!(feed(&t).await["tag_headers"], serde_json::json!(["cache-tag", "surrogate-key"]));
});

db_test_cfg!(
    automatic_format_is_on_for_new_projects_and_the_page_names_cdns_not_ready,
    with_token,
    |t: TestApp| async move {
        let cookie = admin(&t).await;
        // New projects choose formats per browser; documents made before the
        // setting existed keep the source format.
        assert!(t.store.project_by_id(t.demo.id).await.unwrap().edge.auto_format);
        assert_eq!(
            (feed(&t).await["auto_format"].as_bool(), feed(&t).await["linear_light"].as_bool()),
            (Some(true), Some(false))
        );
        let old: EdgeSettings = serde_json::from_str("{}").unwrap();
        assert!(!old.auto_format && !old.linear_light);

        // A CDN target not marked as set up for it: the page says so, by name.
        let cdn = |name: &str, ready: bool| {
            let mut settings = imgflush::domain::TargetSettings::default();
            settings.0.insert("service_id".into(), "SU1Z0isxPaozGVKXdv0eY".into());
            settings.0.insert("vary_accept".into(), if ready { "on" } else { "off" }.into());
            NewTarget {
                kind: TargetKind::Fastly,
                name: name.into(),
                url: "https://api.fastly.com".into(),
                secret: None,
                settings,
                credentials: None,
            }
        };
        t.store.add_target(t.demo.id, &cdn("fastly-ready", true), now_ms()).await.unwrap();
        assert!(!settings_page(&t, &cookie).await.contains("format-warning"));
        t.store.add_target(t.demo.id, &cdn("fastly-eu", false), now_ms()).await.unwrap();
        let html = settings_page(&t, &cookie).await;
        assert!(html.contains("format-warning") && html.contains("fastly-eu is not marked"), "{html}");
        assert!(!html.contains("fastly-ready is"), "{html}");

        // Off: no warning, and the edges serve the source format.
        let resp = t.server_fn(&cookie, "save_settings", &form("", &[])).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(feed(&t).await["auto_format"], false);
        assert!(!settings_page(&t, &cookie).await.contains("format-warning"));
        let on = [("auto_format", "on"), ("linear_light", "on")];
        let resp = t.server_fn(&cookie, "save_settings", &form("", &on)).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let fed = feed(&t).await;
        assert_eq!((fed["auto_format"].as_bool(), fed["linear_light"].as_bool()), (Some(true), Some(true)), "{fed}");
        let query = imgflush::backend::store::AuditQuery { limit: 100, ..Default::default() };
        let audit = t.store.list_audit(&query).await.unwrap();
        assert!(audit.iter().any(|e| e.detail.contains("linear_light: false → true")), "{audit:?}");
    }
);

async fn settings_page(t: &TestApp, cookie: &str) -> String {
    body_text(t.get("/p/demo/settings", Some(cookie)).await).await
}
