//! Single sign-on through a real OpenID Connect provider (the certified
//! oidc-provider, `emulators/oidc_provider.mjs`): owners add providers,
//! users sign in with the authorization code flow (a new account, a linked
//! one, projects by groups), and each refusal (state, a replayed code, an
//! expired token, another audience, a domain not allowed, an unverified
//! e-mail, single sign-on required) leaves no session behind.

mod common;

use axum::body::Body;
use axum::http::{Response, StatusCode};
use common::emulators::Emulator;
use common::idp::{round_trip, sign_in_as, sign_in_with_cookie, signed_in_as};
use common::*;
use imgflush::backend::store::AuditQuery;
use imgflush::domain::{InstanceRole, Role};
use server::Config;

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
const SECRET: &str = "imgflush-secret";

fn keyed(c: &mut Config) {
    c.secrets.key = Some(server::config::Secret::new(KEY));
}

fn provider() -> Emulator {
    Emulator::start_node("oidc_provider.mjs", &[])
}

/// An owner's cookie.
async fn owner(t: &TestApp) -> String {
    let id = t.user("owner@example.com", Role::Admin, &t.demo).await;
    t.store.set_instance_role(id, Some(InstanceRole::Owner)).await.unwrap();
    t.login("owner@example.com").await
}

/// Adds a provider for `client_id` through the owners' server function.
async fn add(t: &TestApp, owner: &str, idp: &Emulator, client_id: &str, map: &str) -> i64 {
    let issuer = idp.url("");
    let form = [
        ("name", "Staff SSO"),
        ("issuer", issuer.as_str()),
        ("client_id", client_id),
        ("client_secret", SECRET),
        ("domains", "example.com"),
        ("groups_claim", "groups"),
        ("group_map", map),
    ];
    let resp = t.server_fn(owner, "add_sso_provider", &form).await;
    assert_eq!(resp.status(), StatusCode::OK);
    body_json(resp).await.as_i64().expect("the new provider's id")
}

/// A refusal: back to the sign-in page with the reason, no session (under
/// the cookie the response sets, nor the one the browser came with), no
/// sign-in listed for anyone.
async fn assert_refused_with(t: &TestApp, cookie: &str, resp: Response<Body>, reason: &str) {
    assert_eq!(t.server_fn(cookie, "me", &[]).await.status(), StatusCode::UNAUTHORIZED, "the browser's own session");
    assert_refused(t, resp, reason).await;
}

async fn assert_refused(t: &TestApp, resp: Response<Body>, reason: &str) {
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = location(&resp);
    assert!(to.starts_with(&format!("/login?error=sso_{reason}")), "{to}");
    assert_eq!(signed_in_as(t, &resp).await, None, "no session after a refusal");
    assert!(!refusals(&actions(t).await).is_empty(), "the refusal is audited");
    let page = body_text(t.get(&to, None).await).await;
    assert!(page.contains("role=\"alert\""), "the sign-in page says why: {page}");
}

async fn actions(t: &TestApp) -> Vec<(String, String, String)> {
    let entries = t.store.list_audit(&AuditQuery { limit: 100, ..Default::default() }).await.unwrap();
    entries.into_iter().map(|e| (e.action, e.actor, e.detail)).collect()
}

fn refusals(all: &[(String, String, String)]) -> Vec<String> {
    all.iter().filter(|(a, _, _)| a == "sso.sign_in.refused").map(|(_, _, d)| d.clone()).collect()
}

db_test_cfg!(new_linked_and_mapped_accounts_sign_in, keyed, |t: TestApp| async move {
    let idp = provider();
    let owner = owner(&t).await;
    let id = add(&t, &owner, &idp, "imgflush", "imgflush-editors = demo:editor").await;

    let login = body_text(t.get("/login", None).await).await;
    assert!(login.contains("Sign in with Staff SSO") && login.contains(&format!("/login/sso/{id}")), "{login}");
    let settings = t.server_fn_json(&owner, "sso_settings", &[]).await;
    assert_eq!(settings["providers"][0]["client_id"], "imgflush");
    assert!(!settings.to_string().contains(SECRET), "the secret is never sent back");

    // A new user of an allowed domain: an account with no project.
    let resp = sign_in_as(&t, id, "bob@example.com").await;
    assert_eq!(location(&resp), "/projects");
    assert_eq!(signed_in_as(&t, &resp).await.as_deref(), Some("bob@example.com"));
    let bob = t.store.user_by_email("bob@example.com").await.unwrap();
    assert!(t.store.memberships_of(bob.id).await.unwrap().is_empty());
    let sessions = t.server_fn_json(&session_cookie(&resp).unwrap(), "my_sessions", &[]).await;
    assert_eq!(sessions.as_array().unwrap().len(), 1, "listed among the account's sessions");
    assert!(session_cookie(&t.login_response("bob@example.com", "").await).is_none(), "no usable password");

    // A new user in a mapped group joins the project.
    let resp = sign_in_as(&t, id, "alice@example.com").await;
    assert_eq!(signed_in_as(&t, &resp).await.as_deref(), Some("alice@example.com"));
    let alice = t.store.user_by_email("alice@example.com").await.unwrap();
    let joined = t.store.memberships_of(alice.id).await.unwrap();
    assert_eq!((joined[0].project.token.as_str(), joined[0].role), ("demo", Role::Editor));

    // An existing account links by its verified e-mail, password kept.
    let carol = t.user("carol@example.com", Role::Support, &t.demo).await;
    let resp = sign_in_as(&t, id, "carol@example.com").await;
    assert_eq!(signed_in_as(&t, &resp).await.as_deref(), Some("carol@example.com"));
    assert_eq!(t.store.user_by_email("carol@example.com").await.unwrap().id, carol);
    t.login("carol@example.com").await;

    let all = actions(&t).await;
    let did = |action: &str, who: &str| all.iter().any(|(a, w, _)| a == action && w == who);
    assert!(did("sso.account_created", "bob@example.com") && did("sso.account_created", "alice@example.com"));
    assert!(!did("sso.account_created", "carol@example.com") && did("sso.sign_in", "carol@example.com"));
    assert!(did("sso.joined", "alice@example.com") && did("sso.provider_added", "owner@example.com"));
});

db_test_cfg!(owners_alone_manage_providers_and_bad_input_names_its_field, keyed, |t: TestApp| async move {
    let idp = provider();
    let owner = owner(&t).await;
    t.user("editor@example.com", Role::Admin, &t.demo).await;
    let editor = t.login("editor@example.com").await;
    let issuer = idp.url("");
    let form = |domains: &'static str, issuer: &str| {
        vec![
            ("name", "SSO".to_owned()),
            ("issuer", issuer.to_owned()),
            ("client_id", "imgflush".to_owned()),
            ("client_secret", SECRET.to_owned()),
            ("domains", domains.to_owned()),
        ]
    };
    let call = |cookie: String, f: Vec<(&'static str, String)>| {
        let t = &t;
        async move {
            let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            t.server_fn(&cookie, "add_sso_provider", &f).await
        }
    };
    assert_eq!(call(editor.clone(), form("example.com", &issuer)).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(t.server_fn(&editor, "sso_settings", &[]).await.status(), StatusCode::FORBIDDEN);
    let bad = call(owner.clone(), form("", &issuer)).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(bad).await.contains("domains"));
    let nowhere = call(owner.clone(), form("example.com", "http://127.0.0.1:9/")).await;
    assert_eq!(nowhere.status(), StatusCode::BAD_REQUEST, "an issuer that does not answer discovery");
    assert!(body_text(nowhere).await.contains("issuer"));
    let id = add(&t, &owner, &idp, "imgflush", "").await;
    let gone = t.server_fn(&editor, "remove_sso_provider", &[("id", &id.to_string())]).await;
    assert_eq!(gone.status(), StatusCode::FORBIDDEN);
    let gone = t.server_fn(&owner, "remove_sso_provider", &[("id", &id.to_string())]).await;
    assert_eq!(gone.status(), StatusCode::OK);
    assert_eq!(t.get(&format!("/login/sso/{id}"), None).await.status(), StatusCode::NOT_FOUND);
});

db_test_cfg!(a_wrong_state_and_a_replayed_code_are_refused, keyed, |t: TestApp| async move {
    let idp = provider();
    let owner = owner(&t).await;
    let id = add(&t, &owner, &idp, "imgflush", "").await;

    let (cookie, back) = round_trip(&t, id, "bob@example.com").await;
    let forged = back.replace("state=", "state=x");
    assert_refused_with(&t, &cookie, t.get(&forged, Some(&cookie)).await, "state").await;

    // The same callback URL twice: signed in once, refused after.
    let (cookie, back) = round_trip(&t, id, "bob@example.com").await;
    let first = t.get(&back, Some(&cookie)).await;
    assert!(signed_in_as(&t, &first).await.is_some());
    assert_refused_with(&t, &cookie, t.get(&back, Some(&cookie)).await, "state").await;
    // …and the used code with a new sign-in's state: the provider refuses it.
    let (cookie, fresh) = round_trip(&t, id, "bob@example.com").await;
    let state = |url: &str| url.split(['?', '&']).find(|p| p.starts_with("state=")).unwrap().to_owned();
    let replayed = back.replace(&state(&back), &state(&fresh));
    assert_refused_with(&t, &cookie, t.get(&replayed, Some(&cookie)).await, "provider").await;

    let refused = refusals(&actions(&t).await);
    assert_eq!(refused.iter().filter(|d| d.starts_with("state:")).count(), 2, "{refused:?}");
    assert_eq!(refused.iter().filter(|d| d.starts_with("provider:")).count(), 1, "{refused:?}");
});

db_test_cfg!(expired_and_misaddressed_id_tokens_are_refused, keyed, |t: TestApp| async move {
    let idp = provider();
    let owner = owner(&t).await;
    // Tokens that live 1 s, delivered 2 s after they were minted.
    let quick = add(&t, &owner, &idp, "imgflush-quick", "").await;
    let (cookie, resp) = sign_in_with_cookie(&t, quick, "bob@example.com").await;
    assert_refused_with(&t, &cookie, resp, "token").await;
    // An alias of the client `imgflush`: its tokens are for that audience.
    let alias = add(&t, &owner, &idp, "imgflush-alias", "").await;
    let (cookie, resp) = sign_in_with_cookie(&t, alias, "bob@example.com").await;
    assert_refused_with(&t, &cookie, resp, "token").await;

    assert!(t.store.user_by_email("bob@example.com").await.is_err(), "no account made");
    let refused = refusals(&actions(&t).await);
    assert!(refused.iter().any(|d| d.contains("expired")), "{refused:?}");
    assert!(refused.iter().any(|d| d.to_lowercase().contains("audience")), "{refused:?}");
});

db_test_cfg!(other_domains_and_unverified_emails_are_refused, keyed, |t: TestApp| async move {
    let idp = provider();
    let owner = owner(&t).await;
    let id = add(&t, &owner, &idp, "imgflush", "").await;
    let (cookie, resp) = sign_in_with_cookie(&t, id, "carol@other.example").await;
    assert_refused_with(&t, &cookie, resp, "domain").await;
    let (cookie, resp) = sign_in_with_cookie(&t, id, "unverified.dave@example.com").await;
    assert_refused_with(&t, &cookie, resp, "unverified").await;
    // Not even an existing account signs in without a verified e-mail.
    t.user("unverified.erin@example.com", Role::Editor, &t.demo).await;
    let (cookie, resp) = sign_in_with_cookie(&t, id, "unverified.erin@example.com").await;
    assert_refused_with(&t, &cookie, resp, "unverified").await;
    let erin = t.store.user_by_email("unverified.erin@example.com").await.unwrap();
    assert!(t.store.list_sign_ins(erin.id, 0).await.unwrap().is_empty(), "no session listed");
    assert!(t.store.user_by_email("carol@other.example").await.is_err());
    assert!(t.store.user_by_email("unverified.dave@example.com").await.is_err());
    let refused = refusals(&actions(&t).await);
    assert!(refused.iter().any(|d| d.starts_with("domain:")) && refused.iter().any(|d| d.starts_with("unverified:")));
});

db_test_cfg!(required_sso_refuses_passwords_but_the_break_glass_owners, keyed, |t: TestApp| async move {
    let idp = provider();
    let owner = owner(&t).await;
    t.user("editor@example.com", Role::Editor, &t.demo).await;
    let editor = t.login("editor@example.com").await;
    let policy = |cookie: String, glass: &'static str| {
        let t = &t;
        async move { t.server_fn(&cookie, "set_sso_policy", &[("required", "on"), ("break_glass", glass)]).await }
    };
    let early = policy(owner.clone(), "owner@example.com").await;
    assert_eq!(early.status(), StatusCode::BAD_REQUEST, "no provider yet");
    assert!(body_text(early).await.contains("provider"));
    let id = add(&t, &owner, &idp, "imgflush", "").await;
    assert_eq!(policy(editor.clone(), "editor@example.com").await.status(), StatusCode::FORBIDDEN);
    let not_owner = policy(owner.clone(), "editor@example.com").await;
    assert_eq!(not_owner.status(), StatusCode::BAD_REQUEST);
    assert!(body_text(not_owner).await.contains("break_glass"));
    assert_eq!(policy(owner.clone(), "owner@example.com").await.status(), StatusCode::OK);

    let refused = t.login_response("editor@example.com", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    assert!(location(&refused).starts_with("/login?error=sso_required"), "{}", location(&refused));
    assert!(session_cookie(&refused).is_none(), "no session");
    let page = body_text(t.get(&location(&refused), None).await).await;
    assert!(page.contains("single sign-on"), "{page}");
    t.login("owner@example.com").await;
    // An invitation link's password does not sign in either.
    let added = t
        .server_fn_json(
            &owner,
            "add_member",
            &[("project", "demo"), ("email", "invitee@example.com"), ("role", "editor")],
        )
        .await;
    let token = added["invite_path"].as_str().unwrap().trim_start_matches("/invite/").to_owned();
    let pw = "a long enough passphrase";
    let accepted = t.server_fn("", "accept_invitation", &[("token", &token), ("password", pw), ("confirm", pw)]).await;
    assert_eq!(accepted.status(), StatusCode::CONFLICT);
    assert!(session_cookie(&accepted).is_none(), "no session from an invitation link");
    assert!(body_text(accepted).await.contains("single sign-on is required"));
    // Single sign-on still works for the editor.
    let resp = sign_in_as(&t, id, "editor@example.com").await;
    assert_eq!(signed_in_as(&t, &resp).await.as_deref(), Some("editor@example.com"));
    let all = actions(&t).await;
    assert!(all
        .iter()
        .any(|(a, w, d)| a == "sign_in.failed" && w == "editor@example.com" && d.contains("single sign-on")));
});

db_test_cfg!(client_secrets_are_sealed_and_rotate_with_the_credential_key, keyed, |t: TestApp| async move {
    use imgflush::backend::vault::{check_stored, rotate, Vault};
    let idp = provider();
    let owner = owner(&t).await;
    add(&t, &owner, &idp, "imgflush", "").await;
    let sealed = t.store.sso_sealed().await.unwrap();
    assert!(sealed.len() == 1 && !sealed[0].1 .0.contains(SECRET), "sealed at rest");
    let old = Vault::from_key_text(KEY).unwrap();
    let new = Vault::from_key_text(&Vault::new_key_text()).unwrap();
    assert!(check_stored(&t.store, &new).await.unwrap_err().contains("identity provider"));
    assert_eq!(rotate(&t.store, &old, &new).await, Ok(1));
    assert_eq!(check_stored(&t.store, &new).await, Ok(1));
    assert!(check_stored(&t.store, &old).await.is_err());
});
