//! Passkeys (WebAuthn): adding one from the account page, signing in with
//! it instead of the password, as the second step after the password, as
//! the set-up the owners' policy requires, and the refusals: a replayed or
//! forged answer, another site's answer, an unknown passkey, a device that
//! does not verify its user, another account's passkey, a console opened
//! by IP address, and the sign-in throttle. A software authenticator
//! (`common::authenticator`) answers as a device would.

mod common;

use axum::http::{header, StatusCode};
use common::authenticator::Authenticator;
use common::*;
use imgflush::backend::store::AuditQuery;
use imgflush::domain::{InstanceRole, Role};
use serde_json::Value;

const EDITOR: &str = "editor@example.com";
/// The console's address in these tests (the helpers send `Host: localhost`).
const ORIGIN: &str = "http://localhost";

fn next_cookie(resp: &axum::http::Response<axum::body::Body>, sent: &str) -> String {
    session_cookie(resp).unwrap_or_else(|| sent.to_owned())
}

async fn signed_in(t: &TestApp, cookie: &str) -> bool {
    t.server_fn(cookie, "me", &[]).await.status() == StatusCode::OK
}

/// Adds a passkey named `name` for the signed-in `cookie` with `device`.
async fn add(
    t: &TestApp,
    cookie: &str,
    device: &mut Authenticator,
    name: &str,
) -> axum::http::Response<axum::body::Body> {
    // The current password (a signed-in user's; ignored for a sign-in held for its set-up).
    let options = t.server_fn(cookie, "passkey_registration", &[("current_password", PASSWORD)]).await;
    assert_eq!(options.status(), StatusCode::OK);
    let options = body_json(options).await;
    assert_eq!(options["publicKey"]["rp"]["id"], "localhost", "{options}");
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["residentKey"], "preferred",
        "discoverable, so it signs in without the e-mail"
    );
    let credential = device.create(&options);
    t.server_fn(cookie, "add_passkey", &[("name", name), ("credential", &credential)]).await
}

/// A sign-in without the e-mail (or the second step with `second_step`):
/// the options, the device's answer, the answer posted. Answers the
/// response and the cookie to use next.
async fn sign_in(
    t: &TestApp,
    cookie: &str,
    device: &mut Authenticator,
    second_step: bool,
) -> (axum::http::Response<axum::body::Body>, String) {
    let flag = if second_step { "true" } else { "false" };
    let options = t.server_fn(cookie, "passkey_sign_in_options", &[("second_step", flag)]).await;
    assert_eq!(options.status(), StatusCode::OK);
    let cookie = next_cookie(&options, cookie);
    let options = body_json(options).await;
    let credential = device.get(&options, None);
    let resp =
        t.server_fn(&cookie, "sign_in_with_passkey", &[("credential", &credential), ("next", "/p/demo/keys")]).await;
    let cookie = next_cookie(&resp, &cookie);
    (resp, cookie)
}

async fn actions(t: &TestApp) -> Vec<(String, String)> {
    let entries = t.store.list_audit(&AuditQuery { limit: 200, ..Default::default() }).await.unwrap();
    entries.into_iter().map(|e| (e.action, e.detail)).collect()
}

async fn password(t: &TestApp, email: &str) -> (String, String) {
    let resp = t.login_response(email, PASSWORD).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    (location(&resp), session_cookie(&resp).expect("a session cookie"))
}

db_test!(a_passkey_signs_in_instead_of_the_password, |t: TestApp| async move {
    t.user(EDITOR, Role::Editor, &t.demo).await;
    let cookie = t.login(EDITOR).await;
    let mut device = Authenticator::new(ORIGIN);
    assert_eq!(t.server_fn_json(&cookie, "list_passkeys", &[]).await, serde_json::json!([]));

    // A passkey outlives the session: a signed-in user confirms the password first.
    for form in [vec![], vec![("current_password", "not it")]] {
        let refused = t.server_fn(&cookie, "passkey_registration", &form).await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert!(body_text(refused).await.contains("current_password"));
    }

    // A name is required and checked before anything is kept.
    let unnamed = add(&t, &cookie, &mut device, " ").await;
    assert_eq!(unnamed.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(unnamed).await.contains("name"));
    device.keys.clear();
    let added = add(&t, &cookie, &mut device, "Work laptop").await;
    assert_eq!(added.status(), StatusCode::OK, "{}", body_text(added).await);
    let list = t.server_fn_json(&cookie, "list_passkeys", &[]).await;
    assert_eq!(list[0]["name"], "Work laptop");
    assert!(list[0]["last_used"].is_null());
    // The same passkey again is refused (the browser's exclude list says so too).
    let options = t.server_fn_json(&cookie, "passkey_registration", &[("current_password", PASSWORD)]).await;
    assert_eq!(options["publicKey"]["excludeCredentials"].as_array().map(Vec::len), Some(1));

    // A fresh browser signs in with it, no e-mail typed, and goes on to `next`.
    let (resp, signed) = sign_in(&t, "", &mut device, false).await;
    assert_eq!(resp.status(), StatusCode::OK, "{:?}", resp.headers());
    assert_eq!(body_json(resp).await, "/p/demo/keys");
    assert!(signed_in(&t, &signed).await);
    let me = t.server_fn_json(&signed, "me", &[]).await;
    assert_eq!(me["email"], EDITOR, "{me}");
    let list = t.server_fn_json(&signed, "list_passkeys", &[]).await;
    assert!(!list[0]["last_used"].is_null(), "its use is recorded");
    // Two-step sign-in now asks for the passkey after the password.
    let status = t.server_fn_json(&signed, "two_step_status", &[]).await;
    assert_eq!((status["on"].as_bool(), status["passkeys"].as_u64()), (Some(false), Some(1)));

    // A copy of the device (its counter behind the stored one) is refused.
    let counter = device.keys[0].counter;
    device.keys[0].counter = 0;
    let (resp, cloned) = sign_in(&t, "", &mut device, false).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "a counter that went back");
    assert!(!signed_in(&t, &cloned).await);
    device.keys[0].counter = counter;

    let log = actions(&t).await;
    assert!(log.iter().any(|(a, d)| a == "passkey.added" && d == "Work laptop"), "{log:?}");
    assert!(log.iter().any(|(a, d)| a == "sign_in" && d == "with a passkey"), "{log:?}");

    // Removing it: the account's own, once.
    let id = list[0]["id"].as_i64().unwrap().to_string();
    t.user("other@example.com", Role::Editor, &t.demo).await;
    let other = t.login("other@example.com").await;
    assert_eq!(t.server_fn(&other, "remove_passkey", &[("id", &id)]).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(t.server_fn(&signed, "remove_passkey", &[("id", &id)]).await.status(), StatusCode::OK);
    assert_eq!(t.server_fn_json(&signed, "list_passkeys", &[]).await, serde_json::json!([]));
    let (resp, gone) = sign_in(&t, "", &mut device, false).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "a removed passkey signs nobody in");
    assert!(!signed_in(&t, &gone).await);
    assert!(actions(&t).await.iter().any(|(a, d)| a == "passkey.removed" && d == "Work laptop"));
});

db_test!(forged_replayed_and_foreign_answers_are_refused, |t: TestApp| async move {
    t.user(EDITOR, Role::Editor, &t.demo).await;
    let cookie = t.login(EDITOR).await;
    let mut device = Authenticator::new(ORIGIN);
    assert_eq!(add(&t, &cookie, &mut device, "Phone").await.status(), StatusCode::OK);

    // A replayed answer: the challenge was used once.
    let options = t.server_fn("", "passkey_sign_in_options", &[("second_step", "false")]).await;
    let browser = session_cookie(&options).expect("a session for the challenge");
    let credential = device.get(&body_json(options).await, None);
    let first = t.server_fn(&browser, "sign_in_with_passkey", &[("credential", &credential)]).await;
    assert_eq!(first.status(), StatusCode::OK);
    let replay = t.server_fn(&browser, "sign_in_with_passkey", &[("credential", &credential)]).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(replay).await.contains("expired"));
    // The same answer against a new challenge: its signature covers the old one.
    let options = t.server_fn("", "passkey_sign_in_options", &[("second_step", "false")]).await;
    let browser = session_cookie(&options).unwrap();
    let resp = t.server_fn(&browser, "sign_in_with_passkey", &[("credential", &credential)]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(!signed_in(&t, &next_cookie(&resp, &browser)).await);

    // A page on another site (a phishing copy) gets an answer for its origin.
    let real = std::mem::replace(&mut device.origin, "http://localhost.evil.example".into());
    let (resp, c) = sign_in(&t, "", &mut device, false).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(!signed_in(&t, &c).await);
    device.origin = real;

    // A device answering with another user handle than it was given.
    let handle = std::mem::replace(&mut device.keys[0].user_handle, vec![7; 16]);
    let (resp, c) = sign_in(&t, "", &mut device, false).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(!signed_in(&t, &c).await);
    device.keys[0].user_handle = handle;

    // A device that does not verify its user is not a second factor.
    device.verifies_user = false;
    let (resp, c) = sign_in(&t, "", &mut device, false).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(!signed_in(&t, &c).await);
    device.verifies_user = true;

    // A passkey the console does not know, and garbage.
    let mut stranger = Authenticator::new(ORIGIN);
    let options = t.server_fn_json(&cookie, "passkey_registration", &[("current_password", PASSWORD)]).await;
    stranger.create(&options);
    let (resp, c) = sign_in(&t, "", &mut stranger, false).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(!signed_in(&t, &c).await);
    let options = t.server_fn("", "passkey_sign_in_options", &[("second_step", "false")]).await;
    let browser = session_cookie(&options).unwrap();
    let garbage = t.server_fn(&browser, "sign_in_with_passkey", &[("credential", "{\"id\": 1}")]).await;
    assert_eq!(garbage.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(garbage).await.contains("credential"), "the field is named");

    // Still fine with the real device.
    let (resp, c) = sign_in(&t, "", &mut device, false).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(signed_in(&t, &c).await);
    let log = actions(&t).await;
    assert!(log.iter().any(|(a, d)| a == "sign_in.failed" && d.contains("passkey: an unknown passkey")), "{log:?}");
    assert!(log.iter().any(|(a, d)| a == "sign_in.failed" && d.contains("user verified bit")), "{log:?}");
    assert!(log.iter().any(|(a, d)| a == "sign_in.failed" && d.contains("names another account")), "{log:?}");

    // Required single sign-on refuses a passkey as it refuses a password.
    let policy = imgflush::backend::store::SsoPolicy { required: true, break_glass_user_id: None };
    t.store.set_sso_policy(&policy, 0).await.unwrap();
    let (resp, c) = sign_in(&t, "", &mut device, false).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert!(body_text(resp).await.contains("single sign-on"));
    assert!(!signed_in(&t, &c).await);
});

db_test!(a_passkey_is_the_second_step_after_the_password, |t: TestApp| async move {
    t.user(EDITOR, Role::Editor, &t.demo).await;
    t.user("other@example.com", Role::Editor, &t.demo).await;
    let cookie = t.login(EDITOR).await;
    let mut device = Authenticator::new(ORIGIN);
    assert_eq!(add(&t, &cookie, &mut device, "Key").await.status(), StatusCode::OK);
    // Another account's passkey on the same device.
    let other = t.login("other@example.com").await;
    let mut others = Authenticator::new(ORIGIN);
    assert_eq!(add(&t, &other, &mut others, "Theirs").await.status(), StatusCode::OK);

    let (to, pending) = password(&t, EDITOR).await;
    assert_eq!(to, "/login/code", "a passkey is a second factor: it is asked after the password");
    assert!(!signed_in(&t, &pending).await);
    // A password alone (the second step pending) adds no passkey.
    let early = t.server_fn(&pending, "passkey_registration", &[("current_password", PASSWORD)]).await;
    assert_eq!(early.status(), StatusCode::UNAUTHORIZED);
    let view = t.server_fn_json(&pending, "pending_sign_in", &[]).await;
    assert_eq!((view["code"].as_bool(), view["passkey"].as_bool()), (Some(false), Some(true)), "{view}");

    // The options name this account's passkeys only.
    let options = t.server_fn_json(&pending, "passkey_sign_in_options", &[("second_step", "true")]).await;
    assert_eq!(options["publicKey"]["allowCredentials"].as_array().map(Vec::len), Some(1));
    // Another account's passkey does not complete this sign-in.
    let foreign = others.get(&options, Some(0));
    let resp = t.server_fn(&pending, "sign_in_with_passkey", &[("credential", &foreign)]).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(!signed_in(&t, &next_cookie(&resp, &pending)).await);

    // This account's passkey does, and goes where the sign-in was going.
    let (resp, signed) = sign_in(&t, &pending, &mut device, true).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(body_json(resp).await, "/", "the password's next, not the request's");
    assert!(signed_in(&t, &signed).await);
    assert_eq!(t.server_fn_json(&signed, "me", &[]).await["email"], EDITOR);

    // Without a pending sign-in there is no second step to ask for.
    let none = t.server_fn("", "passkey_sign_in_options", &[("second_step", "true")]).await;
    assert_eq!(none.status(), StatusCode::NOT_FOUND);

    // Wrong answers count against the sign-in throttle (5 per account and source).
    let mut answers = Vec::new();
    for _ in 0..3 {
        let (_, pending) = password(&t, EDITOR).await;
        for _ in 0..2 {
            let options = t.server_fn_json(&pending, "passkey_sign_in_options", &[("second_step", "true")]).await;
            let mut bad = device.get(&options, Some(0));
            bad = bad.replace("\"signature\":\"", "\"signature\":\"AAAA");
            let resp = t.server_fn(&pending, "sign_in_with_passkey", &[("credential", &bad)]).await;
            answers.push(body_text(resp).await);
        }
    }
    assert!(answers.iter().take(5).all(|a| a.contains("not accepted")), "{answers:?}");
    assert!(answers.last().unwrap().contains("too many attempts"), "{answers:?}");
});

db_test!(the_policy_accepts_a_passkey_as_the_second_factor, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let id = t.user("owner@example.com", Role::Admin, &t.demo).await;
    t.store.set_instance_role(id, Some(InstanceRole::Owner)).await.unwrap();
    let owner = t.login("owner@example.com").await;
    let mut owners_key = Authenticator::new(ORIGIN);
    assert_eq!(add(&t, &owner, &mut owners_key, "Owner's key").await.status(), StatusCode::OK);
    // The owner's passkey is their second factor: they may require one of everyone.
    let set =
        t.server_fn(&owner, "set_sign_in_policy", &[("second_factor_for", "everyone"), ("remember_days", "0")]).await;
    assert_eq!(set.status(), StatusCode::OK, "{}", body_text(set).await);

    // The admin must set one up before the sign-in completes: a passkey does it.
    let (to, pending) = password(&t, "admin@example.com").await;
    assert_eq!(to, "/account/two-step");
    assert!(!signed_in(&t, &pending).await);
    let mut device = Authenticator::new(ORIGIN);
    let done = add(&t, &pending, &mut device, "Admin's phone").await;
    assert_eq!(done.status(), StatusCode::OK);
    let signed = next_cookie(&done, &pending);
    assert_eq!(body_json(done).await["next"], "/");
    assert!(signed_in(&t, &signed).await, "set up: signed in");
    assert!(actions(&t).await.iter().any(|(a, d)| a == "sign_in" && d == "two-step sign-in set up"));

    // Their only second factor cannot be removed while it is required.
    let list = t.server_fn_json(&signed, "list_passkeys", &[]).await;
    let key_id = list[0]["id"].as_i64().unwrap().to_string();
    let refused = t.server_fn(&signed, "remove_passkey", &[("id", &key_id)]).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(refused).await.contains("require"));

    // An owner's reset removes passkeys too, and ends the user's sessions.
    let admin_id = t.store.user_by_email("admin@example.com").await.unwrap().id.to_string();
    let users = t.server_fn_json(&owner, "list_users", &[]).await;
    let row = users["users"].as_array().unwrap().iter().find(|u| u["email"] == "admin@example.com").unwrap().clone();
    assert_eq!(row["two_step"], true, "a passkey counts as two-step sign-in");
    assert_eq!(t.server_fn(&owner, "reset_two_step", &[("user_id", &admin_id)]).await.status(), StatusCode::OK);
    assert!(!signed_in(&t, &signed).await);
    let (resp, c) = sign_in(&t, "", &mut device, false).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "the reset passkey no longer signs in");
    assert!(!signed_in(&t, &c).await);
    let (to, _) = password(&t, "admin@example.com").await;
    assert_eq!(to, "/account/two-step", "set it up again");
});

db_test!(passkeys_are_bound_to_the_consoles_own_address, |t: TestApp| async move {
    t.user(EDITOR, Role::Editor, &t.demo).await;
    let cookie = t.login(EDITOR).await;
    // Without server.public_url only localhost is taken from the request: any
    // other host could be a relaying site's, and so could an IP address.
    for host in ["127.0.0.1:3000", "console.example.com", "localhost.evil.example"] {
        let resp = t
            .send(
                axum::http::Request::post("/sfn/passkey_registration")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::ACCEPT, "application/json")
                    .header(header::HOST, host)
                    .header(header::ORIGIN, format!("http://{host}"))
                    .header("sec-fetch-site", "same-origin")
                    .header(header::COOKIE, &cookie)
                    .body(axum::body::Body::from(format!("current_password={}", enc(PASSWORD))))
                    .unwrap(),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{host}");
        let body: Value = body_json(resp).await;
        assert!(body.to_string().contains("server.public_url"), "{host}: {body}");
    }
});
