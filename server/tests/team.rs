//! Members with invitations and the last-admin rule, and changing one's own
//! password. Through the server functions, as the browser calls them, on
//! both databases.

mod common;

use axum::http::StatusCode;
use common::who::{caller, Who, EVERYONE};
use common::*;
use imgflush::backend::keys::hash_key;
use imgflush::backend::now_ms;
use imgflush::backend::store::{InvitationKind, NewInvitation};
use imgflush::domain::InstanceRole;
use imgflush::domain::Role;
use serde_json::{json, Value};

async fn member_id(t: &TestApp, email: &str) -> String {
    t.store.user_by_email(email).await.unwrap().id.to_string()
}

db_test!(role_matrix_of_the_members_functions, |t: TestApp| async move {
    let other = t.project("other").await;
    t.user("keep-admin@example.com", Role::Admin, &t.demo).await;
    for who in EVERYONE {
        let cookie = caller(&t, who, &other).await;
        let target = format!("target-{who:?}@example.com").to_lowercase();
        t.user(&target, Role::Editor, &t.demo).await;
        let target_id = member_id(&t, &target).await;
        let list = t.server_fn_json(&cookie, "list_members", &[("project", "demo")]).await;
        let new_email = format!("new-{who:?}@example.com").to_lowercase();
        let add = t
            .server_fn_json(&cookie, "add_member", &[("project", "demo"), ("email", &new_email), ("role", "editor")])
            .await;
        let change = t
            .server_fn_json(
                &cookie,
                "change_member_role",
                &[("project", "demo"), ("user_id", &target_id), ("role", "support")],
            )
            .await;
        let remove = t.server_fn_json(&cookie, "remove_member", &[("project", "demo"), ("user_id", &target_id)]).await;
        match who {
            Who::Owner | Who::Admin => {
                assert!(list["members"].as_array().unwrap().len() >= 2, "{who:?}: {list}");
                assert_eq!(add["email"], new_email, "{who:?}: {add}");
                assert!(add["invite_path"].as_str().unwrap().starts_with("/invite/"));
                assert_eq!(change["role"], "support", "{who:?}: the answer says what changed: {change}");
                assert_eq!(remove["role"], Value::Null, "{who:?}: removed: {remove}");
                assert!(remove["email"].is_string(), "{who:?}: the answer names who was removed: {remove}");
            }
            Who::Staff => {
                assert!(list["members"].is_array(), "staff read the members: {list}");
                for r in [&add, &change, &remove] {
                    assert_eq!(r, &json!("Forbidden"), "{who:?}");
                }
            }
            Who::Editor | Who::Support => {
                for r in [&list, &add, &change, &remove] {
                    assert_eq!(r, &json!("Forbidden"), "{who:?}");
                }
            }
            Who::Outsider => {
                for r in [&list, &add, &change, &remove] {
                    assert_eq!(r, &json!("NotFound"), "{who:?}");
                }
            }
        }
    }
    // A member of another project is not one of this project's: 404.
    t.user("elsewhere@example.com", Role::Editor, &other).await;
    let elsewhere = member_id(&t, "elsewhere@example.com").await;
    let admin = t.login("keep-admin@example.com").await;
    let r = t
        .server_fn_json(
            &admin,
            "change_member_role",
            &[("project", "demo"), ("user_id", &elsewhere), ("role", "admin")],
        )
        .await;
    assert_eq!(r, json!("NotFound"));
    assert_eq!(
        t.server_fn_json(&admin, "remove_member", &[("project", "demo"), ("user_id", &elsewhere)]).await,
        json!("NotFound")
    );
});

db_test!(bad_member_input_names_the_field, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let cookie = t.login("admin@example.com").await;
    let r =
        t.server_fn_json(&cookie, "add_member", &[("project", "demo"), ("email", "nobody"), ("role", "root")]).await;
    let fields: Vec<&str> = r["Invalid"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "role"], "{r}");
    let again = t
        .server_fn_json(
            &cookie,
            "add_member",
            &[("project", "demo"), ("email", "ADMIN@example.com"), ("role", "editor")],
        )
        .await;
    assert!(again["Conflict"].as_str().unwrap().contains("already a member"), "{again}");
    let id = member_id(&t, "admin@example.com").await;
    let r = t
        .server_fn_json(&cookie, "change_member_role", &[("project", "demo"), ("user_id", &id), ("role", "owner")])
        .await;
    assert_eq!(r["Invalid"][0]["field"], "role", "{r}");
});

db_test!(the_last_admin_can_be_neither_demoted_nor_removed, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let cookie = t.login("admin@example.com").await;
    let me = member_id(&t, "admin@example.com").await;
    for (name, extra) in [("change_member_role", Some(("role", "editor"))), ("remove_member", None)] {
        let mut form = vec![("project", "demo"), ("user_id", me.as_str())];
        form.extend(extra);
        let r = t.server_fn_json(&cookie, name, &form).await;
        assert!(r["Conflict"].as_str().unwrap().contains("at least one admin"), "{name}: {r}");
    }
    // With a second admin, the first may step down.
    t.user("second@example.com", Role::Admin, &t.demo).await;
    let r = t
        .server_fn_json(&cookie, "change_member_role", &[("project", "demo"), ("user_id", &me), ("role", "support")])
        .await;
    assert_eq!(r["role"], "support", "{r}");
    let second = t.login("second@example.com").await;
    let r = t
        .server_fn_json(
            &second,
            "remove_member",
            &[("project", "demo"), ("user_id", &member_id(&t, "second@example.com").await)],
        )
        .await;
    assert!(r["Conflict"].is_string(), "now the last admin: {r}");
});

db_test!(an_invitation_sets_the_password_once_before_it_expires, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let admin = t.login("admin@example.com").await;
    let added = t
        .server_fn_json(&admin, "add_member", &[("project", "demo"), ("email", "New@Example.com"), ("role", "editor")])
        .await;
    let path = added["invite_path"].as_str().unwrap().to_owned();
    let token = path.strip_prefix("/invite/").unwrap().to_owned();
    assert_eq!(t.get(&path, None).await.status(), StatusCode::OK, "the invitation page needs no session");
    let listed = t.server_fn_json(&admin, "list_members", &[("project", "demo")]).await;
    let new = listed["members"].as_array().unwrap().iter().find(|m| m["email"] == "new@example.com").unwrap().clone();
    assert_eq!((new["invited"].clone(), new["role"].clone()), (json!(true), json!("editor")));
    assert!(t.login_response("new@example.com", PASSWORD).await.headers()["location"]
        .to_str()
        .unwrap()
        .contains("error"));

    let short = t
        .server_fn_json("", "accept_invitation", &[("token", &token), ("password", "short"), ("confirm", "short")])
        .await;
    assert_eq!(short["Invalid"][0]["field"], "password", "{short}");
    let differ =
        t.server_fn_json("", "accept_invitation", &[("token", &token), ("password", PASSWORD), ("confirm", "x")]).await;
    assert_eq!(differ["Invalid"][0]["field"], "confirm");
    let ok =
        t.server_fn("", "accept_invitation", &[("token", &token), ("password", PASSWORD), ("confirm", PASSWORD)]).await;
    let cookie = session_cookie(&ok).expect("signed in");
    assert_eq!(body_json(ok).await, Value::Null);
    let log = t.server_fn_json(&cookie, "list_invalidations", &[("project", "demo")]).await;
    assert!(log["rows"].is_array(), "the new member works in the project: {log}");
    t.login("new@example.com").await;

    let twice = t
        .server_fn_json("", "accept_invitation", &[("token", &token), ("password", PASSWORD), ("confirm", PASSWORD)])
        .await;
    assert_eq!(twice, json!("NotFound"), "single use");
    let forged = t
        .server_fn_json("", "accept_invitation", &[("token", "x"), ("password", PASSWORD), ("confirm", PASSWORD)])
        .await;
    assert_eq!(forged, json!("NotFound"));

    let late = t.store.user_by_email("new@example.com").await.unwrap();
    let now = now_ms();
    let link = NewInvitation { user_id: late.id, kind: InvitationKind::Password, project_id: None, role: None };
    t.store.create_invitation(&link, &hash_key("expired-token"), now - 10_000, now - 1).await.unwrap();
    let expired = t
        .server_fn_json(
            "",
            "accept_invitation",
            &[("token", "expired-token"), ("password", PASSWORD), ("confirm", PASSWORD)],
        )
        .await;
    assert_eq!(expired, json!("NotFound"), "expired");
});

db_test!(removal_ends_access_and_the_last_project_signs_out, |t: TestApp| async move {
    let other = t.project("other").await;
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    t.user("ann@example.com", Role::Editor, &t.demo).await;
    t.user("ann@example.com", Role::Editor, &other).await;
    let admin = t.login("admin@example.com").await;
    let ann = t.login("ann@example.com").await;
    let ann_id = member_id(&t, "ann@example.com").await;
    let r = t
        .server_fn_json(&admin, "change_member_role", &[("project", "demo"), ("user_id", &ann_id), ("role", "support")])
        .await;
    assert_eq!(r, json!({"email": "ann@example.com", "role": "support"}));
    let submit = t
        .server_fn_json(&ann, "submit_invalidation", &[("project", "demo"), ("scope", "original"), ("urls", "/a.jpg")])
        .await;
    assert_eq!(submit, json!("Forbidden"), "the demotion applies at the next request");
    assert_eq!(
        t.server_fn_json(&admin, "remove_member", &[("project", "demo"), ("user_id", &ann_id)]).await,
        json!({"email": "ann@example.com", "role": null})
    );
    assert_eq!(t.server_fn_json(&ann, "list_invalidations", &[("project", "demo")]).await, json!("NotFound"));
    assert!(
        t.server_fn_json(&ann, "list_invalidations", &[("project", "other")]).await["rows"].is_array(),
        "still in other"
    );

    // Removed from her last project: signed out.
    t.user("boss@example.com", Role::Admin, &other).await;
    let boss = t.login("boss@example.com").await;
    assert_eq!(
        t.server_fn_json(&boss, "remove_member", &[("project", "other"), ("user_id", &ann_id)]).await,
        json!({"email": "ann@example.com", "role": null})
    );
    assert_eq!(t.server_fn_json(&ann, "me", &[]).await, json!("Unauthorized"));
    assert_eq!(t.get("/p/other/invalidation", Some(&ann)).await.status(), StatusCode::SEE_OTHER);
});

db_test!(users_change_their_own_password_and_other_sessions_end, |t: TestApp| async move {
    t.user("ann@example.com", Role::Editor, &t.demo).await;
    let here = t.login("ann@example.com").await;
    let elsewhere = t.login("ann@example.com").await;
    let new = "a much better passphrase";
    let wrong = t
        .server_fn_json(
            &here,
            "change_password",
            &[("current_password", "nope"), ("new_password", new), ("confirm", new)],
        )
        .await;
    assert_eq!(wrong["Invalid"][0]["field"], "current_password", "{wrong}");
    let weak = t
        .server_fn_json(
            &here,
            "change_password",
            &[("current_password", PASSWORD), ("new_password", "x"), ("confirm", "x")],
        )
        .await;
    assert_eq!(weak["Invalid"][0]["field"], "new_password", "{weak}");
    let resp = t
        .server_fn(&here, "change_password", &[("current_password", PASSWORD), ("new_password", new), ("confirm", new)])
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let here = session_cookie(&resp).unwrap_or(here);
    assert_eq!(body_json(resp).await, Value::Null);
    assert_eq!(t.server_fn_json(&here, "me", &[]).await["email"], "ann@example.com", "this session carries on");
    assert_eq!(t.server_fn_json(&elsewhere, "me", &[]).await, json!("Unauthorized"), "the other one ended");
    assert_eq!(t.login_response("ann@example.com", new).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        t.server_fn_json("", "change_password", &[("current_password", new), ("new_password", new), ("confirm", new)])
            .await,
        json!("Unauthorized")
    );
});

db_test!(members_show_their_last_sign_in, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    t.user("idle@example.com", Role::Support, &t.demo).await;
    let cookie = t.login("admin@example.com").await;
    let list = t.server_fn_json(&cookie, "list_members", &[("project", "demo")]).await;
    let rows = list["members"].as_array().unwrap();
    let by = |email: &str| rows.iter().find(|m| m["email"] == email).unwrap().clone();
    assert!(by("admin@example.com")["last_sign_in"].is_i64(), "milliseconds since the epoch");
    assert!(by("idle@example.com")["last_sign_in"].is_null());
    assert_eq!(by("idle@example.com")["role"], "support");
    assert!(!list.to_string().contains("argon2"), "no password hashes");
});

db_test!(an_admin_can_send_a_new_link_until_the_password_is_set, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    t.user("editor@example.com", Role::Editor, &t.demo).await;
    let admin = t.login("admin@example.com").await;
    let editor = t.login("editor@example.com").await;
    let added = t
        .server_fn_json(
            &admin,
            "add_member",
            &[("project", "demo"), ("email", "late@example.com"), ("role", "support")],
        )
        .await;
    let first = added["invite_path"].as_str().unwrap().trim_start_matches("/invite/").to_owned();
    let late = member_id(&t, "late@example.com").await;
    let form = [("project", "demo"), ("user_id", late.as_str())];
    assert_eq!(t.server_fn_json(&editor, "reinvite_member", &form).await, json!("Forbidden"));
    let again = t.server_fn_json(&admin, "reinvite_member", &form).await;
    let second = again["invite_path"].as_str().unwrap().trim_start_matches("/invite/").to_owned();
    assert_ne!(first, second);
    let old = [("token", first.as_str()), ("password", PASSWORD), ("confirm", PASSWORD)];
    assert_eq!(t.server_fn_json("", "accept_invitation", &old).await, json!("NotFound"), "the earlier link ended");
    let third = t.server_fn_json(&admin, "reinvite_member", &form).await;
    let third = third["invite_path"].as_str().unwrap().trim_start_matches("/invite/").to_owned();
    let accept = [("token", second.as_str()), ("password", PASSWORD), ("confirm", PASSWORD)];
    assert_eq!(t.server_fn_json("", "accept_invitation", &accept).await, json!("NotFound"), "replaced by the third");
    let accept = [("token", third.as_str()), ("password", PASSWORD), ("confirm", PASSWORD)];
    assert_eq!(t.server_fn_json("", "accept_invitation", &accept).await, Value::Null);
    let done = t.server_fn_json(&admin, "reinvite_member", &form).await;
    assert!(done["Conflict"].as_str().unwrap().contains("already set a password"), "{done}");
    let listed = t.server_fn_json(&admin, "list_members", &[("project", "demo")]).await;
    let late_row =
        listed["members"].as_array().unwrap().iter().find(|m| m["email"] == "late@example.com").unwrap().clone();
    assert_eq!(late_row["invited"], false);
    let me = member_id(&t, "editor@example.com").await;
    let set = t.server_fn_json(&admin, "reinvite_member", &[("project", "demo"), ("user_id", &me)]).await;
    assert!(set["Conflict"].is_string(), "{set}");
});

fn link_token(added: &Value) -> String {
    let path = added["invite_path"].as_str().unwrap_or_else(|| panic!("a link: {added}"));
    path.strip_prefix("/invite/").unwrap().to_owned()
}

fn listed(list: &Value, email: &str) -> Option<Value> {
    list["members"].as_array().unwrap().iter().find(|m| m["email"] == email).cloned()
}

// Issue 24's account takeover, as an admin of another project would try
// it: add an existing account (an owner who never used their first link,
// and a member of another project who never did either), see it listed as
// invited, ask for a new link, set a password with it and sign in.
db_test!(an_admin_cannot_take_over_another_projects_account_with_a_new_link, |t: TestApp| async move {
    let b = t.project("bravo").await;
    t.user("admin-a@example.com", Role::Admin, &t.demo).await;
    t.user("admin-b@example.com", Role::Admin, &b).await;
    let admin_a = t.login("admin-a@example.com").await;
    let admin_b = t.login("admin-b@example.com").await;
    for email in ["boss@example.com", "vic@example.com"] {
        let added = t
            .server_fn_json(&admin_b, "add_member", &[("project", "bravo"), ("email", email), ("role", "admin")])
            .await;
        link_token(&added);
    }
    let boss = t.store.user_by_email("boss@example.com").await.unwrap();
    t.store.set_instance_role(boss.id, Some(InstanceRole::Owner)).await.unwrap();

    const ATTACKER: &str = "the attacker's own password";
    for email in ["boss@example.com", "vic@example.com"] {
        let victim = t.store.user_by_email(email).await.unwrap();
        assert!(!victim.password_set, "{email} never used their link");
        // Adding an existing account answers like adding a new e-mail: a link, no access.
        let added =
            t.server_fn_json(&admin_a, "add_member", &[("project", "demo"), ("email", email), ("role", "admin")]).await;
        let fresh = t
            .server_fn_json(
                &admin_a,
                "add_member",
                &[("project", "demo"), ("email", &format!("new-{email}")), ("role", "admin")],
            )
            .await;
        let shape = |v: &Value| (v["role"].clone(), v["invite_path"].as_str().map(str::len));
        assert_eq!(shape(&added), shape(&fresh), "the same answer with or without an account: {added} {fresh}");
        let memberships = t.store.memberships_of(victim.id).await.unwrap();
        assert!(memberships.iter().all(|m| m.project.token != "demo"), "{email} was not added silently");

        let list = t.server_fn_json(&admin_a, "list_members", &[("project", "demo")]).await;
        let row = listed(&list, email).expect("listed as invited");
        assert_eq!(row["invited"], true);
        assert!(row["last_sign_in"].is_null(), "nothing about the account itself: {row}");
        let id = victim.id.to_string();
        let again = t.server_fn_json(&admin_a, "reinvite_member", &[("project", "demo"), ("user_id", &id)]).await;
        for token in [link_token(&added), link_token(&again)] {
            let set = [("token", token.as_str()), ("password", ATTACKER), ("confirm", ATTACKER)];
            assert_eq!(
                t.server_fn_json("", "accept_invitation", &set).await,
                json!("NotFound"),
                "{email}: no password link"
            );
        }
        let replaced = link_token(&added);
        let join = t.server_fn_json("", "accept_join", &[("token", &replaced), ("password", ATTACKER)]).await;
        assert_eq!(join, json!("NotFound"), "{email}: the new link replaced the first");
        let join = t.server_fn_json("", "accept_join", &[("token", &link_token(&again)), ("password", ATTACKER)]).await;
        assert_eq!(join["Invalid"][0]["field"], "password", "{email}: only the account's own password joins: {join}");
        let signed_in = t.login_response(email, ATTACKER).await;
        assert!(location(&signed_in).contains("error"), "{email} is not taken over");
        // Nor through the project that did invite them, for an admin of another.
        let id = victim.id.to_string();
        let cross = t.server_fn_json(&admin_a, "reinvite_member", &[("project", "bravo"), ("user_id", &id)]).await;
        assert_eq!(cross, json!("NotFound"), "{cross}");
    }

    // An account that reaches more than one project (data from before this
    // change, or the CLI): only an instance owner sends it a password link.
    let both = t
        .server_fn_json(
            &admin_b,
            "add_member",
            &[("project", "bravo"), ("email", "both@example.com"), ("role", "editor")],
        )
        .await;
    link_token(&both);
    let both_id = t.store.user_by_email("both@example.com").await.unwrap().id;
    t.store.set_membership(both_id, t.demo.id, Role::Editor).await.unwrap();
    let both_id = both_id.to_string();
    let form = [("project", "demo"), ("user_id", both_id.as_str())];
    let refused = t.server_fn_json(&admin_a, "reinvite_member", &form).await;
    assert!(refused["Conflict"].as_str().unwrap().contains("instance owner"), "{refused}");
    t.user("owner@example.com", Role::Admin, &t.demo).await;
    let owner_id = t.store.user_by_email("owner@example.com").await.unwrap().id;
    t.store.set_instance_role(owner_id, Some(InstanceRole::Owner)).await.unwrap();
    let owner = t.login("owner@example.com").await;
    let link = t.server_fn_json(&owner, "reinvite_member", &form).await;
    let token = link_token(&link);
    let set = [("token", token.as_str()), ("password", PASSWORD), ("confirm", PASSWORD)];
    assert_eq!(t.server_fn_json("", "accept_invitation", &set).await, Value::Null);
});

db_test!(an_existing_account_joins_with_its_own_password, |t: TestApp| async move {
    let b = t.project("bravo").await;
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    t.user("ann@example.com", Role::Editor, &b).await;
    let admin = t.login("admin@example.com").await;
    let added = t
        .server_fn_json(&admin, "add_member", &[("project", "demo"), ("email", "Ann@example.com"), ("role", "support")])
        .await;
    let token = link_token(&added);
    let info = t.server_fn_json("", "invitation", &[("token", &token)]).await;
    assert_eq!((info["join"].clone(), info["project_name"].clone()), (json!(true), json!("Demo")), "{info}");
    let ann = member_id(&t, "ann@example.com").await;
    let r = t
        .server_fn_json(&admin, "change_member_role", &[("project", "demo"), ("user_id", &ann), ("role", "editor")])
        .await;
    assert_eq!(r["role"], "editor", "the offered role can change before they accept: {r}");
    let again = t
        .server_fn_json(&admin, "add_member", &[("project", "demo"), ("email", "ann@example.com"), ("role", "editor")])
        .await;
    assert!(again["Conflict"].is_string(), "{again}");

    let ok = t.server_fn("", "accept_join", &[("token", &token), ("password", PASSWORD)]).await;
    let cookie = session_cookie(&ok).expect("signed in");
    assert_eq!(body_json(ok).await, Value::Null);
    let log = t.server_fn_json(&cookie, "list_invalidations", &[("project", "demo")]).await;
    assert!(log["rows"].is_array(), "a member now: {log}");
    let list = t.server_fn_json(&admin, "list_members", &[("project", "demo")]).await;
    let row = listed(&list, "ann@example.com").unwrap();
    assert_eq!((row["role"].clone(), row["invited"].clone()), (json!("editor"), json!(false)), "{row}");
    let twice = t.server_fn_json("", "accept_join", &[("token", &token), ("password", PASSWORD)]).await;
    assert_eq!(twice, json!("NotFound"), "single use");

    // Withdrawn before it is used: the link stops working.
    t.user("bob@example.com", Role::Editor, &b).await;
    let added = t
        .server_fn_json(&admin, "add_member", &[("project", "demo"), ("email", "bob@example.com"), ("role", "editor")])
        .await;
    let bob = member_id(&t, "bob@example.com").await;
    assert_eq!(
        t.server_fn_json(&admin, "remove_member", &[("project", "demo"), ("user_id", &bob)]).await,
        json!({"email": "bob@example.com", "role": null})
    );
    let late = t.server_fn_json("", "accept_join", &[("token", &link_token(&added)), ("password", PASSWORD)]).await;
    assert_eq!(late, json!("NotFound"));
    let list = t.server_fn_json(&admin, "list_members", &[("project", "demo")]).await;
    assert!(listed(&list, "bob@example.com").is_none(), "{list}");
});

// `server user passwd` (and any password change) ends the account's open
// password links: a link must not outlive the password it was meant to set.
db_test!(setting_a_password_ends_the_open_links, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let admin = t.login("admin@example.com").await;
    let added = t
        .server_fn_json(&admin, "add_member", &[("project", "demo"), ("email", "new@example.com"), ("role", "editor")])
        .await;
    let token = link_token(&added);
    let user = t.store.user_by_email("new@example.com").await.unwrap();
    t.app.services.accounts.set_password(&user, "set by the operator".into()).await.unwrap();
    let set = [("token", token.as_str()), ("password", PASSWORD), ("confirm", PASSWORD)];
    assert_eq!(t.server_fn_json("", "accept_invitation", &set).await, json!("NotFound"));
    let list = t.server_fn_json(&admin, "list_members", &[("project", "demo")]).await;
    assert_eq!(listed(&list, "new@example.com").unwrap()["invited"], false);
    let id = user.id.to_string();
    let again = t.server_fn_json(&admin, "reinvite_member", &[("project", "demo"), ("user_id", &id)]).await;
    assert!(again["Conflict"].as_str().unwrap().contains("already set a password"), "{again}");
});

// A link is looked up before any password is hashed (a made-up one answers
// `NotFound` whatever the password), and guesses count against the
// sign-in limit of the caller's address.
db_test!(accepting_a_link_looks_it_up_first_and_is_throttled, |t: TestApp| async move {
    let bogus = [("token", "made-up"), ("password", "short"), ("confirm", "short")];
    assert_eq!(
        t.server_fn_json("", "accept_invitation", &bogus).await,
        json!("NotFound"),
        "looked up before the password"
    );
    let mut last = Value::Null;
    for _ in 0..25 {
        last = t
            .server_fn_json(
                "",
                "accept_invitation",
                &[("token", "made-up"), ("password", PASSWORD), ("confirm", PASSWORD)],
            )
            .await;
    }
    assert!(last["Conflict"].as_str().unwrap_or_default().contains("too many attempts"), "{last}");
    let join = t.server_fn_json("", "accept_join", &[("token", "made-up"), ("password", PASSWORD)]).await;
    assert!(join["Conflict"].as_str().unwrap_or_default().contains("too many attempts"), "{join}");
});
