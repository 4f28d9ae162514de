//! Purge target management, shared by the Settings page and the CLI.

pub use crate::backend::model::host_only;
use crate::backend::network::NetworkPolicy;
use crate::backend::store::{DynStore, NewTarget, Target};
use crate::backend::{Actor, ServiceError};
use crate::domain::{FieldError, Role, TargetKind};

pub struct TargetInput {
    pub kind: String,
    pub name: String,
    pub url: String,
    pub secret: Option<String>,
}

/// Checks every field, reporting all problems at once. A URL whose host is an
/// address literal must be one `policy` permits.
pub fn validate(input: &TargetInput, policy: &NetworkPolicy) -> Result<NewTarget, ServiceError> {
    let mut errors = Vec::new();
    let kind =
        TargetKind::parse(input.kind.trim()).map_err(|e| errors.push(FieldError::new("kind", e.to_string()))).ok();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "name",
            "give the target a name of 1 to 64 printable characters, e.g. \"varnish-fra-1\"",
        ));
    }
    let url = input.url.trim();
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            if let Err(why) = policy.check_url(&u) {
                errors.push(FieldError::new("url", why));
            }
        }
        _ => errors
            .push(FieldError::new("url", "enter an absolute http:// or https:// URL, e.g. http://127.0.0.1:6081/")),
    }
    let secret = input.secret.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if secret.is_some_and(|s| s.len() > 512) {
        errors.push(FieldError::new("secret", "the secret may be at most 512 bytes"));
    }
    match kind {
        Some(kind) if errors.is_empty() => {
            Ok(NewTarget { kind, name: name.to_owned(), url: url.to_owned(), secret: secret.map(str::to_owned) })
        }
        _ => Err(ServiceError::Invalid(errors)),
    }
}

/// A project's purge targets: every member sees them (URLs without
/// credentials, secrets never), admins add and remove them.
#[derive(Clone)]
pub struct TargetService {
    store: DynStore,
    network: NetworkPolicy,
}

impl TargetService {
    /// Targets limited to public addresses; see [`Self::with_network`].
    pub fn new(store: DynStore) -> Self {
        TargetService { store, network: NetworkPolicy::public_only() }
    }

    /// The operator's policy: which networks besides public ones targets may use.
    pub fn with_network(mut self, policy: NetworkPolicy) -> Self {
        self.network = policy;
        self
    }

    pub async fn list(&self, actor: &Actor) -> Result<Vec<Target>, ServiceError> {
        actor.require(Role::can_read)?;
        Ok(self.store.list_targets(actor.project.id).await?)
    }

    pub async fn add(&self, actor: &Actor, input: &TargetInput) -> Result<Target, ServiceError> {
        actor.require(Role::can_manage)?;
        let new = validate(input, &self.network)?;
        let target = self.store.add_target(actor.project.id, &new, crate::backend::now_ms()).await?;
        crate::backend::audit::record(&self.store, actor, "target.added", describe(&target)).await;
        Ok(target)
    }

    pub async fn remove(&self, actor: &Actor, target_id: i64) -> Result<(), ServiceError> {
        actor.require(Role::can_manage)?;
        let target = self.store.target(actor.project.id, target_id).await?;
        self.store.remove_target(actor.project.id, target_id).await?;
        crate::backend::audit::record(&self.store, actor, "target.removed", describe(&target)).await;
        Ok(())
    }
}

impl TargetService {
    /// Sends the target a harmless purge (one path no image has:
    /// `/.imgflush-test`) and answers what it said (admins).
    pub async fn test(&self, actor: &Actor, target_id: i64) -> Result<String, ServiceError> {
        actor.require(Role::can_manage)?;
        let target = self.store.target(actor.project.id, target_id).await?;
        let req = crate::backend::purge::PurgeRequest {
            invalidation_id: crate::domain::InvalidationId(uuid::Uuid::now_v7()),
            token: actor.project.token.clone(),
            scope: crate::domain::Scope::Original,
            paths: vec![TEST_PATH.to_owned()],
            soft: false,
            repeat_after: None,
        };
        let client = crate::backend::purge::client(std::time::Duration::from_secs(10), &self.network);
        let outcome = crate::backend::purge::purge(&client, &self.network, &target, &req).await;
        let answer = match &outcome {
            Ok(report) => format!("ok: {}", report.note),
            Err(e) => format!("failed: {e}"),
        };
        // The trail keeps the public detail only: staff, who are not project
        // admins, read it, and the answer itself is for admins.
        let public = match &outcome {
            Ok(report) => format!("ok: {}", crate::backend::purge::public_detail(&report.note)),
            Err(e) => format!("failed: {}", crate::backend::purge::public_detail(&e.to_string())),
        };
        crate::backend::audit::record(&self.store, actor, "target.tested", format!("{}: {public}", target.name)).await;
        Ok(answer)
    }
}

/// The path a target test purges: no origin image has it.
pub const TEST_PATH: &str = "/.imgflush-test";

/// A target for the audit trail: name, kind, host; never the path, query or secret.
fn describe(t: &Target) -> String {
    let secret = if t.secret.is_some() { ", with a secret" } else { "" };
    format!("{} ({}, {}{secret})", t.name, t.kind.as_str(), host_only(&t.url))
}

/// The URL as safe to show: user name and password removed.
pub fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(_) => "(invalid URL)".to_owned(),
    }
}

/// The URL as `role` may see it: admins without credentials, others the host only.
pub fn url_for(url: &str, role: Role) -> String {
    if role.can_manage() {
        redact_url(url)
    } else {
        host_only(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: &str, name: &str, url: &str) -> TargetInput {
        TargetInput { kind: kind.into(), name: name.into(), url: url.into(), secret: None }
    }

    #[test]
    fn names_every_bad_field() {
        let Err(ServiceError::Invalid(errors)) = validate(&input("squid", "", "ftp://x"), &NetworkPolicy::loopback())
        else {
            panic!("expected invalid")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["kind", "name", "url"]);
    }

    #[test]
    fn accepts_a_varnish_target_and_redacts_credentials() {
        let t = validate(&input("varnish", " v1 ", "http://127.0.0.1:6081/"), &NetworkPolicy::loopback()).unwrap();
        assert_eq!((t.kind, t.name.as_str()), (TargetKind::Varnish, "v1"));
        assert_eq!(redact_url("http://u:p@h:1/x"), "http://h:1/x");
    }

    #[test]
    fn members_who_do_not_manage_targets_see_the_host_only() {
        let url = "https://u:p@hooks.example:8443/purge/T0KEN?sig=abc";
        assert_eq!(url_for(url, Role::Admin), "https://hooks.example:8443/purge/T0KEN?sig=abc");
        for role in [Role::Editor, Role::Support] {
            assert_eq!(url_for(url, role), "https://hooks.example:8443/");
        }
        assert_eq!(host_only("http://[::1]/x?y"), "http://[::1]/");
    }

    #[test]
    fn refuses_literal_addresses_outside_the_allowed_networks() {
        for url in ["http://2130706433/", "http://0x7f.0.0.1/", "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/"]
        {
            let Err(ServiceError::Invalid(errors)) = validate(&input("edge", "e", url), &NetworkPolicy::public_only())
            else {
                panic!("{url} accepted")
            };
            assert_eq!(errors.len(), 1, "{url}");
            assert_eq!(errors[0].field, "url");
            assert!(errors[0].message.contains("targets.allowed_networks"), "{}", errors[0].message);
        }
        assert!(validate(&input("edge", "e", "http://10.0.0.5/"), &NetworkPolicy::loopback()).is_err());
        assert!(validate(&input("edge", "e", "http://2130706433/"), &NetworkPolicy::loopback()).is_ok());
        assert!(validate(&input("edge", "e", "https://purge.example/"), &NetworkPolicy::public_only()).is_ok());
    }
}
