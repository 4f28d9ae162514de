//! The audit trail: every state-changing action leaves a row with who, when,
//! from where and what changed, never a secret; who may read which trail;
//! filters and keyset paging. Both databases.

mod common;

use axum::body::Body;
use axum::http::{header, Request};
use common::*;
use imgflush::backend::store::AuditQuery;
use imgflush::domain::{InstanceRole, Role};
use serde_json::{json, Value};

async fn trail(t: &TestApp) -> Vec<imgflush::backend::store::AuditEntry> {
    t.store.list_audit(&AuditQuery { limit: 1000, ..Default::default() }).await.unwrap()
}

db_test!(every_action_is_recorded_without_secrets, |t: TestApp| async move {
    let owner_id = t.user("owner@example.com", Role::Admin, &t.demo).await;
    t.store.set_instance_role(owner_id, Some(InstanceRole::Owner)).await.unwrap();
    t.login_from("203.0.113.7", None, "owner@example.com", "wrong password", "/").await;
    let ok = t.login_from("203.0.113.7", None, "owner@example.com", PASSWORD, "/").await;
    let owner = session_cookie(&ok).unwrap();

    // A server function call as a browser makes it, with its user agent.
    let resp = t
        .send(
            Request::post("/sfn/submit_invalidation")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json")
                .header(header::HOST, "localhost")
                .header(header::ORIGIN, "http://localhost")
                .header(header::USER_AGENT, "AuditTest/1.0")
                .header(header::COOKIE, &owner)
                .body(Body::from("project=demo&scope=original&urls=%2Fa.jpg"))
                .unwrap(),
        )
        .await;
    let id: String = serde_json::from_value(body_json(resp).await).unwrap();
    t.server_fn_json(&owner, "cancel_invalidation", &[("project", "demo"), ("id", &id)]).await;
    let key = t.server_fn_json(&owner, "create_key", &[("project", "demo"), ("name", "ci"), ("role", "editor")]).await;
    let key_secret = key["secret"].as_str().unwrap().to_owned();
    let keys = t.server_fn_json(&owner, "list_keys", &[("project", "demo")]).await;
    let key_id = keys["keys"][0]["id"].to_string();
    t.server_fn_json(&owner, "revoke_key", &[("project", "demo"), ("key_id", &key_id)]).await;
    let target = [
        ("project", "demo"),
        ("kind", "webhook"),
        ("name", "hook"),
        ("url", "http://127.0.0.1:9/purge?token=T0KEN"),
        ("secret", "hook-s3cret"),
    ];
    assert_eq!(t.server_fn_json(&owner, "add_target", &target).await, Value::Null);
    let settings = t.server_fn_json(&owner, "project_settings", &[("project", "demo")]).await;
    let target_id = settings["targets"][0]["id"].to_string();
    t.server_fn_json(&owner, "remove_target", &[("project", "demo"), ("target_id", &target_id)]).await;
    let added = t
        .server_fn_json(&owner, "add_member", &[("project", "demo"), ("email", "ann@example.com"), ("role", "editor")])
        .await;
    let invite = added["invite_path"].as_str().unwrap().trim_start_matches("/invite/").to_owned();
    let ann_id = t.store.user_by_email("ann@example.com").await.unwrap().id.to_string();
    t.server_fn_json(&owner, "change_member_role", &[("project", "demo"), ("user_id", &ann_id), ("role", "support")])
        .await;
    let form = [("token", invite.as_str()), ("password", PASSWORD), ("confirm", PASSWORD)];
    assert_eq!(t.server_fn_json("", "accept_invitation", &form).await, Value::Null);
    t.server_fn_json(&owner, "remove_member", &[("project", "demo"), ("user_id", &ann_id)]).await;
    let save = [
        ("project", "demo"),
        ("name", "Demo 2"),
        ("origin_hosts", "sample.li"),
        ("max_age_secs", "60"),
        ("s_maxage_secs", "60"),
        ("origin_scheme", "https"),
        ("custom_host", ""),
        ("sign_salt", "salty-s3cret-salt"),
        ("sign_length", ""),
    ];
    assert_eq!(t.server_fn_json(&owner, "save_settings", &save).await, Value::Null);
    t.server_fn_json(&owner, "save_retention", &[("project", "demo"), ("retention_days", "30")]).await;
    let project =
        [("token", "shop"), ("name", "Shop"), ("origin_hosts", ""), ("max_age_secs", ""), ("s_maxage_secs", "")];
    assert_eq!(t.server_fn_json(&owner, "create_project", &project).await, json!("shop"));
    let pw = [
        ("current_password", PASSWORD),
        ("new_password", "another long passphrase"),
        ("confirm", "another long passphrase"),
    ];
    assert_eq!(t.server_fn_json(&owner, "change_password", &pw).await, Value::Null);

    let rows = trail(&t).await;
    let actions: Vec<&str> = rows.iter().rev().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "sign_in.failed",
            "sign_in",
            "invalidation.submitted",
            "invalidation.cancelled",
            "key.created",
            "key.revoked",
            "target.added",
            "target.removed",
            "member.added",
            "member.changed",
            "invitation.accepted",
            // The invitation link signs its holder in: recorded like any sign-in.
            "sign_in",
            "member.removed",
            "settings.changed",
            "settings.changed",
            "project.created",
            "password.changed",
        ]
    );
    let by = |action: &str| rows.iter().find(|r| r.action == action).unwrap().clone();
    let failed = by("sign_in.failed");
    assert_eq!(
        (failed.actor.as_str(), failed.ip.as_deref(), failed.project_id),
        ("owner@example.com", Some("203.0.113.7"), None)
    );
    let submitted = by("invalidation.submitted");
    assert_eq!(submitted.user_agent.as_deref(), Some("AuditTest/1.0"));
    assert_eq!((submitted.actor.as_str(), submitted.project.as_deref()), ("owner@example.com", Some("demo")));
    assert!(submitted.detail.contains(&id) && submitted.detail.contains("/a.jpg"));
    assert!(by("target.added").detail.contains("hook (webhook, http://127.0.0.1:9/, with a secret)"));
    assert_eq!(by("member.changed").detail, "ann@example.com: editor → support");
    assert!(rows.iter().any(|r| r.detail.contains("max_age_secs: 2592000 → 60")));
    assert!(rows.iter().any(|r| r.detail == "retention_days: 90 → 30"));
    assert!(rows.iter().any(|r| r.detail.contains("sign_salt: set (not shown)")));
    assert_eq!(by("project.created").project.as_deref(), Some("shop"));

    let everything = format!("{rows:?}");
    for secret in
        [key_secret.as_str(), "hook-s3cret", "T0KEN", "salty-s3cret-salt", PASSWORD, "wrong password", &invite]
    {
        assert!(!everything.contains(secret), "{secret} in the audit trail");
    }
});

db_test!(who_reads_which_trail, |t: TestApp| async move {
    let other = t.project("other").await;
    let cases = [
        ("owner@example.com", Role::Support, Some(InstanceRole::Owner), true, true),
        ("staff@example.com", Role::Support, Some(InstanceRole::Staff), true, false),
        ("admin@example.com", Role::Admin, None, true, false),
        ("editor@example.com", Role::Editor, None, false, false),
        ("support@example.com", Role::Support, None, false, false),
    ];
    for (email, role, instance, project_ok, instance_ok) in cases {
        let id = t.user(email, role, &t.demo).await;
        t.store.set_instance_role(id, instance).await.unwrap();
        let cookie = t.login(email).await;
        let project = t.server_fn_json(&cookie, "project_audit", &[("project", "demo")]).await;
        let all = t.server_fn_json(&cookie, "instance_audit", &[]).await;
        assert_eq!(project["rows"].is_array(), project_ok, "{email}: {project}");
        if !project_ok {
            assert_eq!(project, json!("Forbidden"), "{email}");
        }
        assert_eq!(all["rows"].is_array(), instance_ok, "{email}: {all}");
        if !instance_ok {
            assert_eq!(all, json!("Forbidden"), "{email}");
        }
    }
    t.user("outsider@example.com", Role::Admin, &other).await;
    let outsider = t.login("outsider@example.com").await;
    assert_eq!(t.server_fn_json(&outsider, "project_audit", &[("project", "demo")]).await, json!("NotFound"));
    // A project's trail holds only its own events; sign-ins are instance-wide.
    let owner = t.login("owner@example.com").await;
    let demo = t.server_fn_json(&owner, "project_audit", &[("project", "demo")]).await;
    assert!(demo["rows"].as_array().unwrap().iter().all(|r| r["project"] == "demo"), "{demo}");
    let all = t.server_fn_json(&owner, "instance_audit", &[("action", "sign_in")]).await;
    assert!(all["rows"].as_array().unwrap().len() >= 6, "{all}");
});

db_test!(audit_filters_and_keyset_pages, |t: TestApp| async move {
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let admin = t.login("admin@example.com").await;
    for i in 0..55 {
        let urls = format!("/p/{i}.jpg");
        t.server_fn_json(&admin, "submit_invalidation", &[("project", "demo"), ("scope", "original"), ("urls", &urls)])
            .await;
    }
    t.server_fn_json(&admin, "create_key", &[("project", "demo"), ("name", "ci"), ("role", "editor")]).await;
    let first =
        t.server_fn_json(&admin, "project_audit", &[("project", "demo"), ("action", "invalidation.submitted")]).await;
    assert_eq!(first["rows"].as_array().unwrap().len(), 50);
    assert!(first["rows"][0]["detail"].as_str().unwrap().contains("/p/54.jpg"), "newest first");
    let next = first["next"].as_str().unwrap().to_owned();
    let second = t
        .server_fn_json(
            &admin,
            "project_audit",
            &[("project", "demo"), ("action", "invalidation.submitted"), ("before", &next)],
        )
        .await;
    let older = second["rows"].as_array().unwrap();
    assert_eq!(older.len(), 5);
    assert!(older[4]["detail"].as_str().unwrap().contains("/p/0.jpg"));
    assert!(second["next"].is_null());
    let keys = t.server_fn_json(&admin, "project_audit", &[("project", "demo"), ("action", "key.created")]).await;
    assert_eq!(keys["rows"].as_array().unwrap().len(), 1);
    let nobody =
        t.server_fn_json(&admin, "project_audit", &[("project", "demo"), ("actor", "nobody@example.com")]).await;
    assert_eq!(nobody["rows"], json!([]));
    let bad = t.server_fn_json(&admin, "project_audit", &[("project", "demo"), ("before", "yesterday")]).await;
    assert_eq!(bad["Invalid"][0]["field"], "before", "{bad}");
    let page = body_text(t.get("/p/demo/audit?action=key.created", Some(&admin)).await).await;
    assert!(page.contains("key ci (editor, imf_"), "the page lists it");
});

// Staff read the project trail but are not project admins: a target test
// there keeps only the public detail (the status), never what the target
// answered; the admin who pressed Test still sees the whole answer.
db_test!(a_target_test_leaves_only_the_public_detail_in_the_trail, |t: TestApp| async move {
    use common::recorder::Recorder;
    use imgflush::backend::store::NewTarget;
    use imgflush::domain::TargetKind;

    let node = Recorder::start().await;
    node.respond_with(502);
    let target = NewTarget {
        kind: TargetKind::Edge,
        name: "edge-1".into(),
        url: node.url("/purge"),
        secret: None,
        settings: Default::default(),
        credentials: None,
    };
    let target_id = t.store.add_target(t.demo.id, &target, imgflush::backend::now_ms()).await.unwrap().id.to_string();
    t.user("admin@example.com", Role::Admin, &t.demo).await;
    let staff_id = t.user("staff@example.com", Role::Support, &t.demo).await;
    t.store.set_instance_role(staff_id, Some(InstanceRole::Staff)).await.unwrap();
    let admin = t.login("admin@example.com").await;
    let answer = t.server_fn_json(&admin, "test_target", &[("project", "demo"), ("target_id", &target_id)]).await;
    assert!(answer["answer"].as_str().unwrap().contains("backend on fire"), "the admin sees the answer: {answer}");
    let staff = t.login("staff@example.com").await;
    let trail = t.server_fn_json(&staff, "project_audit", &[("project", "demo")]).await;
    let text = trail.to_string();
    assert!(text.contains("target.tested") && text.contains("HTTP 502"), "{trail}");
    assert!(!text.contains("backend on fire"), "the target's answer stays with admins: {trail}");
});
