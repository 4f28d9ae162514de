//! Two-step sign-in: the authenticator set-up, the code after the password
//! (accepted once), recovery codes (once each), remembered browsers, the
//! owners' policy with its set-up gate, an owner's reset, throttling, and
//! the audit trail.

mod common;

use axum::http::{header, StatusCode};
use common::*;
use imgflush::backend::store::AuditQuery;
use imgflush::domain::{InstanceRole, Role};
use totp_rs::{Builder, Secret};

const EDITOR: &str = "editor@example.com";

/// The app's code for `secret` (as the set-up page shows it) at `now + offset_secs`.
fn code(secret: &str, offset_secs: i64) -> String {
    let secret = Secret::try_from_base32(secret.replace(' ', "")).unwrap();
    let totp = Builder::new().with_secret(secret).with_account_name("x").build().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    totp.generate((now + offset_secs) as u64).to_string()
}

async fn post_form(t: &TestApp, path: &str, cookie: &str, body: &str) -> axum::http::Response<axum::body::Body> {
    t.send(
        axum::http::Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, "http://localhost")
            .header(header::HOST, "localhost")
            .header(header::COOKIE, cookie)
            .body(axum::body::Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

/// The cookie to send next: the response's session cookie, else the one sent.
fn next_cookie(resp: &axum::http::Response<axum::body::Body>, sent: &str) -> String {
    session_cookie(resp).unwrap_or_else(|| sent.to_owned())
}

/// Signs in with the password only: answers where it went and the cookie.
async fn password(t: &TestApp, email: &str, extra_cookie: Option<&str>) -> (String, String) {
    let body = format!("email={}&password={}&next=%2Fp%2Fdemo%2Finvalidation", enc(email), enc(PASSWORD));
    let mut req = axum::http::Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "http://localhost")
        .header(header::HOST, "localhost");
    if let Some(c) = extra_cookie {
        req = req.header(header::COOKIE, c);
    }
    let resp = t.send(req.body(axum::body::Body::from(body)).unwrap()).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    (location(&resp), session_cookie(&resp).expect("a session cookie"))
}

async fn signed_in(t: &TestApp, cookie: &str) -> bool {
    t.server_fn(cookie, "me", &[]).await.status() == StatusCode::OK
}

/// Sets up two-step sign-in for the signed-in `cookie`; answers the secret
/// and the recovery codes.
async fn enrol(t: &TestApp, cookie: &str) -> (String, Vec<String>) {
    let setup = t.server_fn_json(cookie, "two_step_setup", &[]).await;
    let secret = setup["secret"].as_str().expect("a secret").replace(' ', "");
    assert!(setup["qr_svg"].as_str().unwrap().contains("<svg"), "a QR code");
    assert!(setup["uri"].as_str().unwrap().starts_with("otpauth://totp/imgflush:"), "{setup}");
    let resp = post_form(t, "/account/two-step", cookie, &format!("code={}", code(&secret, 0))).await;
    assert_eq!(location(&resp), "/account#two-step");
    let cookie = next_cookie(&resp, cookie);
    let codes = t.server_fn_json(&cookie, "take_flash", &[("key", "recovery_codes")]).await;
    let codes: Vec<String> = codes.as_str().expect("the codes, once").lines().map(str::to_owned).collect();
    (secret, codes)
}

async fn actions(t: &TestApp) -> Vec<(String, String)> {
    let entries = t.store.list_audit(&AuditQuery { limit: 200, ..Default::default() }).await.unwrap();
    entries.into_iter().map(|e| (e.action, e.detail)).collect()
}

db_test!(the_code_is_asked_after_the_password_and_accepted_once, |t: TestApp| async move {
    t.user(EDITOR, Role::Editor, &t.demo).await;
    let cookie = t.login(EDITOR).await;
    assert_eq!(t.server_fn_json(&cookie, "two_step_status", &[]).await["on"], false);

    // A wrong first code names the problem; nothing is turned on.
    let setup = t.server_fn_json(&cookie, "two_step_setup", &[]).await;
    let again = t.server_fn_json(&cookie, "two_step_setup", &[]).await;
    assert_eq!(setup["secret"], again["secret"], "a reloaded page shows the same key");
    let wrong = post_form(&t, "/account/two-step", &cookie, "code=000000").await;
    assert!(location(&wrong).starts_with("/account/two-step?error="), "{}", location(&wrong));
    assert_eq!(t.server_fn_json(&cookie, "two_step_status", &[]).await["on"], false);

    let (secret, codes) = enrol(&t, &cookie).await;
    assert_eq!(codes.len(), 10);
    let status = t.server_fn_json(&cookie, "two_step_status", &[]).await;
    assert_eq!((status["on"].as_bool(), status["codes_left"].as_i64()), (Some(true), Some(10)));
    assert_eq!(t.server_fn(&cookie, "two_step_setup", &[]).await.status(), StatusCode::CONFLICT);

    // The password alone no longer signs in: the session waits for the code.
    let (to, pending) = password(&t, EDITOR, None).await;
    assert_eq!(to, "/login/code");
    assert!(!signed_in(&t, &pending).await, "nothing is reachable before the code");
    let page = t.get("/p/demo/invalidation", Some(&pending)).await;
    assert!(location(&page).starts_with("/login"), "pages send it to the sign-in page");
    assert_eq!(t.server_fn_json(&pending, "pending_sign_in", &[]).await["email"], EDITOR);

    let bad = post_form(&t, "/login/code", &pending, "code=123456").await;
    assert_eq!(location(&bad), "/login/code?error=invalid");
    let fresh = code(&secret, 30);
    let ok = post_form(&t, "/login/code", &pending, &format!("code={fresh}")).await;
    assert_eq!(location(&ok), "/p/demo/invalidation", "on to where the sign-in was going");
    let signed = next_cookie(&ok, &pending);
    assert_ne!(signed, pending, "a fresh session id once signed in");
    assert!(signed_in(&t, &signed).await);

    // The same code is not accepted twice.
    let (_, pending) = password(&t, EDITOR, None).await;
    let replay = post_form(&t, "/login/code", &pending, &format!("code={fresh}")).await;
    assert_eq!(location(&replay), "/login/code?error=invalid", "a code is accepted once");

    // A recovery code signs in once, typed loosely.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let ok = post_form(&t, "/login/code", &pending, &format!("code={}", enc(&typed))).await;
    assert_eq!(location(&ok), "/p/demo/invalidation");
    let signed = next_cookie(&ok, &pending);
    assert_eq!(t.server_fn_json(&signed, "two_step_status", &[]).await["codes_left"], 9);
    let (_, pending) = password(&t, EDITOR, None).await;
    let used = post_form(&t, "/login/code", &pending, &format!("code={}", enc(&codes[0]))).await;
    assert_eq!(location(&used), "/login/code?error=invalid", "a recovery code works once");

    // Five wrong codes in all, and the password is asked again.
    for _ in 0..3 {
        assert_eq!(location(&post_form(&t, "/login/code", &pending, "code=111111").await), "/login/code?error=invalid");
    }
    assert_eq!(location(&post_form(&t, "/login/code", &pending, "code=111111").await), "/login?error=too_many_codes");
    let after = post_form(&t, "/login/code", &pending, &format!("code={}", enc(&codes[1]))).await;
    assert_eq!(location(&after), "/login?error=expired_step", "the pending sign-in is gone");

    let log = actions(&t).await;
    let has = |a: &str, d: &str| log.iter().any(|(x, y)| x == a && y.contains(d));
    assert!(has("second_factor.enrolled", ""));
    assert!(has("sign_in", "with an authenticator code"));
    assert!(has("sign_in", "with a recovery code"));
    assert!(has("second_factor.recovery_used", "9 left"));
    assert!(has("sign_in.failed", "second step: wrong or used one-time code"));
});

db_test!(a_remembered_browser_skips_the_code_for_the_policy_period, |t: TestApp| async move {
    t.user(EDITOR, Role::Editor, &t.demo).await;
    let cookie = t.login(EDITOR).await;
    let (secret, _) = enrol(&t, &cookie).await;

    let (_, pending) = password(&t, EDITOR, None).await;
    assert_eq!(t.server_fn_json(&pending, "pending_sign_in", &[]).await["remember_days"], 30);
    let ok = post_form(&t, "/login/code", &pending, &format!("code={}&remember=on", code(&secret, 30))).await;
    let device = ok
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("imgflush_device="))
        .expect("the remembered-browser cookie")
        .to_owned();
    assert!(device.contains("HttpOnly") && device.contains("Max-Age=2592000"), "{device}");
    let device = device.split(';').next().unwrap().to_owned();

    let (to, signed) = password(&t, EDITOR, Some(&device)).await;
    assert_eq!(to, "/p/demo/invalidation", "no code asked in a remembered browser");
    assert!(signed_in(&t, &signed).await);
    // Another account in the same browser still needs its own code.
    t.user("other@example.com", Role::Editor, &t.demo).await;
    let other = t.login("other@example.com").await;
    let (other_secret, _) = enrol(&t, &other).await;
    let (to, _) = password(&t, "other@example.com", Some(&device)).await;
    assert_eq!(to, "/login/code");
    assert!(!other_secret.is_empty());
    // A forged token is no remembered browser.
    let (to, _) = password(&t, EDITOR, Some("imgflush_device=forged0000")).await;
    assert_eq!(to, "/login/code");

    // The owners turn remembering off: every browser is asked again.
    let owner = owner(&t).await;
    let off =
        t.server_fn(&owner, "set_sign_in_policy", &[("second_factor_for", "nobody"), ("remember_days", "0")]).await;
    assert_eq!(off.status(), StatusCode::OK);
    let (to, pending) = password(&t, EDITOR, Some(&device)).await;
    assert_eq!(to, "/login/code");
    assert_eq!(t.server_fn_json(&pending, "pending_sign_in", &[]).await["remember_days"], 0);
    assert!(actions(&t).await.iter().any(|(a, d)| a == "sign_in" && d.contains("remembered browser")));
});

/// A signed-in owner of the instance (with two-step sign-in, so any policy can be set).
async fn owner(t: &TestApp) -> String {
    let id = t.user("owner@example.com", Role::Admin, &t.demo).await;
    t.store.set_instance_role(id, Some(InstanceRole::Owner)).await.unwrap();
    let cookie = t.login("owner@example.com").await;
    if t.server_fn_json(&cookie, "two_step_status", &[]).await["on"] == false {
        enrol(t, &cookie).await;
    }
    cookie
}

db_test!(the_policy_holds_a_sign_in_until_its_second_factor_is_set_up, |t: TestApp| async move {
    t.user(EDITOR, Role::Editor, &t.demo).await;
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let admin_before = t.login("admin@example.com").await;

    // An owner without a second factor cannot require one of owners.
    let id = t.user("owner@example.com", Role::Admin, &t.demo).await;
    t.store.set_instance_role(id, Some(InstanceRole::Owner)).await.unwrap();
    let bare = t.login("owner@example.com").await;
    let refused =
        t.server_fn(&bare, "set_sign_in_policy", &[("second_factor_for", "admins"), ("remember_days", "7")]).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(refused).await.contains("second_factor_for"));
    let bad =
        t.server_fn(&bare, "set_sign_in_policy", &[("second_factor_for", "some"), ("remember_days", "400")]).await;
    let bad = body_text(bad).await;
    assert!(bad.contains("second_factor_for") && bad.contains("remember_days"), "{bad}");

    let owner = owner(&t).await;
    let set =
        t.server_fn(&owner, "set_sign_in_policy", &[("second_factor_for", "admins"), ("remember_days", "7")]).await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(body_json(set).await, 1, "the admin without a second factor is signed out");
    assert!(!signed_in(&t, &admin_before).await);
    assert!(signed_in(&t, &owner).await, "the owner has one");
    let policy = t.server_fn_json(&owner, "get_sign_in_policy", &[]).await;
    assert_eq!((policy["second_factor_for"].as_str(), policy["remember_days"].as_i64()), (Some("admins"), Some(7)));

    // Only owners set it; staff read it; members neither.
    let editor = t.login(EDITOR).await;
    assert_eq!(t.server_fn(&editor, "get_sign_in_policy", &[]).await.status(), StatusCode::FORBIDDEN);
    let set =
        t.server_fn(&editor, "set_sign_in_policy", &[("second_factor_for", "nobody"), ("remember_days", "7")]).await;
    assert_eq!(set.status(), StatusCode::FORBIDDEN);

    // The editor is not covered; the admin must set it up before anything else.
    let (to, pending) = password(&t, "admin@example.com", None).await;
    assert_eq!(to, "/account/two-step");
    assert!(!signed_in(&t, &pending).await, "nothing else until it is set up");
    assert_eq!(t.server_fn(&pending, "pending_sign_in", &[]).await.status(), StatusCode::NOT_FOUND);
    let code_instead = post_form(&t, "/login/code", &pending, "code=123456").await;
    assert_eq!(location(&code_instead), "/account/two-step");
    let setup = t.server_fn_json(&pending, "two_step_setup", &[]).await;
    assert_eq!(setup["required"], true);
    let secret = setup["secret"].as_str().unwrap().replace(' ', "");
    let done = post_form(&t, "/account/two-step", &pending, &format!("code={}", code(&secret, 0))).await;
    assert_eq!(location(&done), "/account#two-step");
    let signed = next_cookie(&done, &pending);
    assert!(signed_in(&t, &signed).await, "set up: signed in");
    assert_eq!(
        t.server_fn_json(&signed, "take_flash", &[("key", "recovery_codes")]).await.as_str().unwrap().lines().count(),
        10
    );
    // Required: it cannot be turned off.
    let off = t.server_fn(&signed, "turn_off_two_step", &[("code", &code(&secret, 30))]).await;
    assert_eq!(off.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(off).await.contains("require"));

    let log = actions(&t).await;
    assert!(log.iter().any(|(a, d)| a == "sign_in_policy.changed" && d.contains("second factor for admins")));
    assert!(log.iter().any(|(a, d)| a == "sign_in" && d == "two-step sign-in set up"));
});

db_test!(an_owner_resets_a_lost_second_factor_and_codes_are_throttled, |t: TestApp| async move {
    t.user(EDITOR, Role::Editor, &t.demo).await;
    let cookie = t.login(EDITOR).await;
    let (secret, _) = enrol(&t, &cookie).await;

    // A member cannot reset anyone's; the owner can, once.
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let admin = t.login("admin@example.com").await;
    let editor_id = t.store.user_by_email(EDITOR).await.unwrap().id.to_string();
    assert_eq!(t.server_fn(&admin, "reset_two_step", &[("user_id", &editor_id)]).await.status(), StatusCode::FORBIDDEN);
    let owner = owner(&t).await;
    let users = t.server_fn_json(&owner, "list_users", &[]).await;
    let row = users["users"].as_array().unwrap().iter().find(|u| u["email"] == EDITOR).unwrap().clone();
    assert_eq!(row["two_step"], true);
    let reset = t.server_fn(&owner, "reset_two_step", &[("user_id", &editor_id)]).await;
    assert_eq!(reset.status(), StatusCode::OK);
    assert!(!signed_in(&t, &cookie).await, "the user's sessions ended");
    assert_eq!(t.server_fn(&owner, "reset_two_step", &[("user_id", &editor_id)]).await.status(), StatusCode::CONFLICT);
    let (to, _) = password(&t, EDITOR, None).await;
    assert_eq!(to, "/p/demo/invalidation", "the password alone again");
    assert!(actions(&t).await.iter().any(|(a, d)| a == "second_factor.reset" && d.starts_with(EDITOR)));
    assert!(!secret.is_empty());

    // Codes count against the sign-in limit per account and source (5 per
    // window by default): new pending sign-ins do not reset it.
    let cookie = t.login(EDITOR).await;
    let (secret, _) = enrol(&t, &cookie).await;
    let mut answers = Vec::new();
    for _ in 0..3 {
        let (_, pending) = password(&t, EDITOR, None).await;
        for _ in 0..2 {
            answers.push(location(&post_form(&t, "/login/code", &pending, "code=222222").await));
        }
    }
    assert_eq!(answers.iter().filter(|a| a.ends_with("error=invalid")).count(), 5, "{answers:?}");
    assert_eq!(answers.last().unwrap(), "/login/code?error=throttled", "{answers:?}");
    let (_, pending) = password(&t, EDITOR, None).await;
    let right = post_form(&t, "/login/code", &pending, &format!("code={}", code(&secret, 30))).await;
    assert_eq!(location(&right), "/login/code?error=throttled", "even the right code waits");
    assert!(actions(&t).await.iter().any(|(a, d)| a == "sign_in.failed" && d.contains("second step: too many")));
});

db_test!(a_user_turns_it_off_with_a_current_code, |t: TestApp| async move {
    t.user(EDITOR, Role::Editor, &t.demo).await;
    let cookie = t.login(EDITOR).await;
    let (secret, codes) = enrol(&t, &cookie).await;
    let wrong = t.server_fn(&cookie, "turn_off_two_step", &[("code", "000000")]).await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(wrong).await.contains("\"code\""));
    let renewed = t.server_fn_json(&cookie, "new_recovery_codes", &[("code", &codes[3])]).await;
    assert_eq!(renewed.as_array().unwrap().len(), 10);
    assert_eq!(t.server_fn_json(&cookie, "two_step_status", &[]).await["codes_left"], 10);
    let off = t.server_fn(&cookie, "turn_off_two_step", &[("code", &code(&secret, 30))]).await;
    assert_eq!(off.status(), StatusCode::OK);
    assert_eq!(t.server_fn_json(&cookie, "two_step_status", &[]).await["on"], false);
    let (to, _) = password(&t, EDITOR, None).await;
    assert_eq!(to, "/p/demo/invalidation");
    assert!(actions(&t).await.iter().any(|(a, _)| a == "second_factor.removed"));
    // The account page shows the section.
    let page = body_text(t.get("/account", Some(&cookie)).await).await;
    assert!(page.contains("Two-step sign-in") && page.contains("Set up two-step sign-in"), "the account page");
});

db_test_cfg!(
    the_remembered_browser_cookie_is_secure_when_cookies_must_be,
    |c: &mut server::Config| c.security.secure_cookies = "always".into(),
    |t: TestApp| async move {
        t.user(EDITOR, Role::Editor, &t.demo).await;
        let cookie = t.login(EDITOR).await;
        let (secret, _) = enrol(&t, &cookie).await;
        let (_, pending) = password(&t, EDITOR, None).await;
        let ok = post_form(&t, "/login/code", &pending, &format!("code={}&remember=on", code(&secret, 30))).await;
        let set: Vec<&str> = ok.headers().get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).collect();
        let device = set.iter().find(|c| c.starts_with("imgflush_device=")).expect("the cookie");
        assert!(device.ends_with("; Secure"), "{device}");
    }
);
