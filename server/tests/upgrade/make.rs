//! The fixture generator: today's code, through its services and its
//! worker, makes a database holding a bit of everything (see
//! `fixtures/upgrade/README.md`). Run by the ignored test `make_fixture`.

use std::time::Duration;

use serde_json::{json, Value};

use super::common::recorder::Recorder;
use super::common::TestApp;
use imgflush::backend::invalidations::Submission;
use imgflush::backend::now_ms;
use imgflush::backend::store::{JobChange, LeaseToken, NewProject, ProjectSettingsUpdate};
use imgflush::backend::targets::TargetInput;
use imgflush::backend::worker::WorkerConfig;
use imgflush::backend::{Actor, Services};
use imgflush::domain::key_limits::KeyLimits;
use imgflush::domain::{InstanceRole, InvalidationId, Role, Status};

/// The credential key the fixtures' sealed credentials are sealed under.
pub const SECRETS_KEY: &str = "6Jv0PdD5mFLR2hV4m0e7Vq9mTqk3m8s1oX5cW2bY4nA=";
/// Users and their passwords (argon2 hashes in the database).
pub const USERS: [(&str, &str); 4] = [
    ("owner@fixture.test", "fixture owner password 1"),
    ("approver@fixture.test", "fixture approver password 2"),
    ("editor@fixture.test", "fixture editor password 3"),
    ("support@fixture.test", "fixture support password 4"),
];
/// The Cloudflare target's credentials, sealed in the database.
pub const CF_TOKEN: &str = "fixture-cloudflare-api-token";
pub const CF_ZONE: &str = "023e105f4ecef8ad9ca31a8372d0c353";

fn target(kind: &str, name: &str, url: String, secret: Option<&str>, settings: &[(&str, &str)]) -> TargetInput {
    let settings = settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    TargetInput { kind: kind.into(), name: name.into(), url, secret: secret.map(Into::into), settings }
}

async fn submit(s: &Services, actor: &Actor, path: &str) -> InvalidationId {
    let sub = Submission::from_api("original", Some(vec![path.to_owned()]), None).unwrap();
    s.invalidations.submit(actor, sub).await.unwrap().invalidation.id
}

async fn settle(t: &TestApp, id: InvalidationId, want: Status) {
    for _ in 0..400 {
        let inv = t.store.invalidation(t.demo.id, id).await.unwrap();
        if inv.status.is_final() {
            assert_eq!(inv.status, want, "{id}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{id} never reached {want:?}");
}

/// Fills `t`'s database; answers the API keys made (project, name, secret, revoked).
pub async fn fill(t: &TestApp) -> Value {
    let s = &t.app.services;
    let mut users = Vec::new();
    for (email, password) in USERS {
        users.push(s.accounts.create(email, password.to_owned()).await.unwrap());
    }
    s.accounts.set_instance_role(&users[0], Some(InstanceRole::Owner)).await.unwrap();
    for (token, name, host) in [("shop", "Shop", "img.shop.test"), ("blog", "Blog", "img.blog.test")] {
        let new = NewProject { token: token.into(), name: name.into(), origin_hosts: vec![host.into()] };
        s.projects.create(&new).await.unwrap();
    }
    let roles = [
        ("demo", [Some(Role::Admin), Some(Role::Admin), Some(Role::Editor), None]),
        ("shop", [Some(Role::Admin), None, None, Some(Role::Support)]),
        ("blog", [Some(Role::Admin), None, Some(Role::Support), None]),
    ];
    for (token, per_user) in roles {
        let op = s.projects.operator_actor(token).await.unwrap();
        for (user, role) in users.iter().zip(per_user) {
            if let Some(role) = role {
                s.projects.set_member(&op, user.id, role).await.unwrap();
            }
        }
    }
    let owner = |token: &'static str| s.projects.actor_for(&users[0], token);
    let (edge, varnish) = (Recorder::start().await, Recorder::start().await);
    let demo_targets = [
        target("edge", "edge-1", edge.url("/_purge"), Some("fixture-edge-secret"), &[]),
        target("varnish", "varnish-1", varnish.url("/"), None, &[]),
    ];
    for input in &demo_targets {
        s.targets.add(&owner("demo").await.unwrap(), input).await.unwrap();
    }
    let cf = [("zone_id", CF_ZONE), ("api_token", CF_TOKEN)];
    let cf = target("cloudflare", "cf", "http://127.0.0.1:9/client/v4".into(), None, &cf);
    s.targets.add(&owner("shop").await.unwrap(), &cf).await.unwrap();
    let blog_varnish = target("varnish", "varnish-blog", "http://127.0.0.1:9/".into(), None, &[]);
    s.targets.add(&owner("blog").await.unwrap(), &blog_varnish).await.unwrap();
    s.projects.set_retention(&owner("shop").await.unwrap(), "30").await.unwrap();
    s.projects.set_retention(&owner("blog").await.unwrap(), "365").await.unwrap();

    let mut keys = Vec::new();
    let (_, ci) = s.keys.create(&owner("demo").await.unwrap(), "ci", "editor").await.unwrap();
    keys.push(json!({"project": "demo", "name": "ci", "secret": ci, "revoked": false}));
    let limits = KeyLimits::parse("/img.shop.test/products/*", "", &[]).unwrap();
    let shop = owner("shop").await.unwrap();
    let (_, deploy) = s.keys.create_limited(&shop, "deploy", "editor", limits).await.unwrap();
    keys.push(json!({"project": "shop", "name": "deploy", "secret": deploy, "revoked": false}));
    let blog = owner("blog").await.unwrap();
    let (old, old_secret) = s.keys.create(&blog, "old", "support").await.unwrap();
    s.keys.revoke(&blog, old.id).await.unwrap();
    keys.push(json!({"project": "blog", "name": "old", "secret": old_secret, "revoked": true}));

    // Through the worker: DONE, then ERROR_CDN_NODE (a node fails), then ERROR (the edge fails).
    let editor = s.projects.actor_for(&users[2], "demo").await.unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    let cfg = WorkerConfig {
        id: "fixture".into(),
        poll: Duration::from_millis(50),
        max_attempts: 2,
        backoff: Duration::from_millis(20),
        cdn_repeat: None,
        ..t.app.config.worker_config()
    };
    let worker = tokio::spawn(t.app.worker(cfg).run(cancel.clone()));
    settle(t, submit(s, &editor, "/sample.li/done.jpg").await, Status::Done).await;
    varnish.respond_with(503);
    settle(t, submit(s, &editor, "/sample.li/cdn-node.jpg").await, Status::ErrorCdnNode).await;
    edge.respond_with(500);
    settle(t, submit(s, &editor, "/sample.li/error.jpg").await, Status::Error).await;
    cancel.cancel();
    worker.await.unwrap();

    // Claimed by a worker that stopped after its first step, as the worker
    // records it (PREPARING, a pending row per target).
    let preparing = submit(s, &editor, "/sample.li/preparing.jpg").await;
    let claimed = t.store.claim("fixture-worker", &LeaseToken::new(), now_ms(), 60_000).await.unwrap().unwrap();
    assert_eq!(claimed.job.id, preparing);
    let note = Some("claimed by fixture-worker".to_owned());
    let targets = t.store.list_targets(t.demo.id).await.unwrap();
    let first = vec![
        JobChange::Status { status: Status::Preparing, note, at_ms: now_ms() },
        JobChange::Targets { targets, at_ms: now_ms() },
    ];
    t.store.apply(preparing, &claimed.lease, first).await.unwrap();
    submit(s, &editor, "/sample.li/received.jpg").await;
    let cancelled = submit(s, &editor, "/sample.li/cancelled.jpg").await;
    s.invalidations.cancel(&editor, cancelled).await.unwrap();
    let at = chrono::Utc::now() + chrono::Duration::days(300);
    let later = Submission::from_api("original", Some(vec!["/sample.li/scheduled.jpg".into()]), None).unwrap();
    s.invalidations.submit(&editor, later.not_before(Some(at))).await.unwrap();

    // The two-person rule on: scope All waits for a second admin.
    let demo = owner("demo").await.unwrap();
    let mut edge_settings = demo.project.edge.clone();
    edge_settings.approval_for_all = true;
    let p = &demo.project;
    let update = ProjectSettingsUpdate {
        name: p.name.clone(),
        origin_hosts: p.origin_hosts.clone(),
        max_age_secs: p.max_age_secs,
        s_maxage_secs: p.s_maxage_secs,
        edge: edge_settings,
    };
    s.projects.operator_update(&demo, &update).await.unwrap();
    let all = Submission::from_api("all", None, None).unwrap();
    let waiting = s.invalidations.submit(&owner("demo").await.unwrap(), all).await.unwrap();
    assert_eq!(waiting.invalidation.status, Status::AwaitingApproval);
    json!(keys)
}

/// The fixture directory's README: what it holds and every secret in it.
pub fn readme(m: &Value) -> String {
    let s = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
    let mut out = format!(
        "# Upgrade fixture {}\n\nMade by the code of that day with\n\n    TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\\n      \
         cargo test -p server --test upgrade -- --ignored make_fixture\n\n\
         Test data only: the secrets below exist nowhere else.\n\n\
         - `imgflush.db`: SQLite, written by `server backup`'s code (one self-contained file).\n\
         - `imgflush.sql`: PostgreSQL, `pg_dump --no-owner --no-privileges`; load it into an empty\n  \
         database with `psql -X -v ON_ERROR_STOP=1 -d URL -f imgflush.sql`.\n\
         - `fixture.json`: what `server/tests/upgrade.rs` checks, per dialect.\n\n\
         ## Credential key\n\n`secrets.key` (`IMGFLUSH_SECRETS_KEY`): `{}`\n\n",
        s(&m["made"]),
        s(&m["secrets_key"])
    );
    for (place, creds) in m["credentials"].as_object().into_iter().flatten() {
        out += &format!("It seals the credentials of target `{place}`: `{creds}`.\n\n");
    }
    out += "## Users (argon2 hashes in the database)\n\n| e-mail | password |\n|---|---|\n";
    for u in m["users"].as_array().into_iter().flatten() {
        out += &format!("| {} | `{}` |\n", s(&u["email"]), s(&u["password"]));
    }
    for dialect in ["sqlite", "postgres"] {
        out += &format!("\n## {dialect}: API keys\n\n| project | name | revoked | secret |\n|---|---|---|---|\n");
        for k in m[dialect]["keys"].as_array().into_iter().flatten() {
            out +=
                &format!("| {} | {} | {} | `{}` |\n", s(&k["project"]), s(&k["name"]), k["revoked"], s(&k["secret"]));
        }
    }
    out += "\n## Projects\n\n| project | retention (days) | targets | members | audit events | invalidations |\n|---|---|---|---|---|---|\n";
    for p in m["sqlite"]["snapshot"]["projects"].as_array().into_iter().flatten() {
        let list = |key: &str, f: &dyn Fn(&Value) -> String| {
            p[key].as_array().into_iter().flatten().map(f).collect::<Vec<_>>().join(", ")
        };
        let targets = list("targets", &|t| {
            format!("{} {}{}", s(&t["kind"]), s(&t["name"]), if t["sealed"] == true { " (sealed)" } else { "" })
        });
        let members = list("members", &|u| format!("{} {}", s(&u["email"]), s(&u["role"])));
        let invalidations = list("invalidations", &|d| {
            let i = &d["invalidation"];
            let when = if i["not_before"].is_null() { String::new() } else { " scheduled".into() };
            format!(
                "{} {}{when}",
                s(&i["status"]),
                i["paths"].as_array().and_then(|p| p.first()).map_or("(all)".into(), s)
            )
        });
        let audit = p["audit"].as_array().map_or(0, Vec::len);
        out += &format!(
            "| {} | {} | {targets} | {members} | {audit} | {invalidations} |\n",
            s(&p["token"]),
            p["retention_days"]
        );
    }
    out
}
