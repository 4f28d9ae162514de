//! Purge target management, shared by the Settings page, the CLI and the API.

use std::collections::BTreeMap;
use std::time::Duration;

pub use crate::backend::model::host_only;
use crate::backend::network::NetworkPolicy;
use crate::backend::purge::{public_detail, Pacing, PurgeCall, Purger};
use crate::backend::store::{DynStore, NewTarget, Target};
use crate::backend::vault::{Credentials, Vault};
use crate::backend::{Actor, ServiceError};
use crate::domain::{check_settings, FieldError, InvalidationId, PurgeRequest, Role, Scope, TargetKind};

pub struct TargetInput {
    pub kind: String,
    pub name: String,
    /// Empty for a provider's public API.
    pub url: String,
    pub secret: Option<String>,
    /// The kind's own settings and credentials by key (`zone_id`, `api_token`, …).
    pub settings: BTreeMap<String, String>,
}

/// Checks every field, reporting all problems at once. A URL whose host is an
/// address literal must be one `policy` permits. Credentials are sealed with
/// `vault`; `kept`: the target's stored credentials, when editing.
pub fn validate(
    input: &TargetInput,
    policy: &NetworkPolicy,
    vault: &Vault,
    kept: Option<&Credentials>,
) -> Result<NewTarget, ServiceError> {
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
    let spec = kind.map(|k| k.spec());
    let url = match (input.url.trim(), spec.and_then(|s| s.default_url)) {
        ("", Some(default)) => default,
        (url, _) => url,
    };
    let example = spec.map_or("e.g. http://127.0.0.1:6081/", |s| s.url_help);
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            if let Err(why) = policy.check_url(&u) {
                errors.push(FieldError::new("url", why));
            }
        }
        _ => errors.push(FieldError::new("url", format!("enter an absolute http:// or https:// URL: {example}"))),
    }
    let secret = input.secret.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if secret.is_some_and(|s| s.len() > 512) {
        errors.push(FieldError::new("secret", "the secret may be at most 512 bytes"));
    }
    if secret.is_some() && spec.is_some_and(|s| !s.bearer_secret) {
        errors.push(FieldError::new("secret", "this kind takes its credentials in its own fields, not a secret"));
    }
    let kept_keys: Vec<&str> = kept.map(|c| c.0.keys().map(String::as_str).collect()).unwrap_or_default();
    let checked = kind.and_then(|k| check_settings(k, &input.settings, &kept_keys).map_err(|e| errors.extend(e)).ok());
    let (Some(kind), Some(checked), true) = (kind, checked, errors.is_empty()) else {
        return Err(ServiceError::Invalid(errors));
    };
    let mut credentials = kept.cloned().unwrap_or_default();
    credentials.0.extend(checked.credentials);
    let credentials = if credentials.0.is_empty() {
        None
    } else {
        let sealed = vault.seal(&credentials).map_err(|e| {
            let field = kind.spec().settings.iter().find(|s| s.secret).map_or("settings", |s| s.key);
            ServiceError::Invalid(vec![FieldError::new(field, format!("cannot store credentials: {e}"))])
        })?;
        Some(sealed)
    };
    Ok(NewTarget {
        kind,
        name: name.to_owned(),
        url: url.to_owned(),
        secret: secret.map(str::to_owned),
        settings: checked.settings,
        credentials,
    })
}

/// A project's purge targets: every member sees them (URLs without
/// credentials, secrets never), admins add, edit and remove them.
#[derive(Clone)]
pub struct TargetService {
    pub(in crate::backend::services) store: DynStore,
    pub(in crate::backend::services) purger: Purger,
}

impl TargetService {
    /// Targets limited to public addresses, no credential key; see
    /// [`Self::with_network`] and [`Self::with_vault`].
    pub fn new(store: DynStore) -> Self {
        let purger = Purger::new(TEST_TIMEOUT, NetworkPolicy::public_only()).with_pacing(Pacing::new(store.clone()));
        TargetService { store, purger }
    }

    /// The operator's policy: which networks besides public ones targets may use.
    pub fn with_network(mut self, policy: NetworkPolicy) -> Self {
        self.purger = self.purger.with_network(policy);
        self
    }

    /// The key that seals providers' credentials.
    pub fn with_vault(mut self, vault: Vault) -> Self {
        self.purger = self.purger.with_vault(vault);
        self
    }

    pub async fn list(&self, actor: &Actor) -> Result<Vec<Target>, ServiceError> {
        actor.require(Role::can_read)?;
        Ok(self.store.list_targets(actor.project.id).await?)
    }

    /// Paths sent this month by each of the project's targets that counts
    /// them (CloudFront distributions), by target ID.
    pub async fn usage(&self, actor: &Actor) -> Result<Vec<(i64, i64)>, ServiceError> {
        let targets = self.list(actor).await?;
        self.usage_of(&targets).await
    }

    /// The project's targets, each with its paths sent this month where it
    /// counts them (the Settings page: one read of the targets).
    pub async fn list_with_usage(&self, actor: &Actor) -> Result<Vec<(Target, Option<i64>)>, ServiceError> {
        let targets = self.list(actor).await?;
        let usage = self.usage_of(&targets).await?;
        Ok(targets
            .into_iter()
            .map(|t| {
                let paths = usage.iter().find(|(id, _)| *id == t.id).map(|(_, n)| *n);
                (t, paths)
            })
            .collect())
    }

    /// [`Self::usage`] of targets already read (and checked) by the caller.
    async fn usage_of(&self, targets: &[Target]) -> Result<Vec<(i64, i64)>, ServiceError> {
        let usage = self.store.usage(&crate::backend::purge::this_month()).await?;
        Ok(targets
            .iter()
            .filter(|t| t.kind == TargetKind::Cloudfront)
            .filter_map(|t| {
                let account = crate::backend::purge::cloudfront_account(t.settings.get("distribution_id")?);
                let paths = usage.iter().find(|(a, _)| *a == account).map_or(0, |(_, n)| *n);
                Some((t.id, paths))
            })
            .collect())
    }

    pub async fn add(&self, actor: &Actor, input: &TargetInput) -> Result<Target, ServiceError> {
        actor.require(Role::can_manage)?;
        let new = validate(input, self.purger.network(), self.purger.vault(), None)?;
        let target = self.store.add_target(actor.project.id, &new, crate::backend::now_ms()).await?;
        crate::backend::audit::record(&self.store, actor, "target.added", describe(&target)).await;
        Ok(target)
    }

    /// Changes a target: everything but its kind. Credentials and the secret
    /// left empty are kept.
    pub async fn edit(&self, actor: &Actor, target_id: i64, input: &TargetInput) -> Result<Target, ServiceError> {
        actor.require(Role::can_manage)?;
        let old = self.store.target(actor.project.id, target_id).await?;
        if TargetKind::parse(&input.kind).ok() != Some(old.kind) {
            let why = format!("a target keeps its kind ({}): remove it and add a new one", old.kind.label());
            return Err(ServiceError::Invalid(vec![FieldError::new("kind", why)]));
        }
        let kept = match &old.credentials {
            Some(sealed) => Some(self.purger.vault().open(sealed).map_err(|e| {
                ServiceError::Invalid(vec![FieldError::new("settings", format!("{e}; enter every credential again"))])
            })?),
            None => None,
        };
        let mut new = validate(input, self.purger.network(), self.purger.vault(), kept.as_ref())?;
        if new.secret.is_none() && old.kind.spec().bearer_secret {
            new.secret = old.secret.clone();
        }
        let target = self.store.update_target(actor.project.id, target_id, &new).await?;
        crate::backend::audit::record(&self.store, actor, "target.edited", describe(&target)).await;
        Ok(target)
    }

    /// Removes the target; answers its name (admins).
    pub async fn remove(&self, actor: &Actor, target_id: i64) -> Result<String, ServiceError> {
        actor.require(Role::can_manage)?;
        let target = self.store.target(actor.project.id, target_id).await?;
        self.store.remove_target(actor.project.id, target_id).await?;
        crate::backend::audit::record(&self.store, actor, "target.removed", describe(&target)).await;
        Ok(target.name)
    }
}

impl TargetService {
    /// The kind's harmless check of the target (a purge of a path no image
    /// has, `/.imgflush-test`, for nodes and hooks; an authenticated read of
    /// the zone, service, distribution or pull zone for providers), answered
    /// in plain words (admins).
    pub async fn test(&self, actor: &Actor, target_id: i64) -> Result<String, ServiceError> {
        actor.require(Role::can_manage)?;
        let target = self.store.target(actor.project.id, target_id).await?;
        let id = Some(InvalidationId(uuid::Uuid::now_v7()));
        let request = PurgeRequest::new(id, &actor.project.token, Scope::Original, &[TEST_PATH.to_owned()]);
        let call = PurgeCall::one_off(request, actor.project.origin_hosts.clone());
        let outcome = self.purger.test(&target, &call).await;
        let answer = match &outcome {
            Ok(note) => format!("ok: {note}"),
            Err(e) => format!("failed: {e}"),
        };
        // The trail keeps the public detail only: staff, who are not project
        // admins, read it, and the answer itself is for admins.
        let public = match &outcome {
            Ok(note) => format!("ok: {}", public_detail(note)),
            Err(e) => format!("failed: {}", public_detail(&e.to_string())),
        };
        crate::backend::audit::record(&self.store, actor, "target.tested", format!("{}: {public}", target.name)).await;
        Ok(answer)
    }
}

/// A target test's calls time out after this long.
const TEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The path a target test purges: no origin image has it.
pub const TEST_PATH: &str = "/.imgflush-test";

/// A target for the audit trail: name, kind, host and settings; never the
/// path, query, secret or credentials.
fn describe(t: &Target) -> String {
    let secret = match (&t.secret, &t.credentials) {
        (Some(_), _) => ", with a secret",
        (_, Some(_)) => ", with credentials",
        _ => "",
    };
    let settings: Vec<String> = t.settings.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let settings = if settings.is_empty() { String::new() } else { format!(", {}", settings.join(" ")) };
    format!("{} ({}, {}{settings}{secret})", t.name, t.kind.as_str(), host_only(&t.url))
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
        TargetInput { kind: kind.into(), name: name.into(), url: url.into(), secret: None, settings: BTreeMap::new() }
    }

    fn validate_plain(input: &TargetInput, policy: &NetworkPolicy) -> Result<NewTarget, ServiceError> {
        validate(input, policy, &Vault::none(), None)
    }

    #[test]
    fn provider_targets_default_their_url_and_seal_their_credentials() {
        let mut cf = input("cloudflare", "cf", "");
        cf.settings.insert("zone_id".into(), "023e105f4ecef8ad9ca31a8372d0c353".into());
        cf.settings.insert("api_token".into(), "tok-secret".into());
        let Err(ServiceError::Invalid(errors)) = validate_plain(&cf, &NetworkPolicy::public_only()) else {
            panic!("a credential without a key must be refused")
        };
        assert_eq!(errors[0].field, "api_token");
        assert!(errors[0].message.contains("IMGFLUSH_SECRETS_KEY"), "{}", errors[0].message);
        let vault = Vault::from_key_text(&Vault::new_key_text()).unwrap();
        let t = validate(&cf, &NetworkPolicy::public_only(), &vault, None).unwrap();
        assert_eq!(t.url, "https://api.cloudflare.com/client/v4");
        assert_eq!(t.settings.get("zone_id"), Some("023e105f4ecef8ad9ca31a8372d0c353"));
        let sealed = t.credentials.clone().unwrap();
        assert!(!sealed.0.contains("tok-secret"));
        assert_eq!(vault.open(&sealed).unwrap().get("api_token"), Some("tok-secret"));
        // Editing without the token keeps it.
        cf.settings.remove("api_token");
        let kept = vault.open(&sealed).unwrap();
        let edited = validate(&cf, &NetworkPolicy::public_only(), &vault, Some(&kept)).unwrap();
        assert_eq!(vault.open(&edited.credentials.unwrap()).unwrap().get("api_token"), Some("tok-secret"));
        let mut akamai = input("akamai", "ak", "");
        akamai.secret = Some("x".into());
        let Err(ServiceError::Invalid(errors)) = validate(&akamai, &NetworkPolicy::public_only(), &vault, None) else {
            panic!("akamai needs its host")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "secret", "client_token", "client_secret", "access_token"]);
        assert!(errors[0].message.contains("akamaiapis.net"), "{}", errors[0].message);
    }

    #[test]
    fn names_every_bad_field() {
        let Err(ServiceError::Invalid(errors)) =
            validate_plain(&input("squid", "", "ftp://x"), &NetworkPolicy::loopback())
        else {
            panic!("expected invalid")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["kind", "name", "url"]);
    }

    #[test]
    fn accepts_a_varnish_target_and_redacts_credentials() {
        let t =
            validate_plain(&input("varnish", " v1 ", "http://127.0.0.1:6081/"), &NetworkPolicy::loopback()).unwrap();
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
            let Err(ServiceError::Invalid(errors)) =
                validate_plain(&input("edge", "e", url), &NetworkPolicy::public_only())
            else {
                panic!("{url} accepted")
            };
            assert_eq!(errors.len(), 1, "{url}");
            assert_eq!(errors[0].field, "url");
            assert!(errors[0].message.contains("targets.allowed_networks"), "{}", errors[0].message);
        }
        assert!(validate_plain(&input("edge", "e", "http://10.0.0.5/"), &NetworkPolicy::loopback()).is_err());
        assert!(validate_plain(&input("edge", "e", "http://2130706433/"), &NetworkPolicy::loopback()).is_ok());
        assert!(validate_plain(&input("edge", "e", "https://purge.example/"), &NetworkPolicy::public_only()).is_ok());
    }
}
