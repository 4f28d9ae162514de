//! Upgrades: each fixture under `fixtures/upgrade/` is a database an earlier
//! release made (SQLite file and PostgreSQL dump, see the README there). It
//! opens with today's code (the migrations apply) and keeps everything:
//! users sign in with their passwords, API keys authenticate (a revoked one
//! does not), sealed credentials open with the recorded key, invalidations
//! keep their status, history and target results, the audit trail and the
//! retention survive. Then the console binary starts on it and serves it:
//! a recorded user signs in through `/login`, a recorded key lists its
//! project's invalidations over `/api/v1`.

mod common;
#[path = "upgrade/make.rs"]
mod make;
#[path = "upgrade/snapshot.rs"]
mod snapshot;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Value};

use common::{Db, TestApp, TestDb};
use imgflush::backend::limits::Limits;
use imgflush::backend::store::{self, maintenance};
use imgflush::backend::Services;
use server::config::{Config, Secret};
use snapshot::{keeps, snapshot};

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/upgrade")
}

/// Every fixture directory (one per release), oldest first.
fn fixtures() -> Vec<(PathBuf, Value)> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures_root())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("fixture.json").is_file())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no fixture under {}", fixtures_root().display());
    dirs.into_iter()
        .map(|d| {
            let manifest = serde_json::from_str(&std::fs::read_to_string(d.join("fixture.json")).unwrap()).unwrap();
            (d, manifest)
        })
        .collect()
}

/// Opens `url` with today's code and checks it against the fixture's record.
async fn check(url: &str, manifest: &Value, dialect: &str, name: &str) {
    let connected = store::connect(url).await.unwrap_or_else(|e| panic!("{name}: today's code cannot open it: {e}"));
    let status = maintenance::migration_status(url).await.unwrap();
    assert!(status.pending.is_empty() && status.problem().is_none(), "{name}: {status:?}");
    let mut config = Config::with_database(url);
    config.secrets.key = Some(Secret::new(manifest["secrets_key"].as_str().unwrap()));
    let vault = config.vault();
    let limits = Limits::in_memory(config.limit_settings());
    let services = Services::new(connected.store.clone(), Arc::new(tokio::sync::Notify::new()), limits)
        .with_target_network(config.target_network())
        .with_vault(vault.clone());

    let now = snapshot(&services, &connected.store).await;
    let recorded = &manifest[dialect]["snapshot"];
    if let Err(difference) = keeps(&now, recorded, name) {
        panic!("{name} ({dialect}) lost something in the upgrade: {difference}");
    }
    let projects = recorded["projects"].as_array().unwrap();
    let statuses: Vec<&str> = projects
        .iter()
        .flat_map(|p| p["invalidations"].as_array().unwrap())
        .map(|d| d["invalidation"]["status"].as_str().unwrap())
        .collect();
    for s in ["RECEIVED", "PREPARING", "DONE", "ERROR", "ERROR_CDN_NODE", "CANCELLED", "AWAITING_APPROVAL"] {
        assert!(statuses.contains(&s), "{name}: the fixture holds no {s} invalidation");
    }
    let scheduled = projects.iter().flat_map(|p| p["invalidations"].as_array().unwrap());
    assert!(scheduled.into_iter().any(|d| !d["invalidation"]["not_before"].is_null()), "{name}: a scheduled one");
    assert!(projects.iter().all(|p| !p["audit"].as_array().unwrap().is_empty()), "{name}: audit trails");

    for user in manifest["users"].as_array().unwrap() {
        let (email, password) = (user["email"].as_str().unwrap(), user["password"].as_str().unwrap());
        services.accounts.sign_in(email, password, None).await.unwrap_or_else(|e| panic!("{name}: {email}: {e}"));
    }
    for key in manifest[dialect]["keys"].as_array().unwrap() {
        let found = services.keys.authenticate(key["secret"].as_str().unwrap()).await;
        match key["revoked"].as_bool().unwrap() {
            true => assert!(found.is_err(), "{name}: revoked key {key} still authenticates"),
            false => {
                let caller = found.unwrap_or_else(|e| panic!("{name}: key {}: {e}", key["name"]));
                assert_eq!(caller.actor.project.token, key["project"].as_str().unwrap());
            }
        }
    }
    let mut opened = 0;
    for (where_, plain) in manifest["credentials"].as_object().unwrap() {
        let (token, target) = where_.split_once('/').unwrap();
        let actor = services.projects.operator_actor(token).await.unwrap();
        let targets = services.targets.list(&actor).await.unwrap();
        let sealed = targets.iter().find(|t| t.name == target).and_then(|t| t.credentials.clone()).unwrap();
        let open = vault.open(&sealed).unwrap_or_else(|e| panic!("{name}: {where_}: {e}"));
        for (k, v) in plain.as_object().unwrap() {
            assert_eq!(open.get(k), v.as_str(), "{name}: {where_} {k}");
        }
        opened += 1;
    }
    assert!(opened > 0, "{name}: no sealed credentials checked");
}

/// `server serve` on the upgraded database, as an operator restarts it.
/// Without its worker (the fixture's unfinished jobs name targets on ports
/// of the day it was made), and with every project keeping its history for
/// the longest retention: a start prunes what is older than a project's
/// retention, and the fixture's invalidations only get older.
async fn serves(url: &str, manifest: &Value, dialect: &str, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut env = common::binary::env_for(url, dir.path());
    env.push(("IMGFLUSH_SECRETS_KEY".into(), manifest["secrets_key"].as_str().unwrap().into()));
    let projects = manifest[dialect]["snapshot"]["projects"].as_array().unwrap();
    for token in projects.iter().map(|p| p["token"].as_str().unwrap()) {
        let set = ["project", "set", "--token", token, "retention_days=3650"];
        let out = common::binary::run_async(&set, &env, dir.path()).await;
        assert!(out.status.success(), "{name}: {}", common::binary::stderr(&out));
    }
    let console = common::binary::Console::start_with(&["serve", "--no-worker"], &env, dir.path()).await;
    for user in manifest["users"].as_array().unwrap() {
        console.sign_in(user["email"].as_str().unwrap(), user["password"].as_str().unwrap()).await;
    }
    // An active key of a project with invalidations lists every one of them.
    let recorded = |token: &Value| {
        let project = projects.iter().find(|p| &p["token"] == token);
        project.map(|p| p["invalidations"].as_array().unwrap().clone()).unwrap_or_default()
    };
    let keys = manifest[dialect]["keys"].as_array().unwrap();
    let key = keys.iter().find(|k| k["revoked"] == false && !recorded(&k["project"]).is_empty());
    let key = key.unwrap_or_else(|| panic!("{name}: no active key of a project with invalidations"));
    let url = console.url("/api/v1/invalidations?limit=100");
    let answer = reqwest::Client::new().get(&url).bearer_auth(key["secret"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(answer.status(), 200, "{name} ({dialect}): {url}");
    let listed: Value = answer.json().await.unwrap();
    let served: Vec<&str> =
        listed["invalidations"].as_array().unwrap().iter().filter_map(|i| i["id"].as_str()).collect();
    for d in recorded(&key["project"]) {
        let id = d["invalidation"]["id"].as_str().unwrap();
        assert!(served.contains(&id), "{name} ({dialect}): {id} is not served: {listed}");
    }
    console.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sqlite_fixture_opens_and_keeps_everything() {
    for (dir, manifest) in fixtures() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let tmp = tempfile::tempdir().unwrap();
        let copy = tmp.path().join("imgflush.db");
        std::fs::copy(dir.join("imgflush.db"), &copy).unwrap();
        let url = format!("sqlite://{}", copy.display());
        common::within_limit(check(&url, &manifest, "sqlite", &name)).await;
        common::within_limit(serves(&url, &manifest, "sqlite", &name)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_postgres_fixture_opens_and_keeps_everything() {
    for (dir, manifest) in fixtures() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let Some(db) = TestDb::create(Db::Postgres).await else {
            eprintln!("TEST_DATABASE_URL not set: PostgreSQL half skipped");
            return;
        };
        let dump = dir.join("imgflush.sql");
        let loaded = std::process::Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-f"])
            .arg(&dump)
            .output()
            .expect("psql (postgresql-client) loads the fixture's dump");
        assert!(loaded.status.success(), "{name}: psql: {}", String::from_utf8_lossy(&loaded.stderr));
        common::within_limit(check(&db.url, &manifest, "postgres", &name)).await;
        common::within_limit(serves(&db.url, &manifest, "postgres", &name)).await;
    }
}

/// The crate's version (root Cargo.toml) and today's date: the new fixture's directory.
fn todays_fixture() -> PathBuf {
    let cargo = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml")).unwrap();
    let version = cargo.lines().find_map(|l| l.strip_prefix("version = \"")).unwrap().trim_end_matches('"');
    fixtures_root().join(format!("{version}-{}", chrono::Utc::now().format("%Y-%m-%d")))
}

/// Makes this release's fixture (both dialects: TEST_DATABASE_URL must be
/// set): `cargo test -p server --test upgrade -- --ignored make_fixture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "makes a new fixture: see server/tests/fixtures/upgrade/README.md"]
async fn make_fixture() {
    let dir = todays_fixture();
    std::fs::create_dir_all(&dir).unwrap();
    let users: Vec<Value> = make::USERS.iter().map(|(e, p)| json!({"email": e, "password": p})).collect();
    let mut manifest = json!({
        "made": dir.file_name().unwrap().to_string_lossy(),
        "secrets_key": make::SECRETS_KEY,
        "users": users,
        "credentials": {"shop/cf": {"api_token": make::CF_TOKEN}},
    });
    for db in [Db::Sqlite, Db::Postgres] {
        let t = TestApp::with_config(db, |c| c.secrets.key = Some(Secret::new(make::SECRETS_KEY)))
            .await
            .expect("TEST_DATABASE_URL must be set: a fixture holds both dialects");
        let keys = make::fill(&t).await;
        let recorded = snapshot(&t.app.services, &t.store).await;
        let (dialect, file) = match db {
            Db::Sqlite => {
                maintenance::backup_sqlite(&t.db.url, &dir.join("imgflush.db"), true).await.unwrap();
                ("sqlite", "imgflush.db")
            }
            Db::Postgres => {
                let out = dir.join("imgflush.sql");
                let dumped = std::process::Command::new("pg_dump")
                    .args(["--no-owner", "--no-privileges", "--dbname", &t.db.url, "--file"])
                    .arg(&out)
                    .status()
                    .expect("pg_dump (postgresql-client)");
                assert!(dumped.success());
                ("postgres", "imgflush.sql")
            }
        };
        manifest[dialect] = json!({"file": file, "keys": keys, "snapshot": recorded});
    }
    std::fs::write(dir.join("fixture.json"), serde_json::to_string_pretty(&manifest).unwrap() + "\n").unwrap();
    std::fs::write(dir.join("README.md"), make::readme(&manifest)).unwrap();
    println!("wrote {}", dir.display());
}
