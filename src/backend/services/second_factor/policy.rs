//! The owners' side: the sign-in policy and a user's reset.

use super::SecondFactorService;
use crate::backend::audit::{self, RequestMeta};
use crate::backend::store::{StoreError, User};
use crate::backend::{now_ms, ServiceError};
use crate::domain::sign_in_policy::SignInPolicy;
use crate::domain::{InstanceRole, Role};

impl SecondFactorService {
    /// An owner resets a user's second factor (a lost phone): the secret,
    /// recovery codes, passkeys and remembered browsers go, and the user's sessions
    /// end; they set it up again at their next sign-in if the policy says so.
    pub async fn reset(&self, owner: &User, user_id: i64, meta: &RequestMeta) -> Result<String, ServiceError> {
        require_owner(owner)?;
        let user = self.store.user_by_id(user_id).await?;
        let had_app = self.store.remove_second_factors(user.id).await?;
        let had = self.store.remove_passkeys(user.id).await? > 0 || had_app;
        if !had {
            return Err(ServiceError::Conflict(format!("{} has no two-step sign-in to reset", user.email)));
        }
        self.end_sessions(user.id).await?;
        let detail = format!("{}: authenticator, recovery codes, passkeys and remembered browsers removed", user.email);
        audit::record_instance(&self.store, &owner.email, Some(owner.id), meta, "second_factor.reset", &detail).await;
        Ok(user.email)
    }

    /// The owner sets the policy. A rule the owner falls under themselves
    /// needs their own second factor first (else they would lock
    /// themselves out of this page); users it newly covers who have none
    /// are signed out and set it up at their next sign-in.
    pub async fn set_policy(
        &self,
        owner: &User,
        policy: SignInPolicy,
        meta: &RequestMeta,
    ) -> Result<usize, ServiceError> {
        require_owner(owner)?;
        let rule = policy.second_factor_for;
        if self.rule_applies(rule, owner.id, owner.instance_role).await? && !self.enrolled(owner.id).await? {
            return Err(ServiceError::field(
                "second_factor_for",
                "turn on two-step sign-in for your own account first (Account page)",
            ));
        }
        self.store.set_sign_in_policy(&policy, now_ms()).await?;
        let mut signed_out = 0;
        for u in self.store.user_overview().await? {
            if !u.two_step && self.rule_applies(rule, u.id, u.instance_role).await? {
                self.end_sessions(u.id).await?;
                signed_out += 1;
            }
        }
        let detail = format!(
            "second factor for {}; browsers remembered {} days; {signed_out} signed out to set it up",
            rule.as_str(),
            policy.remember_days
        );
        audit::record_instance(&self.store, &owner.email, Some(owner.id), meta, "sign_in_policy.changed", &detail)
            .await;
        Ok(signed_out)
    }

    async fn end_sessions(&self, user_id: i64) -> Result<(), StoreError> {
        self.store.bump_session_epoch(user_id).await?;
        self.store.end_sign_ins(user_id, None, None, now_ms()).await?;
        Ok(())
    }
}

fn require_owner(user: &User) -> Result<(), ServiceError> {
    if user.instance_role != Some(InstanceRole::Owner) {
        return Err(ServiceError::Forbidden(Role::Admin));
    }
    Ok(())
}
