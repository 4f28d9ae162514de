//! Every console call that changes state counts against the per-user write
//! limit (`security.console_writes_per_minute`): a walk over the server
//! functions' source fails when a new one is neither limited nor listed as a
//! read, and the instance's writes (projects, users, settings) are refused
//! past the limit on both databases.

mod common;

use common::*;
use imgflush::domain::{InstanceRole, Role};
use serde_json::Value;

/// Server functions that change nothing (or only the caller's own session).
const READS: &[&str] = &[
    "invitation",
    "project_audit",
    "instance_audit",
    "list_hooks",
    "list_invalidations",
    "invalidation_detail",
    "invalidation_form",
    "locate_invalidation",
    "lookup_id_prefix",
    // "Is this URL fresh?": reads, and Check now asks the caches from their index only.
    "lookup_url",
    "list_keys",
    "list_members",
    "projects_overview",
    "me",
    "take_flash",
    "console_base_url",
    "project_settings",
    "list_users",
    "my_sessions",
    "pending_sign_in",
    "two_step_status",
    "get_sign_in_policy",
    // Passkeys: the account's list, and a sign-in's options (kept in the caller's session).
    "list_passkeys",
    "passkey_sign_in_options",
    // Single sign-on: the sign-in page's buttons (public) and the owners' settings.
    "sso_choices",
    "sso_settings",
];

/// Writes that run under the sign-in limiter instead (no user yet, or the
/// current password is checked first). The authenticator set-up keeps its
/// new key for a sign-in whose password was checked, or counts against the
/// signed-in user's write limit itself.
const SIGN_IN_LIMITED: &[&str] = &[
    "accept_invitation",
    "accept_join",
    "change_password",
    "two_step_setup",
    // Like the authenticator's set-up; the sign-in itself goes through the sign-in throttle.
    "passkey_registration",
    "add_passkey",
    "sign_in_with_passkey",
];

/// (endpoint, body) of every `#[server]` function in app/src/serverfns.
fn server_functions() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/src/serverfns");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("app/src/serverfns") {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for piece in source.split("#[server(").skip(1) {
            let endpoint = piece
                .split("endpoint = \"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("a #[server] without an endpoint name: {piece:.80}"));
            found.push((endpoint.to_owned(), piece.to_owned()));
        }
    }
    assert!(found.len() > 30, "found only {} server functions: is the walk broken?", found.len());
    found
}

#[test]
fn every_state_changing_server_function_is_limited() {
    let functions = server_functions();
    let mut unlimited = Vec::new();
    for (endpoint, body) in &functions {
        let limited = body.contains("super::writer(") || body.contains("super::user_writer(");
        let listed = READS.contains(&endpoint.as_str()) || SIGN_IN_LIMITED.contains(&endpoint.as_str());
        if !limited && !listed {
            unlimited.push(endpoint.clone());
        }
        assert!(
            !(limited && READS.contains(&endpoint.as_str())),
            "{endpoint} is limited but listed as a read: take it off READS"
        );
    }
    assert!(
        unlimited.is_empty(),
        "these server functions neither go through writer()/user_writer() nor are listed as reads: {unlimited:?}"
    );
    for listed in READS.iter().chain(SIGN_IN_LIMITED) {
        assert!(functions.iter().any(|(e, _)| e == listed), "{listed} is listed but no longer exists");
    }
}

fn limited(v: &Value) -> bool {
    v["Conflict"].as_str().is_some_and(|m| m.contains("too many changes"))
}

db_test_cfg!(
    the_instance_pages_and_settings_count_against_the_write_limit,
    |c: &mut server::Config| c.security.console_writes_per_minute = 2,
    |t: TestApp| async move {
        let staff = t.user("staff@example.com", Role::Support, &t.demo).await.to_string();

        let settings = [
            ("project", "demo"),
            ("name", "Demo"),
            ("origin_hosts", "sample.li"),
            ("max_age_secs", "60"),
            ("s_maxage_secs", "60"),
            ("origin_scheme", "https"),
            ("custom_host", ""),
            ("sign_length", ""),
        ];
        let create = |n: usize| {
            [
                ("token", format!("shop{n}")),
                ("name", format!("Shop {n}")),
                ("origin_hosts", "img.shop.example".to_owned()),
                ("max_age_secs", "60".to_owned()),
                ("s_maxage_secs", "60".to_owned()),
            ]
        };
        let calls: Vec<(&str, Vec<(&str, String)>)> = vec![
            ("save_settings", settings.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()),
            ("create_project", create(1).to_vec()),
            ("set_instance_role", vec![("user_id", staff.clone()), ("instance_role", "staff".into())]),
            ("remove_user", vec![("user_id", staff.clone())]),
        ];
        for (name, form) in calls {
            // A fresh session each round: each budget starts full per user, so
            // spend it on this call alone.
            let user = format!("{name}@example.com");
            t.user(&user, Role::Admin, &t.demo).await;
            let id = t.store.user_by_email(&user).await.unwrap().id;
            t.store.set_instance_role(id, Some(InstanceRole::Owner)).await.unwrap();
            let cookie = t.login(&user).await;
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let mut answers = Vec::new();
            for _ in 0..3 {
                answers.push(t.server_fn_json(&cookie, name, &form).await);
            }
            assert!(!limited(&answers[0]), "{name}: the first call is not limited: {answers:?}");
            assert!(limited(&answers[2]), "{name}: the third call within a minute is refused: {answers:?}");
        }
    }
);
