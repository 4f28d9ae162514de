//! Instance roles (owner, staff) and the Invalidation ID lookup, through the
//! server functions and pages as the browser calls them, on both databases.

mod common;

use axum::http::StatusCode;
use common::who::{caller, Who, EVERYONE};
use common::*;
use imgflush::backend::invalidations::{PathsInput, Submission};
use imgflush::backend::store::Project;
use imgflush::domain::{Role, Scope};
use serde_json::json;

async fn submit(t: &TestApp, project: &Project) -> String {
    let actor = t.actor("submitter@example.com", Role::Editor, project).await;
    let sub = Submission {
        scope: Scope::Original,
        paths: PathsInput::List(vec!["/a.jpg".into()]),
        max_paths: 15,
        field: "urls",
        confirmed: false,
        not_before_ms: None,
        idempotency_key: None,
    };
    t.app.services.invalidations.submit(&actor, sub).await.unwrap().invalidation.id.to_string()
}

db_test!(owners_administer_and_staff_read_every_project, |t: TestApp| async move {
    let other = t.project("other").await;
    let id = submit(&t, &t.demo).await;
    for who in EVERYONE {
        let cookie = caller(&t, who, &other).await;
        let detail = t.server_fn_json(&cookie, "invalidation_detail", &[("project", "demo"), ("id", &id)]).await;
        let submit = t
            .server_fn_json(
                &cookie,
                "submit_invalidation",
                &[("project", "demo"), ("scope", "original"), ("urls", "/b.jpg")],
            )
            .await;
        let me = t.server_fn_json(&cookie, "me", &[]).await;
        let tokens: Vec<&str> =
            me["projects"].as_array().unwrap().iter().map(|p| p["token"].as_str().unwrap()).collect();
        match who {
            Who::Outsider => {
                assert_eq!(detail, json!("NotFound"), "{who:?}");
                assert_eq!(submit, json!("NotFound"), "{who:?}");
                assert_eq!(tokens, ["other"]);
            }
            Who::Staff | Who::Support => {
                assert_eq!(detail["row"]["id"], id, "{who:?}");
                assert_eq!(submit, json!("Forbidden"), "{who:?}");
            }
            _ => {
                assert_eq!(detail["row"]["id"], id, "{who:?}");
                assert!(submit.is_string() && submit != json!("Forbidden"), "{who:?}: {submit}");
            }
        }
        if matches!(who, Who::Owner | Who::Staff) {
            assert_eq!(tokens, ["demo", "other"], "{who:?} sees every project");
            assert_eq!(me["instance_role"], json!(format!("{who:?}").to_lowercase()));
        }
    }
});

db_test!(the_lookup_opens_any_visible_project_and_hides_the_rest, |t: TestApp| async move {
    let other = t.project("other").await;
    let theirs = submit(&t, &other).await;
    let pasted = format!("https://console.example/p/other/invalidation/{theirs}?x=1");
    for who in EVERYONE {
        let cookie = caller(&t, who, &t.project(&format!("p{}", who as u8)).await).await;
        let found = t.server_fn_json(&cookie, "locate_invalidation", &[("q", &pasted)]).await;
        let page = t
            .send(
                axum::http::Request::get(format!("/lookup?q={}", enc(&theirs)))
                    .header("host", "localhost")
                    .header("accept", "text/html")
                    .header("cookie", &cookie)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        if matches!(who, Who::Owner | Who::Staff) {
            assert_eq!(found, json!(format!("/p/other/invalidation/{theirs}")), "{who:?}");
            assert!(page.status().is_redirection(), "{who:?}: {}", page.status());
            assert_eq!(location(&page), format!("/p/other/invalidation/{theirs}"));
        } else {
            assert_eq!(found, json!("NotFound"), "{who:?} is not a member of `other`");
            assert_eq!(page.status(), StatusCode::NOT_FOUND, "{who:?}");
        }
    }
    let cookie = caller(&t, Who::Admin, &other).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    for q in [unknown.as_str(), "not an id", ""] {
        assert_eq!(t.server_fn_json(&cookie, "locate_invalidation", &[("q", q)]).await, json!("NotFound"), "{q:?}");
    }
    let mine = submit(&t, &t.demo).await;
    let found = t.server_fn_json(&cookie, "locate_invalidation", &[("q", &format!("  {mine}\n"))]).await;
    assert_eq!(found, json!(format!("/p/demo/invalidation/{mine}")));
    assert_eq!(t.get("/lookup?q=x", None).await.status(), StatusCode::SEE_OTHER, "sign in first");
});

db_test!(the_lookup_takes_the_start_of_an_id, |t: TestApp| async move {
    let other = t.project("other").await;
    let theirs = submit(&t, &other).await;
    // The first 8 characters, as support staff read them out.
    let short = theirs[..8].to_owned();
    for who in EVERYONE {
        let cookie = caller(&t, who, &t.project(&format!("q{}", who as u8)).await).await;
        let found = t.server_fn_json(&cookie, "lookup_id_prefix", &[("q", &short)]).await;
        let (status, location, body) = lookup_page(&t, &cookie, &short).await;
        if matches!(who, Who::Owner | Who::Staff) {
            assert_eq!(found["rows"][0]["id"], json!(theirs), "{who:?}: {found}");
            assert_eq!(found["sees_all"], json!(true));
            assert!(status.is_redirection(), "{who:?}: one match opens it ({status})");
            assert_eq!(location.as_deref(), Some(format!("/p/other/invalidation/{theirs}").as_str()));
        } else {
            assert_eq!(found["rows"], json!([]), "{who:?} is not a member of `other`: {found}");
            assert_eq!(status, StatusCode::NOT_FOUND, "{who:?}");
            let says = body.contains("No invalidation in your projects") && body.contains("has an ID starting with");
            assert!(says, "{who:?}: the answer is true for a member of other projects: {body}");
            assert!(body.contains(&short), "the query is shown back");
        }
    }
    // Several matches are listed, newest first; fewer than 8 characters is not a prefix search.
    // (Who::Outsider is an admin of the project `caller` is given.)
    let admin = caller(&t, Who::Outsider, &other).await;
    let more: Vec<String> = [submit(&t, &other).await, submit(&t, &other).await].into();
    let common: String = theirs.chars().zip(more[1].chars()).take_while(|(a, b)| a == b).map(|(a, _)| a).collect();
    if common.len() >= 8 {
        let found = t.server_fn_json(&admin, "lookup_id_prefix", &[("q", &common[..8])]).await;
        let ids: Vec<&str> = found["rows"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert!(ids.len() >= 2 && ids[0] == more[1], "newest first: {found}");
        let (status, _, body) = lookup_page(&t, &admin, &common[..8]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("prefix-matches") && body.contains(&more[1]), "{body}");
    }
    let short7 = t.server_fn_json(&admin, "lookup_id_prefix", &[("q", &theirs[..7])]).await;
    assert!(short7["Invalid"].is_array(), "{short7}");
});

/// `/lookup?q=…` as the browser loads it: status, redirect target, body.
async fn lookup_page(t: &TestApp, cookie: &str, q: &str) -> (StatusCode, Option<String>, String) {
    let resp = t
        .send(
            axum::http::Request::get(format!("/lookup?q={}", enc(q)))
                .header("host", "localhost")
                .header("accept", "text/html")
                .header("cookie", cookie)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    let status = resp.status();
    let location = resp.headers().get("location").map(|l| l.to_str().unwrap().to_owned());
    (status, location, body_text(resp).await)
}
