//! "Tell me when it breaks": per-project notification hooks, called signed
//! (like the webhook target) when an invalidation ends in an error status,
//! or on every final status. Admins add, test and remove them.

mod deliver;

use std::time::Duration;

use crate::backend::model::host_only;
use crate::backend::network::NetworkPolicy;
use crate::backend::store::{DynStore, Hook, NewHook};
use crate::backend::{now_ms, Actor, ServiceError};
use crate::domain::{FieldError, Role};

pub use deliver::{notice_expiring_keys, notify_pending, run_notifier, HookEvent, KeyNotice, NOTIFY_TIMEOUT};

pub struct HookInput {
    pub name: String,
    pub url: String,
    pub secret: Option<String>,
    pub every_final: bool,
}

/// HTTPS only; plain http just for loopback (a receiver on the same machine).
fn validate(input: &HookInput, policy: &NetworkPolicy) -> Result<NewHook, ServiceError> {
    let mut errors = Vec::new();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        errors.push(FieldError::new("name", "give the hook a name of 1 to 64 characters, e.g. \"ci-pipeline\""));
    }
    let url = input.url.trim();
    match reqwest::Url::parse(url) {
        Ok(u) if u.host().is_some() && (u.scheme() == "https" || (u.scheme() == "http" && is_loopback(&u))) => {
            if let Err(why) = policy.check_url(&u) {
                errors.push(FieldError::new("url", why));
            }
        }
        _ => errors.push(FieldError::new("url", "enter an https:// URL, e.g. https://ci.example.com/hooks/imgflush")),
    }
    let secret = input.secret.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if secret.is_some_and(|s| s.len() > 512) {
        errors.push(FieldError::new("secret", "the secret may be at most 512 bytes"));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    Ok(NewHook {
        name: name.to_owned(),
        url: url.to_owned(),
        secret: secret.map(str::to_owned),
        every_final: input.every_final,
    })
}

fn is_loopback(u: &reqwest::Url) -> bool {
    match crate::backend::network::literal_host(u) {
        Some(ip) => crate::backend::network::canonical(ip).is_loopback(),
        None => u.host_str() == Some("localhost"),
    }
}

#[derive(Clone)]
pub struct NotifyService {
    store: DynStore,
    network: NetworkPolicy,
}

impl NotifyService {
    pub fn new(store: DynStore) -> Self {
        NotifyService { store, network: NetworkPolicy::public_only() }
    }

    pub fn with_network(mut self, policy: NetworkPolicy) -> Self {
        self.network = policy;
        self
    }

    /// Tells every hook of `project` about a two-person rule moment (`event`,
    /// see [`HookEvent::approval`]), in the background and once: a second
    /// admin learns a request waits for them (final statuses, which the
    /// notifier delivers with its own bookkeeping, are not sent here).
    pub fn announce(
        &self,
        project: &crate::backend::store::Project,
        inv: &crate::backend::store::Invalidation,
        event: &'static str,
    ) {
        let (store, policy) = (self.store.clone(), self.network.clone());
        let hook_event = HookEvent::approval(&project.token, inv, event);
        let project_id = project.id;
        tokio::spawn(async move {
            let hooks = match store.list_hooks(project_id).await {
                Ok(hooks) => hooks,
                Err(e) => return tracing::warn!(error = %e, "approval notice: could not read the hooks"),
            };
            let client = crate::backend::purge::client(NOTIFY_TIMEOUT, &policy);
            for hook in &hooks {
                let answer = deliver::send(&client, &policy, hook, &hook_event).await;
                tracing::info!(hook = %hook.name, event = hook_event.event, %answer, "approval notice sent");
                let _ = store.record_hook_result(hook.id, &answer, now_ms()).await;
            }
        });
    }

    /// The project's hooks (admins and staff; admins see the full URL, staff the host).
    pub async fn list(&self, actor: &Actor) -> Result<Vec<Hook>, ServiceError> {
        actor.require_admin_or_staff()?;
        let mut hooks = self.store.list_hooks(actor.project.id).await?;
        if !actor.role.can_manage() {
            for h in &mut hooks {
                h.url = host_only(&h.url);
            }
        }
        Ok(hooks)
    }

    pub async fn add(&self, actor: &Actor, input: &HookInput) -> Result<Hook, ServiceError> {
        actor.require(Role::can_manage)?;
        let new = validate(input, &self.network)?;
        let hook = self.store.add_hook(actor.project.id, &new, now_ms()).await?;
        let when = if hook.every_final { "every final status" } else { "error statuses" };
        let detail = format!("hook {} ({}, on {when})", hook.name, host_only(&hook.url));
        super::audit::record(&self.store, actor, "hook.added", detail).await;
        Ok(hook)
    }

    pub async fn remove(&self, actor: &Actor, hook_id: i64) -> Result<(), ServiceError> {
        actor.require(Role::can_manage)?;
        let hook = self.store.hook(actor.project.id, hook_id).await?;
        self.store.remove_hook(actor.project.id, hook_id).await?;
        super::audit::record(&self.store, actor, "hook.removed", format!("hook {}", hook.name)).await;
        Ok(())
    }

    /// Sends a signed `test` event to the hook and answers what it said (admins).
    pub async fn test(&self, actor: &Actor, hook_id: i64) -> Result<String, ServiceError> {
        actor.require(Role::can_manage)?;
        let hook = self.store.hook(actor.project.id, hook_id).await?;
        let client = crate::backend::purge::client(Duration::from_secs(10), &self.network);
        let event = HookEvent::test(&actor.project.token);
        let answer = deliver::send(&client, &self.network, &hook, &event).await;
        let _ = self.store.record_hook_result(hook.id, &answer, now_ms()).await;
        super::audit::record(&self.store, actor, "hook.tested", format!("hook {}: {answer}", hook.name)).await;
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(url: &str) -> HookInput {
        HookInput { name: "ci".into(), url: url.into(), secret: None, every_final: false }
    }

    #[test]
    fn hooks_are_https_or_loopback_http() {
        let any = NetworkPolicy::loopback();
        assert!(validate(&input("https://ci.example.com/hook"), &any).is_ok());
        assert!(validate(&input("http://127.0.0.1:9/hook"), &any).is_ok());
        for bad in ["http://ci.example.com/hook", "ftp://x", "not a url"] {
            let Err(ServiceError::Invalid(e)) = validate(&input(bad), &any) else { panic!("{bad} accepted") };
            assert_eq!(e[0].field, "url");
        }
        assert!(validate(&input("http://127.0.0.1:9/"), &NetworkPolicy::public_only()).is_err());
    }
}
