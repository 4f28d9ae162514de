//! The account a verified identity signs in to: an existing one by its
//! verified e-mail only, else a new one (allowed domains only) with a
//! random password nobody knows; then the projects its groups map to.
//! The identity provider is trusted for the second factor: an SSO sign-in
//! asks for none of the console's own.

use super::service::SsoService;
use super::types::Refusal;
use crate::backend::audit::{self, RequestMeta};
use crate::backend::auth::{hash_password, normalize_email};
use crate::backend::store::{SsoProvider, StoreError, User};
use crate::backend::{now_ms, random_alphanumeric, ServiceError};
use crate::domain::sso::domain_allowed;

impl SsoService {
    pub(super) async fn account(
        &self,
        provider: &SsoProvider,
        email: &str,
        groups: &[String],
        meta: &RequestMeta,
    ) -> Result<User, Refusal> {
        let email = normalize_email(email);
        if !domain_allowed(&provider.domains, &email) {
            return Err(Refusal::Domain(email));
        }
        let via = format!("via {}", provider.name);
        let user = match self.store.user_by_email(&email).await {
            Ok(user) => user,
            Err(StoreError::NotFound) => {
                // Unusable: the hash of a password nobody ever sees.
                let hash = hash_password(random_alphanumeric(40))
                    .await
                    .map_err(|e| Refusal::Internal(ServiceError::Internal(e.to_string())))?;
                let user = match self.store.create_user(&email, &hash, now_ms()).await {
                    Ok(u) => u,
                    // Two first sign-ins at once: the other one made it.
                    Err(StoreError::Conflict(_)) => self.store.user_by_email(&email).await?,
                    Err(e) => return Err(e.into()),
                };
                audit::record_instance(&self.store, &email, Some(user.id), meta, "sso.account_created", &via).await;
                user
            }
            Err(e) => return Err(e.into()),
        };
        self.join_mapped(provider, &user, groups, meta).await?;
        if let Err(e) = self.store.record_sign_in(user.id, now_ms()).await {
            tracing::warn!(error = %e, "could not record the sign-in time");
        }
        audit::record_instance(&self.store, &email, Some(user.id), meta, "sso.sign_in", &via).await;
        Ok(user)
    }

    /// Adds the memberships the user's groups map to and they lack; never
    /// changes or removes one (an admin's choice stands).
    async fn join_mapped(
        &self,
        provider: &SsoProvider,
        user: &User,
        groups: &[String],
        meta: &RequestMeta,
    ) -> Result<(), Refusal> {
        let rules: Vec<_> = provider.group_map.iter().filter(|r| groups.contains(&r.group)).collect();
        if rules.is_empty() {
            return Ok(());
        }
        let mut have: Vec<String> =
            self.store.memberships_of(user.id).await?.into_iter().map(|m| m.project.token).collect();
        for rule in rules {
            if have.iter().any(|t| t == rule.project.as_str()) {
                continue;
            }
            let project = match self.store.project_by_token(rule.project.as_str()).await {
                Ok(p) => p,
                Err(StoreError::NotFound) => {
                    tracing::warn!(project = %rule.project, "a group maps to a project that does not exist");
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            self.store.set_membership(user.id, project.id, rule.role).await?;
            have.push(project.token.clone());
            let detail = format!("joined {} as {} (group {} {})", project.token, rule.role, rule.group, provider.name);
            audit::record_instance(&self.store, &user.email, Some(user.id), meta, "sso.joined", &detail).await;
        }
        Ok(())
    }

    /// Records a refused sign-in with its reason (never a token or code).
    pub(super) async fn refused(&self, provider: &str, refusal: &Refusal, meta: &RequestMeta) {
        let who = match refusal {
            Refusal::Domain(email) | Refusal::Unverified(email) => email.clone(),
            _ => format!("(single sign-on via {provider})"),
        };
        let detail = format!("{}: {refusal} (via {provider})", refusal.code());
        audit::record_instance(&self.store, &who, None, meta, "sso.sign_in.refused", &detail).await;
    }
}

impl SsoService {
    /// A callback with no sign-in under way in its session (replayed, or
    /// from another browser): refused, and recorded.
    pub async fn stale_callback(&self, meta: &RequestMeta) {
        let detail = format!("{}: {}", Refusal::State.code(), Refusal::State);
        audit::record_instance(&self.store, "(single sign-on)", None, meta, "sso.sign_in.refused", &detail).await;
    }
}
