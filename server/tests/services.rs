//! Each service checks the caller's role itself, without HTTP in between:
//! admin, editor and support of a project, and a user who is not a member.

mod common;

use common::TestApp;
use imgflush::backend::invalidations::{ListParams, Submission};
use imgflush::backend::store::{ListQuery, User};
use imgflush::backend::targets::TargetInput;
use imgflush::backend::{Actor, ServiceError, Services};
use imgflush::domain::{InvalidationId, Role};

fn services(t: &TestApp) -> &Services {
    &t.app.services
}

async fn user(t: &TestApp, email: &str) -> User {
    services(t).accounts.find(email).await.unwrap().expect("the user exists")
}

/// The member `email` with `role` in the demo project, resolved by the service.
async fn member(t: &TestApp, email: &str, role: Role) -> Actor {
    t.user(email, role, &t.demo).await;
    let actor = services(t).projects.actor_for(&user(t, email).await, "demo").await.unwrap();
    assert_eq!(actor.role, role);
    actor
}

fn allowed<T: std::fmt::Debug>(what: &str, role: Role, result: Result<T, ServiceError>) {
    if let Err(ServiceError::Forbidden(_)) = result {
        panic!("{what}: {role} should be allowed");
    }
}

fn forbidden<T: std::fmt::Debug>(what: &str, role: Role, result: Result<T, ServiceError>) {
    assert!(
        matches!(result, Err(ServiceError::Forbidden(r)) if r == role),
        "{what}: {role} must be refused: {result:?}"
    );
}

fn target(name: &str) -> TargetInput {
    TargetInput {
        kind: "webhook".into(),
        name: name.into(),
        url: "http://127.0.0.1:9/".into(),
        secret: None,
        settings: Default::default(),
    }
}

db_test!(role_matrix_of_every_service, |t: TestApp| async move {
    let s = services(&t);
    let unknown = InvalidationId(uuid::Uuid::now_v7());
    for (i, role) in [Role::Admin, Role::Editor, Role::Support].into_iter().enumerate() {
        let actor = member(&t, &format!("{}@example.com", role.as_str()), role).await;
        let can_submit = role != Role::Support;
        let can_manage = role == Role::Admin;

        // Invalidations: everyone reads, admin and editor submit and retry.
        let sub = Submission::from_api("original", Some(vec![format!("/sample.li/{i}.jpg")]), None).unwrap();
        let submitted = s.invalidations.submit(&actor, sub).await;
        let list = s.invalidations.list(&actor, ListQuery::parse(ListParams::default(), 20).unwrap()).await;
        allowed("list invalidations", role, list);
        allowed("get an invalidation", role, s.invalidations.get(&actor, unknown).await);
        allowed("invalidation detail", role, s.invalidations.detail(&actor, unknown).await);
        let retried = s.invalidations.retry(&actor, unknown).await;
        if can_submit {
            allowed("submit", role, submitted.map(|c| c.invalidation.id));
            allowed("retry", role, retried);
        } else {
            forbidden("submit", role, submitted.map(|c| c.invalidation.id));
            forbidden("retry", role, retried);
        }

        // Targets and settings: everyone reads, admins change.
        allowed("list targets", role, s.targets.list(&actor).await);
        allowed("project settings", role, s.projects.settings(&actor).await);
        let added = s.targets.add(&actor, &target(&format!("hook-{i}"))).await;
        let removed = s.targets.remove(&actor, -1).await;
        // API keys: admins only, even to read.
        let keys = s.keys.list(&actor).await;
        let created = s.keys.create(&actor, "ci", "editor").await.map(|(k, _)| k.id);
        let revoked = s.keys.revoke(&actor, -1).await;
        let membership = s.projects.set_member(&actor, actor_user_id(&actor), role).await;
        if can_manage {
            allowed("add a target", role, added);
            allowed("remove a target", role, removed);
            allowed("list keys", role, keys);
            allowed("create a key", role, created);
            allowed("revoke a key", role, revoked);
            allowed("set a membership", role, membership);
        } else {
            forbidden("add a target", role, added);
            forbidden("remove a target", role, removed);
            forbidden("list keys", role, keys);
            forbidden("create a key", role, created);
            forbidden("revoke a key", role, revoked);
            forbidden("set a membership", role, membership);
        }
    }
});

fn actor_user_id(actor: &Actor) -> i64 {
    match actor.submitter {
        imgflush::backend::store::Submitter::User { id, .. } => id,
        _ => unreachable!("a console actor is a user"),
    }
}

db_test!(a_non_member_never_becomes_an_actor, |t: TestApp| async move {
    let other = t.project("other").await;
    t.user("outsider@example.com", Role::Admin, &other).await;
    let outsider = user(&t, "outsider@example.com").await;
    let demo = services(&t).projects.actor_for(&outsider, "demo").await;
    assert!(matches!(demo, Err(ServiceError::NotFound)), "{demo:?}");
    let missing = services(&t).projects.actor_for(&outsider, "no-such-project").await;
    assert!(matches!(missing, Err(ServiceError::NotFound)), "{missing:?}");
    // Admin of their own project, they see only that one.
    let mine = services(&t).projects.memberships(&outsider).await.unwrap();
    assert_eq!(mine.iter().map(|m| m.project.token.as_str()).collect::<Vec<_>>(), ["other"]);
});

db_test!(an_api_key_acts_with_its_own_role_in_its_own_project, |t: TestApp| async move {
    let s = services(&t);
    let (_, secret) = s.keys.create(&Actor::operator(t.demo.clone()), "reader", "support").await.unwrap();
    let caller = s.keys.authenticate(&secret).await.unwrap();
    assert_eq!((caller.actor.role, caller.actor.project.token.as_str()), (Role::Support, "demo"));
    let sub = Submission::from_api("all", None, None).unwrap();
    forbidden("submit with a support key", Role::Support, s.invalidations.submit(&caller.actor, sub).await.map(|_| ()));
    let wrong = s.keys.authenticate(&format!("{secret}x")).await;
    assert!(matches!(wrong, Err(ServiceError::NotFound)));
});

db_test!(both_front_doors_parse_alike, |t: TestApp| async move {
    let _ = t;
    // The console's "All" needs its confirmation; the API's does not have one.
    let e = Submission::from_console("all", None, None, false).unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(f) if f[0].field == "confirm_all"), "{e:?}");
    assert!(Submission::from_console("all", Some("/ignored.jpg".into()), None, true).is_ok());
    let e = Submission::from_api("everything", None, None).unwrap_err();
    assert!(matches!(&e, ServiceError::Invalid(f) if f[0].field == "scope"), "{e:?}");
    let bad = |p: ListParams<'static>| match ListQuery::parse(p, 20) {
        Err(ServiceError::Invalid(f)) => f[0].field.clone(),
        other => panic!("expected a field error, got {other:?}"),
    };
    assert_eq!(bad(ListParams { cursor: Some("x"), cursor_field: "before", ..Default::default() }), "before");
    assert_eq!(bad(ListParams { cursor: Some("x"), cursor_field: "cursor", ..Default::default() }), "cursor");
    assert_eq!(bad(ListParams { status: Some("NOPE"), ..Default::default() }), "status");
    assert_eq!(bad(ListParams { limit: Some("0"), ..Default::default() }), "limit");
    assert_eq!(ListQuery::parse(ListParams { limit: Some(" 7 "), ..Default::default() }, 20).unwrap().limit, 7);
});

db_test!(a_kept_key_is_checked_and_a_revocation_elsewhere_applies_within_a_second, |t: TestApp| async move {
    use imgflush::backend::keys::VERIFIED_FOR;
    let admin = t.actor("admin@example.com", Role::Admin, &t.demo).await;
    let keys = &services(&t).keys;
    let (key, secret) = keys.create(&admin, "ci", "editor").await.unwrap();
    assert_eq!(keys.authenticate(&secret).await.unwrap().key.id, key.id);
    // Kept after its first use, the key still has to be presented whole: the
    // same prefix with another secret is refused.
    let last = if secret.ends_with('A') { 'B' } else { 'A' };
    let forged = format!("{}{last}", &secret[..secret.len() - 1]);
    assert!(matches!(keys.authenticate(&forged).await, Err(ServiceError::NotFound)));
    assert_eq!(keys.authenticate(&secret).await.unwrap().key.id, key.id);
    // Revoked by another instance (here: straight in the database), the copy
    // this one keeps serves at most VERIFIED_FOR longer.
    t.store.revoke_api_key(t.demo.id, key.id, imgflush::backend::now_ms()).await.unwrap();
    tokio::time::sleep(VERIFIED_FOR + std::time::Duration::from_millis(50)).await;
    assert!(matches!(keys.authenticate(&secret).await, Err(ServiceError::NotFound)));
});

db_test!(a_key_revoked_here_is_refused_at_once, |t: TestApp| async move {
    let admin = t.actor("admin@example.com", Role::Admin, &t.demo).await;
    let keys = &services(&t).keys;
    let (key, secret) = keys.create(&admin, "ci", "editor").await.unwrap();
    let (_, other) = keys.create(&admin, "other", "support").await.unwrap();
    keys.authenticate(&secret).await.unwrap();
    keys.authenticate(&other).await.unwrap();
    keys.revoke(&admin, key.id).await.unwrap();
    assert!(matches!(keys.authenticate(&secret).await, Err(ServiceError::NotFound)));
    assert_eq!(keys.authenticate(&other).await.unwrap().key.name, "other", "the project's other keys still work");
});
