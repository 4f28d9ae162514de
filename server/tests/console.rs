//! The console's server functions: what the Invalidation page and Settings
//! page call, with the same validation the browser runs.

mod common;

use axum::http::{header, StatusCode};
use common::*;
use imgflush::domain::{Role, Status};

async fn admin(t: &TestApp) -> String {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    t.login("admin@example.com").await
}

db_test!(submit_returns_the_new_id_and_redirects_to_the_log, |t: TestApp| async move {
    let cookie = admin(&t).await;
    let resp = t
        .server_fn(
            &cookie,
            "submit_invalidation",
            &[
                ("project", "demo"),
                ("scope", "original"),
                ("urls", "/sample.li/flat1.jpg,\n/sample.li/flat2.jpg\r\n\n/sample.li/flat1.jpg"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let redirect = resp.headers().get(header::LOCATION).unwrap().to_str().unwrap().to_owned();
    let id: String = serde_json::from_value(body_json(resp).await).unwrap();
    assert_eq!(redirect, format!("/p/demo/invalidation?created={id}#created"));
    let rows = t.store.list_invalidations(t.demo.id, &Default::default()).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].paths, ["/sample.li/flat1.jpg", "/sample.li/flat2.jpg"], "duplicates dropped");
    assert_eq!(rows[0].submitted_by, "admin@example.com");
    assert_eq!(rows[0].status, Status::Received);
});

db_test!(the_server_rejects_what_the_form_would_block, |t: TestApp| async move {
    let cookie = admin(&t).await;
    let eleven: Vec<String> = (0..11).map(|i| format!("/img/{i}.jpg")).collect();
    let cases = [
        (eleven.join("\n"), "at most 10"),
        ("doc.cloudimg.io/sample.li/flat1.jpg?w=500".to_owned(), "/sample.li/flat1.jpg"),
        ("/sample.li/flat1.jpg?w=500".to_owned(), "/sample.li/flat1.jpg"),
        ("".to_owned(), "urls"),
    ];
    for (urls, expect) in cases {
        let resp = t
            .server_fn(&cookie, "submit_invalidation", &[("project", "demo"), ("scope", "original"), ("urls", &urls)])
            .await;
        assert!(resp.status().is_client_error() || resp.status().is_server_error());
        let body = body_json(resp).await;
        let details = body["Invalid"].as_array().unwrap_or_else(|| panic!("{body}"));
        assert!(body.to_string().contains(expect), "{urls:?} → {body}");
        assert!(details.iter().all(|d| d["field"] == "urls"));
    }
    let bad = t
        .server_fn(
            &cookie,
            "submit_invalidation",
            &[("project", "demo"), ("scope", "original"), ("urls", "doc.cloudimg.io/sample.li/flat1.jpg?w=500")],
        )
        .await;
    let body = body_json(bad).await;
    assert_eq!(body["Invalid"][0]["entry"], "doc.cloudimg.io/sample.li/flat1.jpg?w=500");
    assert_eq!(body["Invalid"][0]["suggestion"], "/sample.li/flat1.jpg");
    assert!(t.store.list_invalidations(t.demo.id, &Default::default()).await.unwrap().is_empty());
});

db_test!(scope_all_needs_explicit_confirmation, |t: TestApp| async move {
    let cookie = admin(&t).await;
    let refused =
        t.server_fn(&cookie, "submit_invalidation", &[("project", "demo"), ("scope", "all"), ("urls", "")]).await;
    let body = body_json(refused).await;
    assert_eq!(body["Invalid"][0]["field"], "confirm_all", "{body}");
    let ok = t
        .server_fn(
            &cookie,
            "submit_invalidation",
            &[("project", "demo"), ("scope", "all"), ("urls", "/ignored.jpg"), ("confirm_all", "yes")],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let rows = t.store.list_invalidations(t.demo.id, &Default::default()).await.unwrap();
    assert_eq!(rows[0].scope, imgflush::domain::Scope::All);
    assert!(rows[0].paths.is_empty());
});

db_test!(log_pages_by_keyset_and_filters, |t: TestApp| async move {
    let cookie = admin(&t).await;
    for i in 0..25 {
        let urls = format!("/page/{i}.jpg");
        let r = t
            .server_fn(&cookie, "submit_invalidation", &[("project", "demo"), ("scope", "original"), ("urls", &urls)])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let first = body_json(t.server_fn(&cookie, "list_invalidations", &[("project", "demo")]).await).await;
    let rows = first["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 20);
    assert_eq!(rows[0]["paths"][0], "/page/24.jpg", "newest first");
    let next = first["next"].as_str().unwrap().to_owned();
    let second =
        body_json(t.server_fn(&cookie, "list_invalidations", &[("project", "demo"), ("before", &next)]).await).await;
    let older = second["rows"].as_array().unwrap();
    assert_eq!(older.len(), 5);
    assert_eq!(older[4]["paths"][0], "/page/0.jpg");
    assert!(second["next"].is_null());

    let by_path =
        body_json(t.server_fn(&cookie, "list_invalidations", &[("project", "demo"), ("q", "/page/13")]).await).await;
    assert_eq!(by_path["rows"].as_array().unwrap().len(), 1);
    let id = by_path["rows"][0]["id"].as_str().unwrap().to_owned();
    let by_id = body_json(t.server_fn(&cookie, "list_invalidations", &[("project", "demo"), ("q", &id)]).await).await;
    assert_eq!(by_id["rows"][0]["paths"][0], "/page/13.jpg");
    let like = body_json(t.server_fn(&cookie, "list_invalidations", &[("project", "demo"), ("q", "%")]).await).await;
    assert_eq!(like["rows"].as_array().unwrap().len(), 0, "LIKE wildcards are escaped");
    let done =
        body_json(t.server_fn(&cookie, "list_invalidations", &[("project", "demo"), ("status", "DONE")]).await).await;
    assert_eq!(done["rows"].as_array().unwrap().len(), 0);
    let bad =
        body_json(t.server_fn(&cookie, "list_invalidations", &[("project", "demo"), ("status", "FINISHED")]).await)
            .await;
    assert_eq!(bad["Invalid"][0]["field"], "status");
});

db_test!(retry_is_refused_unless_errored, |t: TestApp| async move {
    let cookie = admin(&t).await;
    let resp = t
        .server_fn(&cookie, "submit_invalidation", &[("project", "demo"), ("scope", "original"), ("urls", "/a.jpg")])
        .await;
    let id: String = serde_json::from_value(body_json(resp).await).unwrap();
    let retry = t.server_fn(&cookie, "retry_invalidation", &[("project", "demo"), ("id", &id)]).await;
    let body = body_json(retry).await;
    assert!(body["Conflict"].as_str().unwrap().contains("RECEIVED"), "{body}");
});

db_test!(admins_manage_targets_with_clear_errors, |t: TestApp| async move {
    let cookie = admin(&t).await;
    let bad = t
        .server_fn(&cookie, "add_target", &[("project", "demo"), ("kind", "squid"), ("name", ""), ("url", "not a url")])
        .await;
    let body = body_json(bad).await;
    let fields: Vec<&str> = body["Invalid"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["kind", "name", "url"]);
    let ok = t
        .server_fn(
            &cookie,
            "add_target",
            &[
                ("project", "demo"),
                ("kind", "varnish"),
                ("name", "v1"),
                ("url", "http://user:pw@127.0.0.1:6081/"),
                ("secret", "s3cret"),
            ],
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    let settings = body_json(t.server_fn(&cookie, "project_settings", &[("project", "demo")]).await).await;
    let text = settings.to_string();
    assert!(!text.contains("s3cret") && !text.contains("pw@"), "secrets never reach responses: {text}");
    assert_eq!(settings["targets"][0]["has_secret"], true);
    let dup = t
        .server_fn(
            &cookie,
            "add_target",
            &[("project", "demo"), ("kind", "edge"), ("name", "v1"), ("url", "http://127.0.0.1:1/")],
        )
        .await;
    assert!(body_json(dup).await["Conflict"].as_str().unwrap().contains("name"));
});

db_test!(api_keys_are_shown_once_and_label_api_invalidations, |t: TestApp| async move {
    let cookie = admin(&t).await;
    let created =
        body_json(t.server_fn(&cookie, "create_key", &[("project", "demo"), ("name", "ci"), ("role", "editor")]).await)
            .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("imf_"), "{created}");
    let listed = body_json(t.server_fn(&cookie, "list_keys", &[("project", "demo")]).await).await;
    assert!(!listed.to_string().contains(&secret), "the secret is never listed");
    assert_eq!(listed["keys"][0]["name"], "ci");
    let bad =
        body_json(t.server_fn(&cookie, "create_key", &[("project", "demo"), ("name", ""), ("role", "owner")]).await)
            .await;
    let fields: Vec<&str> = bad["Invalid"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "role"]);

    let resp = t
        .send(
            axum::http::Request::post("/invalidate")
                .header("x-client-key", &secret)
                .header(header::CONTENT_TYPE, "application/json")
                .body(axum::body::Body::from(r#"{"scope":"original","urls":["/sample.li/flat1.jpg"]}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let log = body_json(t.server_fn(&cookie, "list_invalidations", &[("project", "demo")]).await).await;
    assert_eq!(log["rows"][0]["submitted_by"], "API key ci");

    let key_id = listed["keys"][0]["id"].to_string();
    let revoked = t.server_fn(&cookie, "revoke_key", &[("project", "demo"), ("key_id", &key_id)]).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let refused = t
        .send(
            axum::http::Request::get("/invalidate/00000000-0000-7000-8000-000000000000")
                .header("x-client-key", &secret)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    t.user("support@example.com", Role::Support, &t.demo).await;
    let support = t.login("support@example.com").await;
    let denied = t.server_fn(&support, "create_key", &[("project", "demo"), ("name", "x"), ("role", "editor")]).await;
    assert_eq!(body_json(denied).await, serde_json::json!("Forbidden"));
});

db_test!(admins_edit_the_settings_the_edges_read, |t: TestApp| async move {
    let cookie = admin(&t).await;
    let form = |name: &'static str, hosts: &'static str, ttl: &'static str| {
        vec![
            ("project", "demo"),
            ("name", name),
            ("origin_hosts", hosts),
            ("max_age_secs", ttl),
            ("s_maxage_secs", "86400"),
            ("origin_scheme", "http"),
            ("custom_host", "Images.Example.com"),
            ("sign_salt", "a-long-salt-value"),
            ("sign_length", "12"),
            ("soft_purge", "on"),
        ]
    };
    let resp = t.server_fn(&cookie, "save_settings", &form("Shop", "img.example.com\n*.cdn.example.com", "60")).await;
    assert_eq!(resp.status(), StatusCode::OK, "{}", body_text(resp).await);
    let p = t.store.project_by_id(t.demo.id).await.unwrap();
    assert_eq!((p.name.as_str(), p.max_age_secs, p.s_maxage_secs), ("Shop", 60, 86400));
    assert_eq!(p.origin_hosts, ["img.example.com", "*.cdn.example.com"]);
    assert_eq!(p.edge.custom_host.as_deref(), Some("images.example.com"));
    assert_eq!((p.edge.sign_salt.as_deref(), p.edge.sign_length), (Some("a-long-salt-value"), Some(12)));
    assert!(p.edge.soft_purge && !p.edge.verify && !p.edge.sealed);

    // The salt never travels back; the page only learns that signing is on.
    let view = body_text(t.server_fn(&cookie, "project_settings", &[("project", "demo")]).await).await;
    assert!(!view.contains("a-long-salt-value") && view.contains("\"signing\":true"), "{view}");

    // Every bad field is named; nothing is stored.
    let resp = t.server_fn(&cookie, "save_settings", &form("", "http://bad/", "-5")).await;
    let body = body_json(resp).await;
    let fields: Vec<&str> = body["Invalid"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "origin_hosts", "max_age_secs"], "{body}");
    assert_eq!(t.store.project_by_id(t.demo.id).await.unwrap().name, "Shop");

    // Another project may not take the same custom host.
    let other = t.project("other").await;
    t.user("admin@example.com", Role::Admin, &other).await;
    let mut taken = form("Other", "", "60");
    taken[0] = ("project", "other");
    let body = body_json(t.server_fn(&cookie, "save_settings", &taken).await).await;
    assert!(body.to_string().contains("custom_host"), "{body}");

    // Support and editors read the settings but may not change them.
    for (email, role) in [("support@example.com", Role::Support), ("editor@example.com", Role::Editor)] {
        t.user(email, role, &t.demo).await;
        let c = t.login(email).await;
        let resp = t.server_fn(&c, "save_settings", &form("Mine", "", "1")).await;
        assert_eq!(body_json(resp).await, serde_json::json!("Forbidden"), "{role}");
    }
    assert_eq!(t.store.project_by_id(t.demo.id).await.unwrap().name, "Shop");
});

db_test!(the_edge_output_rules_are_saved_shown_and_sent_to_the_edges, |t: TestApp| async move {
    let cookie = admin(&t).await;
    let before = t.store.project_by_id(t.demo.id).await.unwrap();
    let sent = server::internal::edge_settings(before);
    assert!(!sent.no_upscale && !sent.strict_seal, "existing projects keep enlarging and open parameters");
    let mut form = vec![
        ("project", "demo"),
        ("name", "Shop"),
        ("origin_hosts", ""),
        ("max_age_secs", "60"),
        ("s_maxage_secs", "60"),
        ("origin_scheme", "https"),
        ("custom_host", ""),
        ("sign_salt", "a-long-salt-value"),
        ("sign_length", ""),
        ("strict_seal", "on"),
        ("no_upscale", "on"),
    ];
    let body = body_json(t.server_fn(&cookie, "save_settings", &form).await).await;
    assert_eq!(body["Invalid"][0]["field"], "strict_seal", "a strict seal needs sealed URLs: {body}");
    form.push(("sealed", "on"));
    let resp = t.server_fn(&cookie, "save_settings", &form).await;
    assert_eq!(resp.status(), StatusCode::OK, "{}", body_text(resp).await);
    let p = t.store.project_by_id(t.demo.id).await.unwrap();
    assert!(p.edge.sealed && p.edge.strict_seal && p.edge.no_upscale);
    let view = body_json(t.server_fn(&cookie, "project_settings", &[("project", "demo")]).await).await;
    assert_eq!((view["strict_seal"].as_bool(), view["no_upscale"].as_bool()), (Some(true), Some(true)), "{view}");
    let sent = server::internal::edge_settings(p);
    assert!(sent.sealed && sent.strict_seal && sent.no_upscale);

    // Unticked boxes are not posted: both rules go off again.
    form.retain(|(k, _)| !matches!(*k, "strict_seal" | "no_upscale"));
    let resp = t.server_fn(&cookie, "save_settings", &form).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let p = t.store.project_by_id(t.demo.id).await.unwrap();
    assert!(p.edge.sealed && !p.edge.strict_seal && !p.edge.no_upscale);
});

db_test!(pasted_lists_are_bounded_in_size_and_errors, |t: TestApp| async move {
    let cookie = admin(&t).await;
    let submit = |urls: String| {
        let cookie = cookie.clone();
        let t = &t;
        async move {
            let resp = t
                .server_fn(
                    &cookie,
                    "submit_invalidation",
                    &[("project", "demo"), ("scope", "original"), ("urls", &urls)],
                )
                .await;
            body_text(resp).await
        }
    };
    // Over 64 KB: one clear error, nothing parsed or echoed.
    let body = submit("a\n".repeat(40_000)).await;
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let errors = json["Invalid"].as_array().unwrap_or_else(|| panic!("{body}"));
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["field"], "urls");
    assert!(errors[0]["message"].as_str().unwrap().contains("64 KB"), "{body}");
    // Under the bound: at most 10 entry errors and a note, not 20,000.
    let body = submit("a\n".repeat(20_000)).await;
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let errors = json["Invalid"].as_array().unwrap_or_else(|| panic!("{body}"));
    assert_eq!(errors.len(), 11, "{body}");
    assert!(errors[10]["message"].as_str().unwrap().contains("first 10"), "{body}");
    assert!(body.len() < 8 * 1024, "{} bytes", body.len());
    // A long entry is echoed as an excerpt.
    let body = submit(format!("x{}", "a".repeat(30_000))).await;
    assert!(body.len() < 2 * 1024, "{} bytes", body.len());
    assert!(t.store.list_invalidations(t.demo.id, &Default::default()).await.unwrap().is_empty());
});

db_test!(log_search_matches_paths_exactly_or_by_prefix, |t: TestApp| async move {
    let cookie = admin(&t).await;
    for urls in ["/sample.li/a/1.jpg", "/sample.li/b/2.jpg\n/sample.li/a b.jpg", "/other/1.jpg"] {
        let r = t
            .server_fn(&cookie, "submit_invalidation", &[("project", "demo"), ("scope", "original"), ("urls", urls)])
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let count = |q: String| {
        let cookie = cookie.clone();
        let t = &t;
        async move {
            let page =
                body_json(t.server_fn(&cookie, "list_invalidations", &[("project", "demo"), ("q", &q)]).await).await;
            page["rows"].as_array().map(Vec::len).unwrap_or_else(|| panic!("{page}"))
        }
    };
    assert_eq!(count("/sample.li/a/1.jpg".into()).await, 1, "exact");
    assert_eq!(count("/sample.li/a".into()).await, 2, "prefix: /a/1.jpg and /a%20b.jpg");
    assert_eq!(count("/sample.li/".into()).await, 2);
    assert_eq!(count("/sample.li/a b.jpg".into()).await, 1, "canonicalised like a submitted path");
    assert_eq!(count("1.jpg".into()).await, 0, "no substring search");
    assert_eq!(count("/sample.li/a/1.jpg*".into()).await, 0);
    let long = format!("/{}", "a".repeat(600));
    let bad = body_json(t.server_fn(&cookie, "list_invalidations", &[("project", "demo"), ("q", &long)]).await).await;
    assert_eq!(bad["Invalid"][0]["field"], "q", "{bad}");
});

db_test_cfg!(
    console_changes_are_limited_per_user,
    |c: &mut server::Config| c.security.console_writes_per_minute = 3,
    |t: TestApp| async move {
        let cookie = admin(&t).await;
        let submit = |cookie: String| {
            let t = &t;
            async move {
                let form = [("project", "demo"), ("scope", "original"), ("urls", "/a.jpg")];
                body_json(t.server_fn(&cookie, "submit_invalidation", &form).await).await
            }
        };
        for _ in 0..2 {
            assert!(submit(cookie.clone()).await.is_string());
        }
        let key = t.server_fn(&cookie, "create_key", &[("project", "demo"), ("name", "ci"), ("role", "editor")]).await;
        assert_eq!(key.status(), StatusCode::OK);
        let refused = submit(cookie.clone()).await;
        let msg = refused["Conflict"].as_str().unwrap_or_else(|| panic!("{refused}"));
        assert!(msg.contains("try again in"), "{msg}");
        // Reading is not limited; another user has their own budget.
        let list = t.server_fn(&cookie, "list_invalidations", &[("project", "demo")]).await;
        assert_eq!(list.status(), StatusCode::OK);
        t.user("editor@example.com", Role::Editor, &t.demo).await;
        let editor = t.login("editor@example.com").await;
        assert!(submit(editor).await.is_string());
    }
);

db_test_cfg!(
    scope_all_is_limited_per_project_for_console_and_api,
    |c: &mut server::Config| c.api.all_per_hour = 2,
    |t: TestApp| async move {
        let cookie = admin(&t).await;
        let all = [("project", "demo"), ("scope", "all"), ("confirm_all", "yes")];
        for _ in 0..2 {
            let ok = t.server_fn(&cookie, "submit_invalidation", &all).await;
            assert_eq!(ok.status(), StatusCode::OK);
        }
        let refused = body_json(t.server_fn(&cookie, "submit_invalidation", &all).await).await;
        let msg = refused["Conflict"].as_str().unwrap_or_else(|| panic!("{refused}"));
        assert!(msg.contains("2 times per") && msg.contains("try again in"), "{msg}");
        // The API shares the project's budget.
        let created = body_json(
            t.server_fn(&cookie, "create_key", &[("project", "demo"), ("name", "ci"), ("role", "editor")]).await,
        )
        .await;
        let secret = created["secret"].as_str().unwrap().to_owned();
        let api = t
            .send(
                axum::http::Request::post("/invalidate")
                    .header("x-client-key", &secret)
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(axum::body::Body::from(r#"{"scope":"all"}"#))
                    .unwrap(),
            )
            .await;
        assert_eq!(api.status(), StatusCode::CONFLICT);
        assert!(body_text(api).await.contains("try again in"));
        // Original is not affected, nor is another project.
        let ok = t
            .server_fn(
                &cookie,
                "submit_invalidation",
                &[("project", "demo"), ("scope", "original"), ("urls", "/a.jpg")],
            )
            .await;
        assert_eq!(ok.status(), StatusCode::OK);
        let other = t.project("other").await;
        t.user("admin@example.com", Role::Admin, &other).await;
        let ok = t
            .server_fn(
                &cookie,
                "submit_invalidation",
                &[("project", "other"), ("scope", "all"), ("confirm_all", "yes")],
            )
            .await;
        assert_eq!(ok.status(), StatusCode::OK);
        let rows = t.store.list_invalidations(t.demo.id, &Default::default()).await.unwrap();
        assert_eq!(rows.iter().filter(|r| r.scope == imgflush::domain::Scope::All).count(), 2);
    }
);

/// Pages render while other apps of the same process start (as the tests do,
/// in parallel). Listing an app's pages switches Leptos's resource loading
/// off process-wide for a moment; a page whose resources started in that
/// moment never finished (leptos-rs/leptos#4773) until the listing was made
/// once per process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_finish_while_other_apps_start() {
    let t = std::sync::Arc::new(TestApp::new(Db::Sqlite).await);
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let cookie = t.login("admin@example.com").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> =
        ["/p/demo/invalidation", "/p/demo/settings", "/p/demo/invalidation/0190aaaa-0000-7000-8000-000000000000"]
            .into_iter()
            .map(|path| {
                let (t, cookie, stop) = (t.clone(), cookie.clone(), stop.clone());
                tokio::spawn(async move {
                    let mut rendered = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let page = tokio::time::timeout(std::time::Duration::from_secs(30), async {
                            let page = t.get(path, Some(&cookie)).await;
                            let status = page.status();
                            body_text(page).await;
                            status
                        });
                        let status = page.await.unwrap_or_else(|_| panic!("{path} did not finish in 30 s"));
                        assert!(status == StatusCode::OK || status == StatusCode::NOT_FOUND, "{path}: {status}");
                        rendered += 1;
                    }
                    rendered
                })
            })
            .collect();
    for _ in 0..30 {
        TestApp::new(Db::Sqlite).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        assert!(reader.await.unwrap() > 0);
    }
}

db_test!(the_form_starts_from_the_callers_role_and_a_copied_invalidation, |t: TestApp| async move {
    let cookie = admin(&t).await;
    let resp = t
        .server_fn(
            &cookie,
            "submit_invalidation",
            &[("project", "demo"), ("scope", "original"), ("urls", "/a.jpg\n/b.jpg")],
        )
        .await;
    let id: String = serde_json::from_value(body_json(resp).await).unwrap();
    let start = |cookie: String, project: &'static str, copy: Option<String>| {
        let t = &t;
        async move {
            let mut form = vec![("project", project)];
            if let Some(c) = copy.as_deref() {
                form.push(("copy", c));
            }
            t.server_fn_json(&cookie, "invalidation_form", &form).await
        }
    };
    let copied = start(cookie.clone(), "demo", Some(id.clone())).await;
    assert_eq!(copied["role"], "admin");
    assert_eq!(copied["initial"], serde_json::json!(["original", ["/a.jpg", "/b.jpg"]]));
    assert_eq!(copied["confirm_above"], serde_json::Value::Null);
    assert!(copied["origin_hosts"].is_array(), "the form warns about other hosts: {copied}");
    assert_eq!(start(cookie.clone(), "demo", None).await["initial"], serde_json::Value::Null);
    let bad = start(cookie.clone(), "demo", Some("not-an-id".into())).await;
    assert_eq!(bad["initial"], serde_json::Value::Null, "a bad ID starts an empty form, not an error");

    t.user("support@example.com", Role::Support, &t.demo).await;
    let support = t.login("support@example.com").await;
    assert_eq!(start(support, "demo", None).await["role"], "support", "the page shows the read-only notice");

    // Another project's member: not found in demo, and demo's ID copies nothing into theirs.
    let other = t.project("other").await;
    t.user("ann@example.com", Role::Admin, &other).await;
    let ann = t.login("ann@example.com").await;
    assert_eq!(start(ann.clone(), "demo", Some(id.clone())).await, serde_json::json!("NotFound"));
    let theirs = start(ann, "other", Some(id)).await;
    assert_eq!(
        theirs,
        serde_json::json!({"role": "admin", "initial": null, "confirm_above": null, "origin_hosts": []})
    );
    assert_eq!(start(String::new(), "demo", None).await, serde_json::json!("Unauthorized"));
});
