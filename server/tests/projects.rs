//! The owners' Projects page: every project at a glance, and creating one
//! with the same validation as Settings. Both databases.

mod common;

use common::*;
use imgflush::backend::invalidations::{PathsInput, Submission};
use imgflush::domain::{InstanceRole, Role, Scope};
use serde_json::json;

async fn signed_in(t: &TestApp, email: &str, role: Role, instance: Option<InstanceRole>) -> String {
    let id = t.user(email, role, &t.demo).await;
    t.store.set_instance_role(id, instance).await.unwrap();
    t.login(email).await
}

fn project_form(token: &str) -> Vec<(&str, &str)> {
    vec![
        ("token", token),
        ("name", "Shop images"),
        ("origin_hosts", "img.shop.example\n*.cdn.shop.example"),
        ("max_age_secs", "60"),
        ("s_maxage_secs", ""),
    ]
}

db_test!(only_owners_create_projects_and_owners_and_staff_list_them, |t: TestApp| async move {
    let other = t.project("other").await;
    t.user("outsider@example.com", Role::Admin, &other).await;
    let outsider = t.login("outsider@example.com").await;
    let cases = [
        ("owner@example.com", Role::Support, Some(InstanceRole::Owner)),
        ("staff@example.com", Role::Support, Some(InstanceRole::Staff)),
        ("admin@example.com", Role::Admin, None),
        ("editor@example.com", Role::Editor, None),
        ("support@example.com", Role::Support, None),
    ];
    for (i, (email, role, instance)) in cases.into_iter().enumerate() {
        let cookie = signed_in(&t, email, role, instance).await;
        let token = format!("shop{i}");
        let created = t.server_fn_json(&cookie, "create_project", &project_form(&token)).await;
        let listed = t.server_fn_json(&cookie, "projects_overview", &[]).await;
        if instance == Some(InstanceRole::Owner) {
            assert_eq!(created, json!(token), "{email}");
        } else {
            assert_eq!(created, json!("Forbidden"), "{email}");
        }
        if instance.is_some() {
            assert!(listed.as_array().unwrap().iter().any(|p| p["token"] == "demo"), "{email}: {listed}");
        } else {
            assert_eq!(listed, json!("Forbidden"), "{email}");
        }
    }
    assert_eq!(t.server_fn_json(&outsider, "create_project", &project_form("shop9")).await, json!("Forbidden"));
    assert_eq!(t.server_fn_json("", "create_project", &project_form("shop9")).await, json!("Unauthorized"));

    // The new project: its settings as given, the owner its first admin.
    let shop = t.store.project_by_token("shop0").await.unwrap();
    assert_eq!(shop.origin_hosts, ["img.shop.example", "*.cdn.shop.example"]);
    assert_eq!((shop.max_age_secs, shop.s_maxage_secs), (60, 31_536_000));
    let members = t.store.members(shop.id).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!((members[0].email.as_str(), members[0].role), ("owner@example.com", Role::Admin));
});

db_test!(a_bad_project_form_names_every_field, |t: TestApp| async move {
    let cookie = signed_in(&t, "owner@example.com", Role::Admin, Some(InstanceRole::Owner)).await;
    let bad = t
        .server_fn_json(
            &cookie,
            "create_project",
            &[
                ("token", "Shop_1"),
                ("name", ""),
                ("origin_hosts", "https://img.example/"),
                ("max_age_secs", "-5"),
                ("s_maxage_secs", "soon"),
            ],
        )
        .await;
    let fields: Vec<&str> = bad["Invalid"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["token", "name", "origin_hosts", "max_age_secs", "s_maxage_secs"], "{bad}");
    let taken = t.server_fn_json(&cookie, "create_project", &project_form("demo")).await;
    assert_eq!(taken["Invalid"][0]["field"], "token", "{taken}");
    assert!(taken.to_string().contains("taken"), "{taken}");
});

db_test!(the_overview_counts_invalidations_and_errors, |t: TestApp| async move {
    let cookie = signed_in(&t, "owner@example.com", Role::Admin, Some(InstanceRole::Owner)).await;
    let actor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    for _ in 0..2 {
        let sub = Submission {
            scope: Scope::Original,
            paths: PathsInput::List(vec!["/a.jpg".into()]),
            max_paths: 15,
            field: "urls",
            confirmed: false,
            not_before_ms: None,
            idempotency_key: None,
        };
        t.app.services.invalidations.submit(&actor, sub).await.unwrap();
    }
    let listed = t.server_fn_json(&cookie, "projects_overview", &[]).await;
    let demo = listed.as_array().unwrap().iter().find(|p| p["token"] == "demo").unwrap().clone();
    assert_eq!((demo["invalidations"].clone(), demo["errors"].clone()), (json!(2), json!(0)));
    assert!(demo["last_invalidation"].is_i64(), "milliseconds since the epoch");
    let page = t.get("/projects", Some(&cookie)).await;
    assert_eq!(page.status(), axum::http::StatusCode::OK);
    assert!(body_text(page).await.contains("Demo"));
});
