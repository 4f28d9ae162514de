//! API key lifetimes: expiry, roll with a grace period, networks, last use
//! and its address, the 7-day notice (metric and hook), and what a caller
//! without the whole secret learns (nothing).

use super::*;
use imgflush::backend::key_rules::KeyRules;

/// A request from `peer` (the connection's address).
fn from(peer: &str, mut req: Request<Body>) -> Request<Body> {
    let peer: std::net::SocketAddr = format!("{peer}:40000").parse().unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
    req
}

async fn key_with(t: &TestApp, name: &str, rules: KeyRules) -> (imgflush::backend::store::ApiKey, String) {
    let operator = Actor::operator(t.demo.clone());
    t.app.services.keys.create_with(&operator, name, "editor", Default::default(), rules).await.unwrap()
}

db_test!(a_rolled_key_works_through_its_grace_then_answers_key_expired, |t: TestApp| async move {
    let admin = t.actor("admin@example.com", imgflush::domain::Role::Admin, &t.demo).await;
    let in_90_days = chrono::Utc::now() + chrono::Duration::days(90);
    let rules = KeyRules { expires: Some(in_90_days), allowed_ips: vec!["127.0.0.0/8".into()] };
    let (old, old_secret) = key_with(&t, "deploy", rules).await;
    let listed = t.store.list_api_keys(t.demo.id).await.unwrap();
    assert_eq!(
        listed.iter().find(|k| k.id == old.id).unwrap().expires.map(|e| e.timestamp()),
        Some(in_90_days.timestamp())
    );

    // Roll with a day's grace: both keys work, the successor has the same
    // name, role, networks and lifetime.
    let (new, new_secret) = t.app.services.keys.roll(&admin, old.id, 24).await.unwrap();
    assert_eq!((new.name.as_str(), new.role, new.allowed_ips.clone()), ("deploy", old.role, old.allowed_ips.clone()));
    let lifetime = new.expires.unwrap() - new.created;
    assert!((lifetime - chrono::Duration::days(90)).num_minutes().abs() <= 1, "the same lifetime: {lifetime}");
    for secret in [&old_secret, &new_secret] {
        call(&t, from("127.0.0.1", get("/api/v1/invalidations", Some(secret)))).await.expect(200);
    }
    let keys = t.store.list_api_keys(t.demo.id).await.unwrap();
    let rolled = keys.iter().find(|k| k.id == old.id).unwrap();
    assert_eq!(rolled.rolled_to, Some(new.id));
    let grace_end = rolled.expires.unwrap() - chrono::Utc::now();
    assert!((grace_end - chrono::Duration::hours(24)).num_minutes().abs() <= 1, "valid for the grace: {grace_end}");
    // A rolled key is not rolled twice (its successor is).
    let again = t.app.services.keys.roll(&admin, old.id, 24).await;
    assert!(matches!(again, Err(imgflush::backend::ServiceError::Conflict(_))), "{again:?}");

    // Roll the successor with no grace: it is refused at once, as expired,
    // and says so only to whoever holds its whole secret.
    let (_, third) = t.app.services.keys.roll(&admin, new.id, 0).await.unwrap();
    let r = call(&t, from("127.0.0.1", get("/api/v1/invalidations", Some(&new_secret)))).await;
    r.expect_error(401, "key_expired");
    assert!(r.body["message"].as_str().unwrap().contains("expired at"), "{:#}", r.body);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    // The last character changed (to one it is not): the whole secret differs.
    let last = if new_secret.ends_with('x') { 'y' } else { 'x' };
    let forged = format!("{}{last}", &new_secret[..new_secret.len() - 1]);
    call(&t, from("127.0.0.1", get("/api/v1/invalidations", Some(&forged)))).await.expect_error(401, "unauthorized");
    // The anchor's route refuses it the same way.
    let r = call(&t, from("127.0.0.1", post("/invalidate", Some(&new_secret), &original(&["/a.jpg"])))).await;
    r.expect_error(401, "key_expired");
    call(&t, from("127.0.0.1", get("/api/v1/invalidations", Some(&third)))).await.expect(200);

    // Out of range grace periods name their field.
    match t.app.services.keys.roll(&admin, old.id, 721).await {
        Err(imgflush::backend::ServiceError::Invalid(e)) => assert_eq!(e[0].field, "grace_hours"),
        other => panic!("{other:?}"),
    }
    // Each roll is in the audit trail.
    let query = imgflush::backend::store::AuditQuery { project_id: Some(t.demo.id), ..Default::default() };
    let audit = t.store.list_audit(&query).await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "key.rolled").count(), 2);
});

db_test!(a_key_with_networks_answers_only_from_them, |t: TestApp| async move {
    let rules = KeyRules { expires: None, allowed_ips: vec!["10.0.0.0/8".into(), "2001:db8::/32".into()] };
    let (key, secret) = key_with(&t, "office", rules).await;
    for peer in ["10.1.2.3", "[2001:db8::7]"] {
        call(&t, from(peer, get("/api/v1/invalidations", Some(&secret)))).await.expect(200);
    }
    let r = call(&t, from("192.0.2.9", get("/api/v1/invalidations", Some(&secret)))).await;
    r.expect_error(401, "key_address_not_allowed");
    assert!(r.body["message"].as_str().unwrap().contains("192.0.2.9"), "{:#}", r.body);
    // Without the whole secret, the same address learns only "unauthorized".
    let forged = format!("imf_{}_{}", key.prefix, "A".repeat(32));
    call(&t, from("192.0.2.9", get("/api/v1/invalidations", Some(&forged)))).await.expect_error(401, "unauthorized");

    // The last use and its address are recorded.
    let listed = t.store.list_api_keys(t.demo.id).await.unwrap().into_iter().find(|k| k.id == key.id).unwrap();
    assert!(listed.last_used.is_some());
    assert!(
        matches!(listed.last_used_addr.as_deref(), Some("10.1.2.3" | "2001:db8::7")),
        "{:?}",
        listed.last_used_addr
    );
});

db_test!(the_last_use_records_a_new_address_at_once, |t: TestApp| async move {
    let (key, secret) = key_with(&t, "ci", KeyRules::default()).await;
    call(&t, from("127.0.0.5", get("/api/v1/invalidations", Some(&secret)))).await.expect(200);
    let addr =
        |keys: Vec<imgflush::backend::store::ApiKey>| keys.into_iter().find(|k| k.id == key.id).unwrap().last_used_addr;
    assert_eq!(addr(t.store.list_api_keys(t.demo.id).await.unwrap()).as_deref(), Some("127.0.0.5"));
    // Within the minute, from another address: recorded too (not only once a minute).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    call(&t, from("127.0.0.6", get("/api/v1/invalidations", Some(&secret)))).await.expect(200);
    assert_eq!(addr(t.store.list_api_keys(t.demo.id).await.unwrap()).as_deref(), Some("127.0.0.6"));
});

db_test!(keys_expiring_within_a_week_are_counted_and_noticed_once, |t: TestApp| async move {
    let soon = chrono::Utc::now() + chrono::Duration::days(3);
    let later = chrono::Utc::now() + chrono::Duration::days(30);
    key_with(&t, "soon", KeyRules { expires: Some(soon), allowed_ips: vec![] }).await;
    key_with(&t, "later", KeyRules { expires: Some(later), allowed_ips: vec![] }).await;
    key_with(&t, "forever", KeyRules::default()).await;
    let metrics = t.metrics_text().await;
    assert!(metrics.contains("imgflush_api_keys_expiring 1"), "{metrics}");

    // The notifier's step: a hook on the project gets `key.expiring`, once.
    let receiver = Recorder::start().await;
    let hook = imgflush::backend::store::NewHook {
        name: "ops".into(),
        url: receiver.url("/hook"),
        secret: Some("hook-secret".into()),
        every_final: false,
    };
    t.store.add_hook(t.demo.id, &hook, now_ms()).await.unwrap();
    let client = reqwest::Client::new();
    let policy = imgflush::backend::network::NetworkPolicy::loopback();
    let told = imgflush::backend::notify::notice_expiring_keys(&t.store, &client, &policy).await.unwrap();
    assert_eq!(told, 1);
    let calls = receiver.requests();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].header("x-imgflush-event"), Some("key.expiring"));
    assert!(calls[0].header("x-imgflush-signature").is_some(), "signed like every hook call");
    let body = calls[0].json();
    assert_eq!(body["event"], "key.expiring");
    assert_eq!(body["key"]["name"], "soon");
    assert!(body["key"]["prefix"].as_str().unwrap().starts_with("imf_"));
    assert!(!body.to_string().contains("secret"), "{body}");
    let again = imgflush::backend::notify::notice_expiring_keys(&t.store, &client, &policy).await.unwrap();
    assert_eq!(again, 0, "each key is noticed once");
});

db_test!(existing_keys_keep_working_without_an_expiry, |t: TestApp| async move {
    let secret = key(&t, &t.demo, "legacy", "editor").await;
    let listed = t.store.list_api_keys(t.demo.id).await.unwrap();
    assert!(listed.iter().all(|k| k.expires.is_none() && k.allowed_ips.is_empty()));
    // From any address, and with no known address at all.
    call(&t, from("203.0.113.50", get("/api/v1/invalidations", Some(&secret)))).await.expect(200);
    call(&t, get("/api/v1/invalidations", Some(&secret))).await.expect(200);
});
