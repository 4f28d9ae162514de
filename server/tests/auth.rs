//! Sign-in, sessions, roles and request guards, through the real router.

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use imgflush::domain::Role;

db_test!(login_ok_sets_a_hardened_session_cookie, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let resp = t.login_response("Admin@Example.com ", PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resp), "/");
    let cookie = set_cookie_header(&resp).expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http must not get Secure: {cookie}");
    // The session reaches a page and `/` forwards to the first project.
    let cookie = session_cookie(&resp).unwrap();
    let home = t.get("/", Some(&cookie)).await;
    assert_eq!(location(&home), "/p/demo/invalidation");
});

db_test!(wrong_password_and_unknown_user_answer_alike, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let wrong = t.login_response("admin@example.com", "nope").await;
    let unknown = t.login_response("nobody@example.com", "nope").await;
    for resp in [&wrong, &unknown] {
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(resp), "/login?error=invalid&next=/");
        assert!(session_cookie(resp).is_none(), "no session for a failed login");
    }
});

db_test!(secure_cookie_behind_https_proxy, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let resp = t
        .send(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("x-forwarded-proto", "https")
                .body(Body::from(format!("email=admin%40example.com&password={}", enc(PASSWORD))))
                .unwrap(),
        )
        .await;
    assert!(set_cookie_header(&resp).unwrap().contains("Secure"));
});

db_test!(login_renews_the_session_id, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let first = t.login("admin@example.com").await;
    let resp = t
        .send(
            Request::post("/login")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, &first)
                .body(Body::from(format!("email=admin%40example.com&password={}", enc(PASSWORD))))
                .unwrap(),
        )
        .await;
    let second = session_cookie(&resp).expect("a new cookie");
    assert_ne!(first, second);
});

db_test!(pages_require_a_session, |t: TestApp| async move {
    for path in ["/", "/p/demo/invalidation", "/p/demo/settings", "/docs/api"] {
        let resp = t.get(path, None).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(location(&resp).starts_with("/login?next="), "{path}");
    }
    let login = t.get("/login", None).await;
    assert_eq!(login.status(), StatusCode::OK);
    let csp = login.headers().get("content-security-policy").unwrap().to_str().unwrap().to_owned();
    assert!(csp.contains("'wasm-unsafe-eval'") && csp.contains("'nonce-"), "{csp}");
    let html = body_text(login).await;
    let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the CSP nonce");
});

db_test!(logout_destroys_the_session, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let cookie = t.login("admin@example.com").await;
    let resp = t
        .send(
            Request::post("/logout")
                .header(header::COOKIE, &cookie)
                .header(header::ORIGIN, "http://localhost")
                .header(header::HOST, "localhost")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(location(&resp), "/login");
    let after = t.get("/p/demo/invalidation", Some(&cookie)).await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "the old cookie no longer works");
    let me = t.server_fn(&cookie, "me", &[]).await;
    assert_eq!(body_json(me).await, serde_json::json!("Unauthorized"));
});

db_test!(server_functions_require_a_session, |t: TestApp| async move {
    let resp = t.server_fn("imgflush_session=forged", "list_invalidations", &[("project", "demo")]).await;
    assert!(resp.status().is_server_error() || resp.status().is_client_error());
    assert_eq!(body_json(resp).await, serde_json::json!("Unauthorized"));
});

db_test!(roles_are_enforced_in_server_functions, |t: TestApp| async move {
    t.user("support@example.com", Role::Support, &t.demo).await;
    let cookie = t.login("support@example.com").await;
    let submit = t
        .server_fn(&cookie, "submit_invalidation", &[("project", "demo"), ("scope", "original"), ("urls", "/a.jpg")])
        .await;
    assert_eq!(body_json(submit).await, serde_json::json!("Forbidden"));
    let add = t
        .server_fn(
            &cookie,
            "add_target",
            &[("project", "demo"), ("kind", "edge"), ("name", "e"), ("url", "http://127.0.0.1:1/")],
        )
        .await;
    assert_eq!(body_json(add).await, serde_json::json!("Forbidden"));
    // Reading is allowed.
    let list = t.server_fn(&cookie, "list_invalidations", &[("project", "demo")]).await;
    assert_eq!(list.status(), StatusCode::OK);
    assert_eq!(body_json(list).await["role"], "support");
});

db_test!(another_projects_data_answers_not_found, |t: TestApp| async move {
    let other = t.project("other").await;
    let stranger = t.actor("owner@other.io", Role::Admin, &other).await;
    let created = t
        .app
        .services
        .invalidations
        .submit(
            &stranger,
            imgflush::backend::invalidations::Submission {
                scope: imgflush::domain::Scope::Original,
                paths: imgflush::backend::invalidations::PathsInput::List(vec!["/secret.jpg".into()]),
                max_paths: 10,
                field: "urls",
                confirmed: false,
                not_before_ms: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let cookie = t.login("admin@example.com").await;
    let id = created.invalidation.id.to_string();
    let page = t.get("/p/other/invalidation", Some(&cookie)).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let page = t.get(&format!("/p/demo/invalidation/{}", created.invalidation.id), Some(&cookie)).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(!body_text(page).await.contains("/secret.jpg"));
    for (name, form) in [
        ("list_invalidations", vec![("project", "other")]),
        ("invalidation_detail", vec![("project", "other"), ("id", id.as_str())]),
        ("invalidation_detail", vec![("project", "demo"), ("id", id.as_str())]),
        ("project_settings", vec![("project", "other")]),
        ("project_settings", vec![("project", "does-not-exist")]),
    ] {
        let resp = t.server_fn(&cookie, name, &form).await;
        assert_eq!(body_json(resp).await, serde_json::json!("NotFound"), "{name} {form:?}");
    }
});

db_test!(cross_site_posts_are_refused, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let cookie = t.login("admin@example.com").await;
    let form = "project=demo&scope=original&urls=%2Fa.jpg";
    let attempts = [
        ("sec-fetch-site", "cross-site", header::ORIGIN, "http://localhost"),
        ("sec-fetch-site", "same-site", header::ORIGIN, "http://localhost"),
        ("x-ignored", "", header::ORIGIN, "https://evil.example"),
        ("x-ignored", "", header::ORIGIN, "null"),
    ];
    for (fetch_header, fetch_value, origin_header, origin) in attempts {
        for path in ["/sfn/submit_invalidation", "/logout", "/login"] {
            let resp = t
                .send(
                    Request::post(path)
                        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                        .header(header::HOST, "localhost")
                        .header(header::COOKIE, &cookie)
                        .header(fetch_header, fetch_value)
                        .header(origin_header.clone(), origin)
                        .body(Body::from(form))
                        .unwrap(),
                )
                .await;
            assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{path} from {origin} / {fetch_value}");
        }
    }
    let log = t.store.list_invalidations(t.demo.id, &Default::default()).await.unwrap();
    assert!(log.is_empty(), "nothing was submitted");
});

db_test!(login_is_throttled_per_account_and_per_ip, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    for _ in 0..5 {
        let resp = t.login_response("admin@example.com", "wrong").await;
        assert!(location(&resp).contains("error=invalid"));
    }
    // Even the right password is refused while throttled.
    let resp = t.login_response("admin@example.com", PASSWORD).await;
    assert!(location(&resp).contains("error=throttled"), "{}", location(&resp));
    assert!(session_cookie(&resp).is_none());
});

db_test!(health_endpoints, |t: TestApp| async move {
    assert_eq!(t.get("/healthz", None).await.status(), StatusCode::OK);
    let ready = t.get("/readyz", None).await;
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.headers().get("x-content-type-options").unwrap(), "nosniff");
});

db_test!(next_with_control_characters_or_backslashes_goes_home, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    for next in ["/\t/evil.example", "/\n/evil.example", "/x\ny", "/\\/evil.example", "//evil.example"] {
        let resp = t.login_from("192.0.2.10", None, "admin@example.com", PASSWORD, next).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&resp), "/", "{next:?}");
        let wrong = t.login_from("192.0.2.11", None, "admin@example.com", "nope", next).await;
        assert_eq!(wrong.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&wrong), "/login?error=invalid&next=/", "{next:?}");
    }
    let resp = t.login_from("192.0.2.10", None, "admin@example.com", PASSWORD, "/p/demo/settings").await;
    assert_eq!(location(&resp), "/p/demo/settings");
});

db_test!(a_lockout_slows_the_attackers_address_not_the_owner, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    for _ in 0..5 {
        let resp = t.login_from("203.0.113.5", None, "admin@example.com", "guess", "/").await;
        assert!(location(&resp).contains("error=invalid"), "{}", location(&resp));
    }
    let resp = t.login_from("203.0.113.5", None, "admin@example.com", PASSWORD, "/").await;
    assert!(location(&resp).contains("error=throttled"), "the attacker's address is throttled");
    // The owner, elsewhere, still signs in (the account is not locked for everyone).
    let resp = t.login_from("198.51.100.7", None, "admin@example.com", PASSWORD, "/").await;
    assert_eq!(location(&resp), "/");
    assert!(session_cookie(&resp).is_some());
    // One address guessing many accounts runs out too (20 per window).
    for i in 0..15 {
        t.login_from("203.0.113.5", None, &format!("user{i}@example.com"), "guess", "/").await;
    }
    let resp = t.login_from("203.0.113.5", None, "other@example.com", "guess", "/").await;
    assert!(location(&resp).contains("error=throttled"), "{}", location(&resp));
});

db_test!(parallel_guesses_are_counted_before_the_password_is_checked, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let guesses = (0..12).map(|_| t.login_from("203.0.113.5", None, "admin@example.com", "guess", "/"));
    let answers = futures::future::join_all(guesses).await;
    let invalid = answers.iter().filter(|r| location(r).contains("error=invalid")).count();
    let throttled = answers.iter().filter(|r| location(r).contains("error=throttled")).count();
    assert_eq!((invalid, throttled), (5, 7));
});

db_test_cfg!(
    forwarded_for_counts_only_from_trusted_proxies,
    |c: &mut server::Config| c.security.trusted_proxies = vec!["10.0.0.0/8".into()],
    |t: TestApp| async move {
        t.user("admin@example.com", Role::Admin, &t.demo).await;
        // Through the proxy: the forwarded client is throttled, another client is not.
        for _ in 0..5 {
            t.login_from("10.0.0.1", Some("6.6.6.6, 203.0.113.5"), "admin@example.com", "guess", "/").await;
        }
        let resp = t.login_from("10.0.0.1", Some("203.0.113.5"), "admin@example.com", PASSWORD, "/").await;
        assert!(location(&resp).contains("error=throttled"), "{}", location(&resp));
        let resp = t.login_from("10.0.0.2", Some("198.51.100.7"), "admin@example.com", PASSWORD, "/").await;
        assert_eq!(location(&resp), "/", "another client behind the same proxy");
        // From an untrusted peer the header is ignored: a new value per guess does not help.
        for i in 0..5 {
            let spoof = format!("192.0.2.{i}");
            t.login_from("192.0.2.200", Some(&spoof), "admin@example.com", "guess", "/").await;
        }
        let resp = t.login_from("192.0.2.200", Some("192.0.2.99"), "admin@example.com", PASSWORD, "/").await;
        assert!(location(&resp).contains("error=throttled"), "{}", location(&resp));
    }
);

db_test!(the_sign_in_form_body_is_small, |t: TestApp| async move {
    let huge = format!("{}@example.com", "a".repeat(100_000));
    let resp = t.login_from("192.0.2.10", None, &huge, "x", "/").await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let long = format!("{}@example.com", "a".repeat(1_000));
    let resp = t.login_from("192.0.2.10", None, &long, "x", "/").await;
    assert!(location(&resp).contains("error=invalid"), "{}", location(&resp));
});

// A server function called after the session ended (here: the member was
// removed from their only project) answers 401 with the Unauthorized error,
// never a 500.
db_test!(a_server_function_after_the_session_ended_answers_401, |t: TestApp| async move {
    let user = t.user("gone@example.com", Role::Editor, &t.demo).await;
    let cookie = t.login("gone@example.com").await;
    let ok = t.server_fn(&cookie, "list_invalidations", &[("project", "demo")]).await;
    assert_eq!(ok.status(), StatusCode::OK);
    t.store.remove_membership(user, t.demo.id).await.unwrap();
    t.store.end_sessions(user).await.unwrap();
    let ended = t.server_fn(&cookie, "list_invalidations", &[("project", "demo")]).await;
    assert_eq!(ended.status(), StatusCode::UNAUTHORIZED);
    let body = body_text(ended).await;
    assert!(body.contains("Unauthorized"), "{body}");
    let never = t.server_fn("", "list_invalidations", &[("project", "demo")]).await;
    assert_eq!(never.status(), StatusCode::UNAUTHORIZED);
});
