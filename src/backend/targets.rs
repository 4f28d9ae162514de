//! Purge target management, shared by the Settings page and the CLI.

use super::store::{DynStore, NewTarget, Target};
use super::{Actor, ServiceError};
use crate::domain::{FieldError, Role, TargetKind};

pub struct TargetInput {
    pub kind: String,
    pub name: String,
    pub url: String,
    pub secret: Option<String>,
}

/// Checks every field, reporting all problems at once.
pub fn validate(input: &TargetInput) -> Result<NewTarget, ServiceError> {
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
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
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
}

impl TargetService {
    pub fn new(store: DynStore) -> Self {
        TargetService { store }
    }

    pub async fn list(&self, actor: &Actor) -> Result<Vec<Target>, ServiceError> {
        actor.require(Role::can_read)?;
        Ok(self.store.list_targets(actor.project.id).await?)
    }

    pub async fn add(&self, actor: &Actor, input: &TargetInput) -> Result<Target, ServiceError> {
        actor.require(Role::can_manage)?;
        let new = validate(input)?;
        Ok(self.store.add_target(actor.project.id, &new, super::now_ms()).await?)
    }

    pub async fn remove(&self, actor: &Actor, target_id: i64) -> Result<(), ServiceError> {
        actor.require(Role::can_manage)?;
        Ok(self.store.remove_target(actor.project.id, target_id).await?)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: &str, name: &str, url: &str) -> TargetInput {
        TargetInput { kind: kind.into(), name: name.into(), url: url.into(), secret: None }
    }

    #[test]
    fn names_every_bad_field() {
        let Err(ServiceError::Invalid(errors)) = validate(&input("squid", "", "ftp://x")) else {
            panic!("expected invalid")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["kind", "name", "url"]);
    }

    #[test]
    fn accepts_a_varnish_target_and_redacts_credentials() {
        let t = validate(&input("varnish", " v1 ", "http://127.0.0.1:6081/")).unwrap();
        assert_eq!((t.kind, t.name.as_str()), (TargetKind::Varnish, "v1"));
        assert_eq!(redact_url("http://u:p@h:1/x"), "http://h:1/x");
    }
}
