//! The owners' Users page: every user, instance roles (always one owner),
//! removal (never oneself, never a project's only admin). Both databases.

mod common;

use axum::http::StatusCode;
use common::*;
use imgflush::domain::{InstanceRole, Role};
use serde_json::{json, Value};

async fn id_of(t: &TestApp, email: &str) -> String {
    t.store.user_by_email(email).await.unwrap().id.to_string()
}

db_test!(role_matrix_of_the_users_page, |t: TestApp| async move {
    let other = t.project("other").await;
    t.user("target@example.com", Role::Editor, &other).await;
    let target = id_of(&t, "target@example.com").await;
    let cases = [
        ("owner@example.com", Role::Support, Some(InstanceRole::Owner), "owner"),
        ("staff@example.com", Role::Support, Some(InstanceRole::Staff), "reads"),
        ("admin@example.com", Role::Admin, None, "no"),
        ("editor@example.com", Role::Editor, None, "no"),
        ("support@example.com", Role::Support, None, "no"),
    ];
    for (email, role, instance, expect) in cases {
        let id = t.user(email, role, &t.demo).await;
        t.store.set_instance_role(id, instance).await.unwrap();
        let cookie = t.login(email).await;
        let list = t.server_fn_json(&cookie, "list_users", &[]).await;
        let set =
            t.server_fn_json(&cookie, "set_instance_role", &[("user_id", &target), ("instance_role", "staff")]).await;
        match expect {
            "owner" => {
                assert!(list["users"].as_array().unwrap().iter().any(|u| u["email"] == "target@example.com"));
                assert_eq!(list["owner"], true);
                assert_eq!(set, Value::Null);
            }
            "reads" => {
                assert_eq!(list["owner"], false, "{email}");
                assert_eq!(set, json!("Forbidden"), "{email}");
            }
            _ => {
                assert_eq!(list, json!("Forbidden"), "{email}");
                assert_eq!(set, json!("Forbidden"), "{email}");
            }
        }
        if expect != "owner" {
            assert_eq!(t.server_fn_json(&cookie, "remove_user", &[("user_id", &target)]).await, json!("Forbidden"));
        }
    }
    let target_user = t.store.user_by_email("target@example.com").await.unwrap();
    assert_eq!(target_user.instance_role, Some(InstanceRole::Staff), "the owner made them staff");
    let bad = t
        .server_fn_json(
            &t.login("owner@example.com").await,
            "set_instance_role",
            &[("user_id", &target), ("instance_role", "root")],
        )
        .await;
    assert_eq!(bad["Invalid"][0]["field"], "instance_role", "{bad}");
});

db_test!(the_last_owner_and_a_projects_only_admin_stay, |t: TestApp| async move {
    let owner_id = t.user("owner@example.com", Role::Support, &t.demo).await;
    t.store.set_instance_role(owner_id, Some(InstanceRole::Owner)).await.unwrap();
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    t.user("leaving@example.com", Role::Editor, &t.demo).await;
    let owner = t.login("owner@example.com").await;
    let leaving = t.login("leaving@example.com").await;
    let me = owner_id.to_string();

    let r = t.server_fn_json(&owner, "set_instance_role", &[("user_id", &me), ("instance_role", "none")]).await;
    assert!(r["Conflict"].as_str().unwrap().contains("at least one owner"), "{r}");
    assert!(t.server_fn_json(&owner, "remove_user", &[("user_id", &me)]).await["Conflict"]
        .as_str()
        .unwrap()
        .contains("yourself"));
    let admin = id_of(&t, "admin@example.com").await;
    let r = t.server_fn_json(&owner, "remove_user", &[("user_id", &admin)]).await;
    assert!(r["Conflict"].as_str().unwrap().contains("only admin of demo"), "{r}");

    let gone = id_of(&t, "leaving@example.com").await;
    assert_eq!(t.server_fn_json(&owner, "remove_user", &[("user_id", &gone)]).await, Value::Null);
    assert_eq!(t.server_fn_json(&leaving, "me", &[]).await, json!("Unauthorized"), "their session ended");
    assert_eq!(t.get("/users", Some(&owner)).await.status(), StatusCode::OK);
    let audit = t.store.list_audit(&Default::default()).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "user.removed" && a.detail == "leaving@example.com"));

    // A second owner lets the first step down.
    let second = t.user("second@example.com", Role::Support, &t.demo).await;
    t.store.set_instance_role(second, Some(InstanceRole::Owner)).await.unwrap();
    assert_eq!(
        t.server_fn_json(&owner, "set_instance_role", &[("user_id", &me), ("instance_role", "staff")]).await,
        Value::Null
    );
});
