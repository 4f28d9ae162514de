//! Everything on the Settings page from the command line, as an operator
//! scripts it: `server project show/set` and `server target
//! add/list/show/edit/test/remove`, with JSON output, against the same
//! database the console uses (both dialects); every other listing's `--json`.

mod common;

use std::process::Output;

use common::recorder::Recorder;
use common::*;
use serde_json::Value;

fn server(t: &TestApp, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut all = vec![
        ("DATABASE_URL".to_owned(), t.db.url.clone()),
        ("APP__TARGETS__ALLOWED_NETWORKS".to_owned(), "127.0.0.0/8".to_owned()),
    ];
    all.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    binary::run(args, &all, &std::env::temp_dir())
}

#[track_caller]
fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

db_test!(project_settings_are_shown_and_set_with_the_pages_checks, |t: TestApp| async move {
    let shown = json(&server(&t, &["project", "show", "--token", "demo", "--json"], &[]));
    assert_eq!((shown["token"].as_str(), shown["soft_purge"].as_bool()), (Some("demo"), Some(false)));

    let set = [
        "project",
        "set",
        "--token",
        "demo",
        "--json",
        "soft_purge=true",
        "origin_hosts=img.example.com,cdn.example.com",
        "tag_rules=/img.example.com/products/* products",
        "retention_days=45",
        "sign_salt=a-long-signing-salt",
    ];
    let after = json(&server(&t, &set, &[]));
    assert_eq!(after["origin_hosts"], serde_json::json!(["img.example.com", "cdn.example.com"]));
    assert_eq!((after["soft_purge"].as_bool(), after["signing"].as_bool()), (Some(true), Some(true)));
    assert_eq!(after["retention_days"], 45);
    let stored = t.store.project_by_token("demo").await.unwrap();
    assert!(stored.edge.soft_purge && stored.edge.tag_rules.len() == 1, "in the database the console reads");

    // The operator is an instance owner: private origins too.
    let owner = json(&server(
        &t,
        &["project", "set", "--token", "demo", "--json", "private_origins_allowed=127.0.0.1:3003"],
        &[],
    ));
    assert_eq!(owner["private_origins_allowed"], serde_json::json!(["127.0.0.1:3003"]));

    // From a JSON document on standard input is the same as the pairs.
    let env = [("DATABASE_URL".to_owned(), t.db.url.clone())];
    let mut child = binary::command(
        &["project", "set", "--token", "demo", "--from-json", "-", "--json"],
        &env,
        &std::env::temp_dir(),
    )
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(br#"{"custom_host": null, "verify": true}"#).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(json(&out)["verify"], true);

    // Every bad value named, exit 1, nothing changed.
    let bad = server(&t, &["project", "set", "--token", "demo", "max_age_secs=-5", "origin_scheme=ftp"], &[]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--max_age_secs") && stderr.contains("--origin_scheme"), "{stderr}");
    let unknown = server(&t, &["project", "set", "--token", "demo", "colour=blue"], &[]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("colour: not a project setting"));
    let again = json(&server(&t, &["project", "show", "--token", "demo", "--json"], &[]));
    assert_eq!(again["max_age_secs"], after["max_age_secs"]);
    let plain = server(&t, &["project", "show", "--token", "demo"], &[]);
    let plain = String::from_utf8(plain.stdout).unwrap();
    assert!(plain.lines().any(|l| l.starts_with("soft_purge") && l.ends_with("true")), "{plain}");
    assert!(!plain.contains("a-long-signing-salt") && !again.to_string().contains("a-long-signing-salt"));

    let listed = json(&server(&t, &["project", "list", "--json"], &[]));
    assert!(listed.as_array().unwrap().iter().any(|p| p["token"] == "demo"));
});

db_test!(targets_are_added_edited_tested_and_removed, |t: TestApp| async move {
    let recorder = Recorder::start().await;
    let url = recorder.url("/_purge");
    let secret = [("IMGFLUSH_TARGET_SECRET", "a-node-secret-of-length")];
    let add = ["target", "add", "--project", "demo", "--kind", "varnish", "--name", "node-a", "--url", &url];
    let out = server(&t, &add, &secret);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let edit = ["target", "edit", "--project", "demo", "--name", "node-a", "--rename", "node-b", "--json"];
    let edited = json(&server(&t, &edit, &[]));
    assert_eq!((edited["name"].as_str(), edited["secret_set"].as_bool()), (Some("node-b"), Some(true)));
    let listed = json(&server(&t, &["target", "list", "--project", "demo", "--json"], &[]));
    assert!(listed.as_array().unwrap().iter().any(|t| t["name"] == "node-b"), "{listed}");
    assert!(!listed.to_string().contains("a-node-secret-of-length"));
    let shown = json(&server(&t, &["target", "show", "--project", "demo", "--name", "node-b", "--json"], &[]));
    assert_eq!(shown["kind"], "varnish");

    let tested = server(&t, &["target", "test", "--project", "demo", "--name", "node-b"], &[]);
    let said = String::from_utf8_lossy(&tested.stdout);
    assert!(tested.status.success() && said.contains("node-b: ok"), "{said}");
    let kept = Some("a-node-secret-of-length");
    assert!(recorder.requests().iter().any(|r| r.header("x-purge-secret") == kept), "the secret was kept");
    recorder.respond_with(500);
    let failed = server(&t, &["target", "test", "--project", "demo", "--name", "node-b"], &[]);
    assert_eq!(failed.status.code(), Some(1), "a failed test fails the command");

    let bad = server(&t, &["target", "edit", "--project", "demo", "--name", "node-b", "--url", "ftp://x"], &[]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--url"), "{}", String::from_utf8_lossy(&bad.stderr));
    let gone = server(&t, &["target", "remove", "--project", "demo", "--name", "node-b"], &[]);
    assert!(gone.status.success());
    let missing = server(&t, &["target", "show", "--project", "demo", "--name", "node-b"], &[]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no target named `node-b`"));
});

db_test!(every_listing_prints_json, |t: TestApp| async move {
    let add =
        ["key", "add", "--project", "demo", "--name", "deploy-bot", "--role", "editor", "--expires-in-days", "30"];
    let out = server(&t, &add, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let secret = String::from_utf8(out.stdout).unwrap().lines().last().unwrap().to_owned();
    let keys = json(&server(&t, &["key", "list", "--project", "demo", "--json"], &[]));
    let key = keys.as_array().unwrap().iter().find(|k| k["name"] == "deploy-bot").expect("the new key is listed");
    assert_eq!((key["role"].as_str(), key["state"].as_str()), (Some("editor"), Some("active")), "{key}");
    assert!(key["prefix"].as_str().unwrap().starts_with("imf_") && key["expires"].is_string(), "{key}");
    assert!(!keys.to_string().contains(&secret), "the secret is never listed");

    let audit = json(&server(&t, &["audit", "--project", "demo", "--json", "--limit", "5"], &[]));
    let created = audit.as_array().unwrap().iter().find(|e| e["action"] == "key.created").expect("key.created");
    assert_eq!(created["project"], "demo");
    assert!(created["detail"].as_str().unwrap().contains("deploy-bot") && created["at"].is_string(), "{created}");

    let providers = json(&server(&t, &["sso", "list", "--json"], &[]));
    assert_eq!(providers, serde_json::json!([]));
});
