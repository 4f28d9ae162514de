//! The service: owners' settings (providers, the policy) and the password
//! form's check of the policy.

use crate::backend::audit::{self, RequestMeta};
use crate::backend::auth::normalize_email;
use crate::backend::store::{DynStore, NewSsoProvider, SsoPolicy, SsoProvider, StoreError, User};
use crate::backend::vault::{Credentials, Vault, HOW_TO_SET_A_KEY};
use crate::backend::{now_ms, ServiceError};
use crate::domain::sso::ProviderInput;
use crate::domain::{InstanceRole, Role};

use super::http::Http;

/// The key the client secret is sealed under, inside the vault's map.
pub(super) const SECRET: &str = "client_secret";
/// Who the audit trail names for the command line.
const OPERATOR: &str = "operator (command line)";

#[derive(Clone)]
pub struct SsoService {
    pub(super) store: DynStore,
    pub(super) vault: Vault,
    pub(super) http: Http,
}

impl SsoService {
    pub fn new(store: DynStore) -> Self {
        SsoService { store, vault: Vault::none(), http: Http::new() }
    }

    pub fn with_vault(mut self, vault: Vault) -> Self {
        self.vault = vault;
        self
    }

    /// The providers users may sign in with, for the sign-in page (id, name): public.
    pub async fn choices(&self) -> Result<Vec<(i64, String)>, ServiceError> {
        Ok(self.store.sso_providers().await?.into_iter().map(|p| (p.id, p.name)).collect())
    }

    /// Every provider with its settings (owners; never the secret).
    pub async fn providers(&self, owner: &User) -> Result<Vec<SsoProvider>, ServiceError> {
        require_owner(owner)?;
        Ok(self.store.sso_providers().await?)
    }

    /// Adds a provider once its discovery document answers for its issuer.
    #[tracing::instrument(skip_all, fields(owner = owner.id), err)]
    pub async fn add(&self, owner: &User, input: &ProviderInput, meta: &RequestMeta) -> Result<i64, ServiceError> {
        require_owner(owner)?;
        self.add_by(&owner.email, Some(owner.id), input, meta).await
    }

    /// The operator at the command line (`server sso add`).
    pub async fn operator_add(&self, input: &ProviderInput) -> Result<i64, ServiceError> {
        self.add_by(OPERATOR, None, input, &RequestMeta::default()).await
    }

    /// Every provider (`server sso list`).
    pub async fn operator_providers(&self) -> Result<Vec<SsoProvider>, ServiceError> {
        Ok(self.store.sso_providers().await?)
    }

    /// `server sso remove`.
    pub async fn operator_remove(&self, id: i64) -> Result<(), ServiceError> {
        self.remove_by(OPERATOR, None, id, &RequestMeta::default()).await
    }

    async fn add_by(
        &self,
        who: &str,
        user_id: Option<i64>,
        input: &ProviderInput,
        meta: &RequestMeta,
    ) -> Result<i64, ServiceError> {
        let s = input.parse().map_err(ServiceError::Invalid)?;
        if !self.vault.is_configured() {
            let why =
                format!("the secret is stored encrypted, and no credential key is configured: {HOW_TO_SET_A_KEY}");
            return Err(ServiceError::field("client_secret", why));
        }
        self.http.discover(&s.issuer).await.map_err(|e| ServiceError::field("issuer", e))?;
        let secret = Credentials([(SECRET.to_owned(), s.client_secret.clone())].into());
        let sealed = self.vault.seal(&secret).map_err(|e| ServiceError::field("client_secret", e.to_string()))?;
        let new = NewSsoProvider {
            name: s.name,
            issuer: s.issuer,
            client_id: s.client_id,
            client_secret: sealed,
            domains: s.domains,
            groups_claim: s.groups_claim,
            group_map: s.group_map,
        };
        let id = self.store.add_sso_provider(&new, now_ms()).await?;
        let detail = format!("{} ({}), domains {}", new.name, new.issuer, new.domains.join(", "));
        audit::record_instance(&self.store, who, user_id, meta, "sso.provider_added", &detail).await;
        Ok(id)
    }

    pub async fn remove(&self, owner: &User, id: i64, meta: &RequestMeta) -> Result<(), ServiceError> {
        require_owner(owner)?;
        self.remove_by(&owner.email, Some(owner.id), id, meta).await
    }

    async fn remove_by(
        &self,
        who: &str,
        user_id: Option<i64>,
        id: i64,
        meta: &RequestMeta,
    ) -> Result<(), ServiceError> {
        let p = self.store.sso_provider(id).await?;
        self.store.remove_sso_provider(id).await?;
        let detail = format!("{} ({})", p.name, p.issuer);
        audit::record_instance(&self.store, who, user_id, meta, "sso.provider_removed", &detail).await;
        Ok(())
    }

    /// The policy and the break-glass owner's e-mail (owners).
    pub async fn policy(&self, owner: &User) -> Result<(SsoPolicy, Option<String>), ServiceError> {
        require_owner(owner)?;
        let policy = self.store.sso_policy().await?;
        let email = match policy.break_glass_user_id {
            Some(id) => self.store.user_by_id(id).await.ok().map(|u| u.email),
            None => None,
        };
        Ok((policy, email))
    }

    /// Requires single sign-on (or not) for everyone but `break_glass`, an
    /// owner's e-mail, who keeps the password when the provider is down.
    #[tracing::instrument(skip_all, fields(owner = owner.id, required), err)]
    pub async fn set_policy(
        &self,
        owner: &User,
        required: bool,
        break_glass: &str,
        meta: &RequestMeta,
    ) -> Result<(), ServiceError> {
        require_owner(owner)?;
        let email = normalize_email(break_glass);
        let glass = match self.store.user_by_email(&email).await {
            Ok(u) if u.instance_role == Some(InstanceRole::Owner) => Some(u),
            Ok(_) | Err(StoreError::NotFound) if email.is_empty() && !required => None,
            Ok(_) | Err(StoreError::NotFound) => {
                return Err(ServiceError::field("break_glass", "the e-mail of an owner, who keeps password sign-in"))
            }
            Err(e) => return Err(e.into()),
        };
        if required && self.store.sso_providers().await?.is_empty() {
            return Err(ServiceError::field("required", "add an identity provider first"));
        }
        let policy = SsoPolicy { required, break_glass_user_id: glass.as_ref().map(|u| u.id) };
        self.store.set_sso_policy(&policy, now_ms()).await?;
        let detail = match (required, &glass) {
            (true, Some(g)) => format!("single sign-on required; break-glass owner {}", g.email),
            (false, Some(g)) => format!("single sign-on optional; break-glass owner {}", g.email),
            _ => "single sign-on optional".to_owned(),
        };
        audit::record_instance(&self.store, &owner.email, Some(owner.id), meta, "sso.policy", &detail).await;
        Ok(())
    }

    /// Whether `email` may sign in with a password: always, unless single
    /// sign-on is required and it is not the break-glass owner's. Unknown
    /// and known e-mails get the same answer (only one account is compared).
    /// A refusal is audited.
    pub async fn password_sign_in_allowed(&self, email: &str, meta: &RequestMeta) -> Result<bool, ServiceError> {
        let allowed = self.password_allowed(email).await?;
        if !allowed {
            let who = crate::backend::auth::account_key(email);
            let why = "single sign-on is required";
            audit::record_instance(&self.store, &who, None, meta, "sign_in.failed", why).await;
        }
        Ok(allowed)
    }

    async fn password_allowed(&self, email: &str) -> Result<bool, ServiceError> {
        let policy = self.store.sso_policy().await?;
        if !policy.required {
            return Ok(true);
        }
        let Some(id) = policy.break_glass_user_id else { return Ok(false) };
        match self.store.user_by_id(id).await {
            Ok(glass) => Ok(glass.email == normalize_email(email)),
            Err(StoreError::NotFound) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

fn require_owner(user: &User) -> Result<(), ServiceError> {
    if user.instance_role != Some(InstanceRole::Owner) {
        return Err(ServiceError::Forbidden(Role::Admin));
    }
    Ok(())
}
