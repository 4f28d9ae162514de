//! The whole loop with commercial CDNs in it: one invalidation through the
//! console purges a real edge, two real Varnish nodes (Debian's `varnishd`
//! with the shipped VCL), a Cloudflare zone (Prism on Cloudflare's own
//! OpenAPI document) and a CloudFront distribution (moto, SigV4 checked),
//! and ends DONE with each provider's purge ID on its target, the CloudFront
//! one seen in progress first, then completed. Both databases.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::emulators::Emulator;
use common::stack::{self, VarnishNode};
use common::Db;
use imgflush::backend::invalidations::Submission;
use imgflush::backend::now_ms;
use imgflush::backend::store::{EdgeSettings, NewTarget, TargetState};
use imgflush::backend::targets::TargetInput;
use imgflush::backend::worker::WorkerConfig;
use imgflush::domain::{Role, Status, TargetKind};
use tokio_util::sync::CancellationToken;

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const NODE_SECRET: &str = "node-secret-1";

fn input(kind: &str, name: &str, url: String, settings: &[(&str, &str)]) -> TargetInput {
    let settings: BTreeMap<String, String> = settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    TargetInput { kind: kind.into(), name: name.into(), url, secret: None, settings }
}

async fn one_invalidation_through_every_layer(db: Db) {
    let Some(console) = stack::console_with(db, |c| c.secrets.key = Some(server::config::Secret::new(KEY))).await
    else {
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL half skipped");
        return;
    };
    let t = &console.t;
    stack::set_edge(t, &t.demo, console.origin, EdgeSettings::default()).await;
    let cache = tempfile::tempdir().unwrap();
    let stop = CancellationToken::new();
    let edge = stack::edge(console.addr, cache.path(), stop.clone()).await;
    t.store.add_target(t.demo.id, &edge.target("edge-1", "demo"), now_ms()).await.unwrap();
    let nodes = [VarnishNode::start(edge.addr, NODE_SECRET).await, VarnishNode::start(edge.addr, NODE_SECRET).await];
    for (i, node) in nodes.iter().enumerate() {
        let new = NewTarget {
            kind: TargetKind::Varnish,
            name: format!("varnish-{}", i + 1),
            url: format!("http://{}/", node.addr),
            secret: Some(NODE_SECRET.into()),
            settings: Default::default(),
            credentials: None,
        };
        t.store.add_target(t.demo.id, &new, now_ms()).await.unwrap();
    }
    let prism = Emulator::start("prism_launch.py", &["--api", "cloudflare"]);
    let cf = prism.behind_faults("cloudflare", &["--strip-prefix", "/client/v4"]);
    let aws = Emulator::start("moto_launch.py", &["--proxy-port", "0", "--polls", "3"]);
    let admin = t.actor("admin@example.com", Role::Admin, &t.demo).await;
    let cf_settings = [("zone_id", "023e105f4ecef8ad9ca31a8372d0c353"), ("api_token", "cf-token"), ("plan", "pro")];
    t.app
        .services
        .targets
        .add(&admin, &input("cloudflare", "cloudflare", cf.url("/client/v4"), &cf_settings))
        .await
        .unwrap();
    let aws_settings = [
        ("distribution_id", aws.extra[2].as_str()),
        ("access_key_id", aws.extra[0].as_str()),
        ("secret_access_key", aws.extra[1].as_str()),
    ];
    t.app.services.targets.add(&admin, &input("cloudfront", "cloudfront", aws.url(""), &aws_settings)).await.unwrap();

    let worker = t.app.worker(WorkerConfig {
        id: "cdn-stack".into(),
        backoff: Duration::from_millis(20),
        provider_poll: Duration::from_millis(200),
        ..Default::default()
    });
    let running = tokio::spawn(worker.run(stop.clone()));
    let editor = t.actor("editor@example.com", Role::Editor, &t.demo).await;
    let path = format!("/{}/img/a.png", console.origin);
    let sub = Submission::from_api("original", Some(vec![path]), None).unwrap();
    let id = t.app.services.invalidations.submit(&editor, sub).await.unwrap().invalidation.id;

    let mut seen_in_progress = false;
    let deadline = Instant::now() + Duration::from_secs(40);
    let detail = loop {
        let detail = t.app.services.invalidations.detail(&editor, id).await.unwrap();
        let cloudfront = detail.targets.iter().find(|r| r.name == "cloudfront");
        seen_in_progress |= cloudfront.is_some_and(|r| {
            r.state == TargetState::Pending && r.detail.as_deref().is_some_and(|d| d.contains("InProgress"))
        });
        if detail.invalidation.status.is_final() {
            break detail;
        }
        assert!(Instant::now() < deadline, "never finished: {detail:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(detail.invalidation.status, Status::Done, "{:?}", detail.targets);
    assert!(seen_in_progress, "the CloudFront invalidation was shown in progress while the worker polled");
    let names: Vec<&str> = detail.targets.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), 5, "{names:?}");
    for r in &detail.targets {
        assert_eq!(r.state, TargetState::Ok, "{}: {:?}", r.name, r.detail);
    }
    let note = |name: &str| detail.targets.iter().find(|r| r.name == name).unwrap().detail.clone().unwrap();
    assert!(note("cloudflare").contains("Cloudflare purge ID"), "{}", note("cloudflare"));
    let cloudfront = note("cloudfront");
    assert!(cloudfront.contains("CloudFront invalidation ") && cloudfront.ends_with("Completed"), "{cloudfront}");
    stop.cancel();
    running.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    one_invalidation_through_every_layer(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    one_invalidation_through_every_layer(Db::Postgres).await;
}
