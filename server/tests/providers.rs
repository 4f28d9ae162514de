//! The CDN providers' purge drivers against emulators that check each
//! provider's contract (`emulators/`): Prism on Cloudflare's and Akamai's own
//! OpenAPI documents (a request the document does not allow is refused),
//! moto for CloudFront (SigV4 checked) behind a proxy that adds CloudFront's
//! in-progress state, reference rule and back-pressure, and fakes for Fastly
//! and Bunny written from their API references (no document is published
//! where these machines can reach it). A fault proxy adds 429s, 5xx and
//! refused tokens. Both databases.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::emulators::Emulator;
use common::*;
use imgflush::backend::invalidations::{PathsInput, Submission};
use imgflush::backend::store::TargetState;
use imgflush::backend::targets::TargetInput;
use imgflush::backend::vault::{self, Vault};
use imgflush::backend::worker::WorkerConfig;
use imgflush::backend::{Actor, ServiceError};
use imgflush::domain::cache_key::{path_key, tag_key, token_key};
use imgflush::domain::{InvalidationId, Role, Scope, Status};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const ZONE: &str = "023e105f4ecef8ad9ca31a8372d0c353";

fn with_key(c: &mut server::config::Config) {
    c.secrets.key = Some(server::config::Secret::new(KEY));
}

fn fast() -> WorkerConfig {
    WorkerConfig {
        id: "providers".into(),
        lease: Duration::from_secs(5),
        poll: Duration::from_millis(100),
        target_timeout: Duration::from_secs(5),
        max_attempts: 3,
        backoff: Duration::from_millis(20),
        provider_poll: Duration::from_millis(200),
        provider_wait: Duration::from_secs(20),
        ..Default::default()
    }
}

fn input(kind: &str, name: &str, url: String, settings: &[(&str, &str)]) -> TargetInput {
    let settings: BTreeMap<String, String> = settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    TargetInput { kind: kind.into(), name: name.into(), url, secret: None, settings }
}

/// Changes the demo project's edge settings (verify, soft purge, …).
async fn set_edge(t: &TestApp, change: impl FnOnce(&mut imgflush::backend::store::EdgeSettings)) {
    let mut edge = t.demo.edge.clone();
    change(&mut edge);
    let update = imgflush::backend::store::ProjectSettingsUpdate {
        name: t.demo.name.clone(),
        origin_hosts: t.demo.origin_hosts.clone(),
        max_age_secs: t.demo.max_age_secs,
        s_maxage_secs: t.demo.s_maxage_secs,
        edge,
    };
    t.store.update_project_settings(t.demo.id, &update).await.unwrap();
}

async fn admin(t: &TestApp) -> Actor {
    t.actor("admin@example.com", Role::Admin, &t.demo).await
}

async fn submit(t: &TestApp, scope: Scope, paths: &[&str]) -> InvalidationId {
    let editor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let paths = PathsInput::List(paths.iter().map(|p| p.to_string()).collect());
    let sub = Submission {
        scope,
        paths,
        max_paths: 15,
        field: "urls",
        confirmed: false,
        not_before_ms: None,
        idempotency_key: None,
    };
    t.app.services.invalidations.submit(&editor, sub).await.unwrap().invalidation.id
}

async fn settle(t: &TestApp, id: InvalidationId) -> Status {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let inv = t.store.invalidation(t.demo.id, id).await.unwrap();
        if inv.status.is_final() {
            return inv.status;
        }
        assert!(Instant::now() < deadline, "{id} never finished: {:?}", inv.status);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn detail(t: &TestApp, id: InvalidationId, name: &str) -> (TargetState, String) {
    let results = t.store.target_results(id).await.unwrap();
    let r = results.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no result for {name}: {results:?}"));
    (r.state, r.detail.clone().unwrap_or_default())
}

fn bodies(requests: &[Value], path: &str) -> Vec<Value> {
    requests
        .iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with(path)) && r["fault"].is_null())
        .map(|r| serde_json::from_str(r["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null))
        .collect()
}

db_test_cfg!(
    cloudflare_fastly_bunny_and_akamai_purge_every_variant_by_their_contracts,
    with_key,
    |t: TestApp| async move {
        let cf_prism = Emulator::start("prism_launch.py", &["--api", "cloudflare"]);
        let cf = cf_prism.behind_faults("cloudflare", &["--strip-prefix", "/client/v4"]);
        let ak_prism = Emulator::start("prism_launch.py", &["--api", "akamai"]);
        let ak = ak_prism.behind_faults(
            "akamai",
            &["--strip-prefix", "/ccu/v3", "--require-header", "Authorization=EG1-HMAC-SHA256 "],
        );
        let fastly = Emulator::start("fastly_fake.py", &["--key", "fastly-key", "--service", "SU1Z0isxPaozGVKXdv0eY"]);
        let bunny = Emulator::start("bunny_fake.py", &["--key", "bunny-key", "--zone", "12345"]);
        let admin = admin(&t).await;
        let targets = &t.app.services.targets;
        let cf_settings = [
            ("zone_id", ZONE),
            ("api_token", "cf-token"),
            ("plan", "enterprise"),
            ("public_url", "https://img.example.com"),
        ];
        targets.add(&admin, &input("cloudflare", "cf", cf.url("/client/v4"), &cf_settings)).await.unwrap();
        let ak_settings =
            [("client_token", "akab-client"), ("client_secret", "c2VjcmV0"), ("access_token", "akab-access")];
        targets.add(&admin, &input("akamai", "akamai", ak.url(""), &ak_settings)).await.unwrap();
        let fastly_settings = [("service_id", "SU1Z0isxPaozGVKXdv0eY"), ("api_token", "fastly-key")];
        targets.add(&admin, &input("fastly", "fastly", fastly.url(""), &fastly_settings)).await.unwrap();
        let bunny_settings =
            [("pull_zone_id", "12345"), ("access_key", "bunny-key"), ("public_url", "https://cdn.example.com")];
        targets.add(&admin, &input("bunny", "bunny", bunny.url(""), &bunny_settings)).await.unwrap();
        // Nothing the console stores or lists shows a credential.
        for target in targets.list(&admin).await.unwrap() {
            let shown = format!("{target:?} {}", target.credentials.as_ref().map_or("", |c| c.0.as_str()));
            for secret in ["cf-token", "c2VjcmV0", "akab-access", "fastly-key", "bunny-key"] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
        }

        let stop = CancellationToken::new();
        let worker = tokio::spawn(t.app.worker(fast()).run(stop.clone()));
        let paths = ["/sample.li/a.jpg", "/sample.li/b.jpg", "/sample.li/dir/*"];
        let id = submit(&t, Scope::Original, &paths).await;
        assert_eq!(settle(&t, id).await, Status::Done, "{:?}", t.store.target_results(id).await.unwrap());
        let keys = [path_key("demo", paths[0]), path_key("demo", paths[1])];

        // Cloudflare: the path keys as tags, the prefix on the public host, as Prism allowed them.
        let sent = bodies(&cf.requests().await, &format!("/client/v4/zones/{ZONE}/purge_cache"));
        assert_eq!(sent, [json!({ "tags": keys }), json!({ "prefixes": ["img.example.com/sample.li/dir/"] })]);
        let (state, note) = detail(&t, id, "cf").await;
        assert_eq!(state, TargetState::Ok, "{note}");
        assert!(note.contains("Cloudflare purge ID"), "{note}");
        let auth = cf.requests().await[0]["headers"]["authorization"].clone();
        assert_eq!(auth, "Bearer cf-token");

        // Akamai: EdgeGrid-signed deletes by tag (no prefix purge: the token's tag too).
        let sent = bodies(&ak.requests().await, "/ccu/v3/delete/tag/production");
        assert_eq!(sent, [json!({ "objects": [keys[0], keys[1], token_key("demo")] })]);
        let (state, note) = detail(&t, id, "akamai").await;
        assert_eq!(state, TargetState::Ok, "{note}");
        assert!(note.contains("estimated 5 s") && note.contains("whole token"), "{note}");

        // Fastly: surrogate keys in one call.
        let sent = bodies(&fastly.requests().await, "/service/SU1Z0isxPaozGVKXdv0eY/purge");
        assert_eq!(sent, [json!({ "surrogate_keys": [keys[0], keys[1], token_key("demo")] })]);

        // Bunny: one tag a call, the prefix as a wildcard URL on the public URL.
        let requests = bunny.requests().await;
        let tags = bodies(&requests, "/pullzone/12345/purgeCache");
        assert_eq!(tags, [json!({ "CacheTag": keys[0] }), json!({ "CacheTag": keys[1] })]);
        let wildcard: Vec<&str> =
            requests.iter().filter(|r| r["path"] == "/purge").filter_map(|r| r["query"].as_str()).collect();
        assert_eq!(wildcard, ["url=https%3A%2F%2Fcdn.example.com%2Fsample.li%2Fdir%2F*"]);

        // Scope All: the project's token, never the shared zones.
        let id = submit(&t, Scope::All, &[]).await;
        assert_eq!(settle(&t, id).await, Status::Done);
        let sent = bodies(&cf.requests().await, &format!("/client/v4/zones/{ZONE}/purge_cache"));
        assert_eq!(sent.last().unwrap(), &json!({ "tags": [token_key("demo")] }));
        let sent = bodies(&fastly.requests().await, "/service/SU1Z0isxPaozGVKXdv0eY/purge");
        assert_eq!(sent.last().unwrap(), &json!({ "surrogate_keys": [token_key("demo")] }));
        assert!(fastly.requests().await.iter().all(|r| r["path"] != "/service/SU1Z0isxPaozGVKXdv0eY/purge_all"));

        // Scope Tag: each provider purges the tags' project keys by its own contract.
        let id = submit(&t, Scope::Tag, &["products", "shoes"]).await;
        assert_eq!(settle(&t, id).await, Status::Done, "{:?}", t.store.target_results(id).await.unwrap());
        let tags = [tag_key("demo", "products"), tag_key("demo", "shoes")];
        let sent = bodies(&cf.requests().await, &format!("/client/v4/zones/{ZONE}/purge_cache"));
        assert_eq!(sent.last().unwrap(), &json!({ "tags": tags }));
        let sent = bodies(&ak.requests().await, "/ccu/v3/delete/tag/production");
        assert_eq!(sent.last().unwrap(), &json!({ "objects": tags }));
        let sent = bodies(&fastly.requests().await, "/service/SU1Z0isxPaozGVKXdv0eY/purge");
        assert_eq!(sent.last().unwrap(), &json!({ "surrogate_keys": tags }));
        let sent = bodies(&bunny.requests().await, "/pullzone/12345/purgeCache");
        assert_eq!(sent[sent.len() - 2..], [json!({ "CacheTag": tags[0] }), json!({ "CacheTag": tags[1] })]);
        stop.cancel();
        worker.await.unwrap();
    }
);

db_test_cfg!(provider_faults_wait_retry_or_fail_with_a_next_step, with_key, |t: TestApp| async move {
    let prism = Emulator::start("prism_launch.py", &["--api", "cloudflare"]);
    let cf = prism.behind_faults("cloudflare", &["--strip-prefix", "/client/v4"]);
    let admin = admin(&t).await;
    let settings = [("zone_id", ZONE), ("api_token", "cf-token"), ("plan", "enterprise")];
    t.app.services.targets.add(&admin, &input("cloudflare", "cf", cf.url("/client/v4"), &settings)).await.unwrap();
    let stop = CancellationToken::new();
    let worker = tokio::spawn(t.app.worker(fast()).run(stop.clone()));

    // A 429 with Retry-After is waited out, not an error; two 500s are retried.
    cf.fault(json!([{"mode": "429", "retry_after": 1, "times": 1}, {"mode": "500", "times": 2}])).await;
    let started = Instant::now();
    let id = submit(&t, Scope::Original, &["/sample.li/a.jpg"]).await;
    assert_eq!(settle(&t, id).await, Status::Done);
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After was honoured");
    let requests = cf.requests().await;
    let faults: Vec<&str> = requests.iter().filter_map(|r| r["fault"].as_str()).collect();
    assert_eq!(faults, ["429", "500", "500"]);
    let (state, note) = detail(&t, id, "cf").await;
    assert_eq!(state, TargetState::Ok, "{note}");

    // A refused token ends the target at once with the provider's words and a next step.
    cf.fault(json!({"mode": "refuse_token", "times": 5})).await;
    let before = cf.requests().await.len();
    let id = submit(&t, Scope::Original, &["/sample.li/b.jpg"]).await;
    assert_eq!(settle(&t, id).await, Status::ErrorCdnNode);
    let (state, note) = detail(&t, id, "cf").await;
    assert_eq!(state, TargetState::Error);
    assert!(
        note.starts_with("HTTP 403: Authentication error (10000)") && note.contains("API token was refused"),
        "{note}"
    );
    assert_eq!(cf.requests().await.len(), before + 1, "a refused token is not retried");
    cf.fault(json!({"mode": "none"})).await;

    // Retry re-purges the failed target once its token is fixed (the fault is gone).
    let editor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    t.app.services.invalidations.retry(&editor, id).await.unwrap();
    assert_eq!(settle(&t, id).await, Status::Done);
    let (state, note) = detail(&t, id, "cf").await;
    assert_eq!(state, TargetState::Ok, "{note}");
    stop.cancel();
    worker.await.unwrap();
});

db_test_cfg!(cloudfront_finishes_later_and_the_worker_follows_it, with_key, |t: TestApp| async move {
    let aws = Emulator::start("moto_launch.py", &["--proxy-port", "0", "--polls", "2"]);
    let (key_id, secret, dist) = (aws.extra[0].clone(), aws.extra[1].clone(), aws.extra[2].clone());
    let admin = admin(&t).await;
    let settings = [
        ("distribution_id", dist.as_str()),
        ("access_key_id", key_id.as_str()),
        ("secret_access_key", secret.as_str()),
    ];
    let target =
        t.app.services.targets.add(&admin, &input("cloudfront", "cloudfront", aws.url(""), &settings)).await.unwrap();
    let answer = t.app.services.targets.test(&admin, target.id).await.unwrap();
    assert!(answer.starts_with(&format!("ok: the key reaches distribution {dist}")), "{answer}");

    let stop = CancellationToken::new();
    let worker = tokio::spawn(t.app.worker(fast()).run(stop.clone()));
    let id = submit(&t, Scope::Original, &["/sample.li/a.jpg", "/sample.li/dir/*"]).await;
    // In progress first, shown on the target's row while the worker polls.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let results = t.store.target_results(id).await.unwrap();
        if let Some(r) = results.first() {
            let note = r.detail.clone().unwrap_or_default();
            if r.state == TargetState::Pending && note.contains("InProgress") {
                break;
            }
            assert!(r.state == TargetState::Pending, "{:?} {note}", r.state);
        }
        assert!(Instant::now() < deadline, "never shown in progress: {results:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(settle(&t, id).await, Status::Done);
    let (state, note) = detail(&t, id, "cloudfront").await;
    assert_eq!(state, TargetState::Ok);
    assert!(note.contains("2 paths sent") && note.ends_with("Completed"), "{note}");
    // Paths are counted per distribution and month: Settings and /metrics show them.
    assert_eq!(t.app.services.targets.usage(&admin).await.unwrap(), [(target.id, 2)]);
    let metrics = server::metrics::ConsoleMetrics::new().render(&t.store).await;
    let line = format!("imgflush_cloudfront_paths_this_month{{distribution=\"{dist}\"}} 2");
    assert!(metrics.contains(&line), "{line} not in {metrics}");

    // A wrong secret is refused by moto's signature check: an error with its next step.
    let wrong =
        [("distribution_id", dist.as_str()), ("access_key_id", key_id.as_str()), ("secret_access_key", "wrong")];
    let bad = t.app.services.targets.add(&admin, &input("cloudfront", "bad", aws.url(""), &wrong)).await.unwrap();
    let answer = t.app.services.targets.test(&admin, bad.id).await.unwrap();
    assert!(answer.contains("SignatureDoesNotMatch") && answer.contains("access key was refused"), "{answer}");
    t.app.services.targets.remove(&admin, bad.id).await.unwrap();

    // CloudFront has no tags: with no edge to list the tagged paths, the
    // whole project goes (more than asked, never less), and the row says so.
    let id = submit(&t, Scope::Tag, &["products"]).await;
    assert_eq!(settle(&t, id).await, Status::Done);
    let (state, note) = detail(&t, id, "cloudfront").await;
    assert_eq!(state, TargetState::Ok);
    assert!(note.starts_with("CloudFront has no tag purge") && note.contains("whole project"), "{note}");
    stop.cancel();
    worker.await.unwrap();
});

db_test_cfg!(test_buttons_read_the_zone_service_and_pull_zone, with_key, |t: TestApp| async move {
    let fastly = Emulator::start("fastly_fake.py", &["--key", "fastly-key", "--service", "SU1Z0isxPaozGVKXdv0eY"]);
    let bunny = Emulator::start("bunny_fake.py", &["--key", "bunny-key", "--zone", "12345"]);
    let admin = admin(&t).await;
    let targets = &t.app.services.targets;
    let f = targets
        .add(
            &admin,
            &input(
                "fastly",
                "fastly",
                fastly.url(""),
                &[("service_id", "SU1Z0isxPaozGVKXdv0eY"), ("api_token", "fastly-key")],
            ),
        )
        .await
        .unwrap();
    assert!(targets.test(&admin, f.id).await.unwrap().starts_with("ok: the token reaches service"));
    let unknown = targets
        .add(&admin, &input("fastly", "other", fastly.url(""), &[("service_id", "nope"), ("api_token", "fastly-key")]))
        .await
        .unwrap();
    let answer = targets.test(&admin, unknown.id).await.unwrap();
    assert!(answer.starts_with("failed: HTTP 404") && answer.contains("check the Service ID"), "{answer}");
    let b = targets
        .add(&admin, &input("bunny", "bunny", bunny.url(""), &[("pull_zone_id", "12345"), ("access_key", "wrong")]))
        .await
        .unwrap();
    let answer = targets.test(&admin, b.id).await.unwrap();
    assert!(answer.starts_with("failed: HTTP 401") && answer.contains("API key was refused"), "{answer}");
    // Editing keeps the credential unless replaced; the kind stays.
    let mut edit = input("bunny", "bunny", bunny.url(""), &[("pull_zone_id", "12345"), ("access_key", "bunny-key")]);
    targets.edit(&admin, b.id, &edit).await.unwrap();
    assert!(targets.test(&admin, b.id).await.unwrap().starts_with("ok: the API key reaches pull zone"));
    edit.settings.remove("access_key");
    edit.name = "bunny-renamed".into();
    targets.edit(&admin, b.id, &edit).await.unwrap();
    assert!(targets.test(&admin, b.id).await.unwrap().starts_with("ok:"), "the key was kept");
    edit.kind = "fastly".into();
    assert!(matches!(targets.edit(&admin, b.id, &edit).await, Err(ServiceError::Invalid(e)) if e[0].field == "kind"));
    // Editors cannot read or test credentials-bearing targets' answers.
    let editor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    assert!(matches!(targets.test(&editor, b.id).await, Err(ServiceError::Forbidden(_))));
});

db_test_cfg!(stored_credentials_need_their_key_at_start_and_rotate, with_key, |t: TestApp| async move {
    let admin = admin(&t).await;
    let settings = [("pull_zone_id", "12345"), ("access_key", "bunny-key")];
    t.app
        .services
        .targets
        .add(&admin, &input("bunny", "bunny", "https://api.bunny.net".into(), &settings))
        .await
        .unwrap();
    let old = Vault::from_key_text(KEY).unwrap();
    assert_eq!(vault::check_stored(&t.store, &old).await, Ok(1));
    let refused = vault::check_stored(&t.store, &Vault::none()).await.unwrap_err();
    assert!(refused.contains("no credential key is configured"), "{refused}");
    let new = Vault::from_key_text(&Vault::new_key_text()).unwrap();
    assert!(vault::check_stored(&t.store, &new).await.unwrap_err().contains("sealed under key"));
    assert_eq!(vault::rotate(&t.store, &old, &new).await, Ok(1));
    assert_eq!(vault::check_stored(&t.store, &new).await, Ok(1));
    let sealed = t.store.sealed_credentials().await.unwrap();
    assert_eq!(new.open(&sealed[0].1).unwrap().get("access_key"), Some("bunny-key"));
});

db_test_cfg!(an_account_rate_limit_holds_across_jobs_without_failing_any, with_key, |t: TestApp| async move {
    let prism = Emulator::start("prism_launch.py", &["--api", "cloudflare"]);
    let cf = prism.behind_faults("cloudflare", &["--strip-prefix", "/client/v4"]);
    let admin = admin(&t).await;
    // The Free plan: 5 calls a minute, so one every 12.6 s (12 s and 5% to spare).
    let settings = [("zone_id", ZONE), ("api_token", "cf-token"), ("plan", "free")];
    t.app.services.targets.add(&admin, &input("cloudflare", "cf", cf.url("/client/v4"), &settings)).await.unwrap();
    let stop = CancellationToken::new();
    let worker =
        tokio::spawn(t.app.worker(WorkerConfig { provider_wait: Duration::from_secs(2), ..fast() }).run(stop.clone()));
    let first = submit(&t, Scope::Original, &["/sample.li/a.jpg"]).await;
    // The second comes once the first has made the account's call: its own
    // call would wait 12 s, more than it may (2 s), so its job gives way.
    let deadline = Instant::now() + Duration::from_secs(20);
    while cf.requests().await.is_empty() {
        assert!(Instant::now() < deadline, "the first call never came");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ids = [first, submit(&t, Scope::Original, &["/sample.li/b.jpg"]).await];
    let mut waited = false;
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let mut done = 0;
        for id in ids {
            let inv = t.store.invalidation(t.demo.id, id).await.unwrap();
            assert!(!inv.status.is_final() || inv.status == Status::Done, "{:?} {:?}", inv.status, inv.error);
            done += usize::from(inv.status == Status::Done);
            let results = t.store.target_results(id).await.unwrap();
            waited |= results
                .iter()
                .any(|r| r.detail.as_deref().is_some_and(|d| d.contains("waiting for the provider's rate limit")));
        }
        if done == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "never both done");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(waited, "the second job said why it waited");
    let calls: Vec<i64> = cf.requests().await.iter().filter_map(|r| r["ts_ms"].as_i64()).collect();
    assert_eq!(calls.len(), 2, "one call per job, none refused or repeated");
    assert!(calls[1] - calls[0] >= 12_500, "the account's 12.6 s spacing held: {calls:?}");
    stop.cancel();
    worker.await.unwrap();
});

/// A CDN's answers as viewers get them through its public URL: a `MISS`
/// (or `HIT` with an old `Age`), as each provider says it.
async fn public_cdn(answer: &'static [(&'static str, &'static str)]) -> std::net::SocketAddr {
    let app = axum::Router::new().fallback(move || async move {
        let mut resp = axum::response::Response::new(axum::body::Body::from("image"));
        for (k, v) in answer {
            resp.headers_mut().insert(*k, v.parse().unwrap());
        }
        resp
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

db_test_cfg!(a_cdn_purge_is_verified_through_its_public_url, with_key, |t: TestApp| async move {
    let fastly = Emulator::start("fastly_fake.py", &["--key", "fastly-key", "--service", "SU1Z0isxPaozGVKXdv0eY"]);
    let fresh = public_cdn(&[("x-cache", "MISS, MISS")]).await;
    let stale = public_cdn(&[("cf-cache-status", "HIT"), ("age", "86400")]).await;
    let admin = admin(&t).await;
    for (name, public) in [("fresh", fresh), ("stale", stale)] {
        let public = format!("http://{public}");
        let settings =
            [("service_id", "SU1Z0isxPaozGVKXdv0eY"), ("api_token", "fastly-key"), ("public_url", public.as_str())];
        t.app.services.targets.add(&admin, &input("fastly", name, fastly.url(""), &settings)).await.unwrap();
    }
    set_edge(&t, |e| e.verify = true).await;
    let stop = CancellationToken::new();
    let worker = tokio::spawn(t.app.worker(fast()).run(stop.clone()));
    let id = submit(&t, Scope::Original, &["/sample.li/a.jpg"]).await;
    assert_eq!(settle(&t, id).await, Status::Done);
    let results = t.store.target_results(id).await.unwrap();
    let by = |name: &str| results.iter().find(|r| r.name == name).unwrap().clone();
    assert_eq!(by("fresh").verified, Some(true), "{:?}", by("fresh").verify_note);
    assert_eq!(by("stale").verified, Some(false), "{:?}", by("stale").verify_note);
    assert!(by("stale").verify_note.unwrap().contains("still served from the cache"));
    stop.cancel();
    worker.await.unwrap();
});

db_test_cfg!(concurrent_invalidations_share_the_providers_calls, with_key, |t: TestApp| async move {
    let prism = Emulator::start("prism_launch.py", &["--api", "cloudflare"]);
    let cf = prism.behind_faults("cloudflare", &["--strip-prefix", "/client/v4"]);
    let admin = admin(&t).await;
    // Pro: 5 calls a second, so a call every 200 ms while jobs queue their tags.
    let settings = [("zone_id", ZONE), ("api_token", "cf-token"), ("plan", "pro")];
    t.app.services.targets.add(&admin, &input("cloudflare", "cf", cf.url("/client/v4"), &settings)).await.unwrap();
    let stop = CancellationToken::new();
    let worker = tokio::spawn(t.app.worker(fast()).run(stop.clone()));
    let paths: Vec<String> = (0..20).map(|i| format!("/sample.li/many/{i}.jpg")).collect();
    let editor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let ids = futures::future::join_all(paths.iter().map(|p| {
        let (t, editor) = (&t, &editor);
        async move {
            let sub = Submission::from_api("original", Some(vec![p.clone()]), None).unwrap();
            t.app.services.invalidations.submit(editor, sub).await.unwrap().invalidation.id
        }
    }))
    .await;
    for id in &ids {
        assert_eq!(settle(&t, *id).await, Status::Done);
    }
    let sent = bodies(&cf.requests().await, &format!("/client/v4/zones/{ZONE}/purge_cache"));
    let mut tags: Vec<String> = sent
        .iter()
        .flat_map(|b| b["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()))
        .collect();
    tags.sort();
    let mut want: Vec<String> = paths.iter().map(|p| path_key("demo", p)).collect();
    want.sort();
    assert_eq!(tags, want, "every path's tag went out exactly once");
    assert!(sent.len() <= 10, "20 invalidations in {} calls", sent.len());
    let shared = ids.len() - sent.len();
    assert!(shared > 0);
    let notes = futures::future::join_all(ids.iter().map(|id| detail(&t, *id, "cf"))).await;
    assert!(notes.iter().any(|(_, n)| n.contains("shared with up to")), "{notes:?}");
    stop.cancel();
    worker.await.unwrap();
});

db_test_cfg!(cloudfront_back_pressure_waits_and_names_each_batch, with_key, |t: TestApp| async move {
    // One invalidation in progress at a time: the second batch is refused
    // with TooManyInvalidationsInProgress until the first completes.
    let aws = Emulator::start("moto_launch.py", &["--proxy-port", "0", "--polls", "3", "--max-in-progress", "1"]);
    let (key_id, secret, dist) = (aws.extra[0].clone(), aws.extra[1].clone(), aws.extra[2].clone());
    let admin = admin(&t).await;
    let settings = [
        ("distribution_id", dist.as_str()),
        ("access_key_id", key_id.as_str()),
        ("secret_access_key", secret.as_str()),
    ];
    t.app.services.targets.add(&admin, &input("cloudfront", "cloudfront", aws.url(""), &settings)).await.unwrap();
    let stop = CancellationToken::new();
    let worker = tokio::spawn(t.app.worker(fast()).run(stop.clone()));
    let first = submit(&t, Scope::Original, &["/sample.li/one.jpg"]).await;
    let second = submit(&t, Scope::Original, &["/sample.li/two.jpg"]).await;
    assert_eq!(settle(&t, first).await, Status::Done);
    assert_eq!(settle(&t, second).await, Status::Done);
    let requests = aws.requests().await;
    let creates: Vec<&Value> = requests
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"].as_str().unwrap_or("").ends_with("/invalidation"))
        .collect();
    assert!(creates.len() >= 3, "one refused while the other was in progress: {creates:?}");
    // Every create names its batch by invalidation, attempt and index.
    for id in [first, second] {
        let reference = format!("<CallerReference>{id}-1-0</CallerReference>");
        assert!(creates.iter().any(|r| r["body"].as_str().unwrap_or("").contains(&reference)), "{reference}");
    }
    stop.cancel();
    worker.await.unwrap();
});

db_test_cfg!(soft_purge_marks_stale_where_the_provider_can, with_key, |t: TestApp| async move {
    let fastly = Emulator::start("fastly_fake.py", &["--key", "fastly-key", "--service", "SU1Z0isxPaozGVKXdv0eY"]);
    let ak_prism = Emulator::start("prism_launch.py", &["--api", "akamai"]);
    let ak = ak_prism
        .behind_faults("akamai", &["--strip-prefix", "/ccu/v3", "--require-header", "Authorization=EG1-HMAC-SHA256 "]);
    let admin = admin(&t).await;
    let fastly_settings = [("service_id", "SU1Z0isxPaozGVKXdv0eY"), ("api_token", "fastly-key")];
    t.app.services.targets.add(&admin, &input("fastly", "fastly", fastly.url(""), &fastly_settings)).await.unwrap();
    let ak_settings = [
        ("client_token", "akab-client"),
        ("client_secret", "c2VjcmV0"),
        ("access_token", "akab-access"),
        ("network", "staging"),
    ];
    t.app.services.targets.add(&admin, &input("akamai", "akamai", ak.url(""), &ak_settings)).await.unwrap();
    set_edge(&t, |e| e.soft_purge = true).await;
    let stop = CancellationToken::new();
    let worker = tokio::spawn(t.app.worker(fast()).run(stop.clone()));
    let id = submit(&t, Scope::Original, &["/sample.li/a.jpg"]).await;
    assert_eq!(settle(&t, id).await, Status::Done, "{:?}", t.store.target_results(id).await.unwrap());
    let purges: Vec<Value> = fastly.requests().await.into_iter().filter(|r| r["method"] == "POST").collect();
    assert_eq!(purges.len(), 1);
    assert_eq!(purges[0]["headers"]["fastly-soft-purge"], "1", "{}", purges[0]);
    // Akamai: invalidate (revalidate) rather than delete, on the chosen network.
    let sent = bodies(&ak.requests().await, "/ccu/v3/invalidate/tag/staging");
    assert_eq!(sent, [json!({ "objects": [path_key("demo", "/sample.li/a.jpg")] })]);
    let (_, note) = detail(&t, id, "fastly").await;
    assert!(note.contains("(soft)"), "{note}");
    stop.cancel();
    worker.await.unwrap();
});
