//! User accounts: sign-in (throttled, argon2id off the runtime), the user a
//! session points at, and the operator's account commands.

use std::net::IpAddr;
use std::sync::Arc;

use crate::backend::audit::{self, RequestMeta};
use crate::backend::auth::{self, AuthError};
use crate::backend::limits::LoginThrottle;
use crate::backend::store::{DynStore, StoreError, User};
use crate::backend::ServiceError;
use crate::domain::InstanceRole;

#[derive(Clone)]
pub struct AccountService {
    store: DynStore,
    throttle: Arc<LoginThrottle>,
}

impl AccountService {
    pub fn new(store: DynStore, throttle: LoginThrottle) -> Self {
        AccountService { store, throttle: Arc::new(throttle) }
    }

    /// The sign-in limiter, which invitation links count against too.
    pub(crate) fn throttle(&self) -> &LoginThrottle {
        &self.throttle
    }

    /// Checks the credentials under the sign-in throttle: the attempt is
    /// counted before the password is checked. Unknown e-mail and wrong
    /// password give the same error, after the same work.
    pub async fn sign_in(&self, email: &str, password: &str, ip: Option<IpAddr>) -> Result<User, AuthError> {
        let attempt = self.throttle.reserve(email, ip).await?;
        if !attempt.delay.is_zero() {
            tokio::time::sleep(attempt.delay).await;
        }
        if email.len() > auth::MAX_EMAIL_KEY_BYTES {
            // No account has such an address; same answer, same work.
            let _ = auth::authenticate(&self.store, "", password).await;
            return Err(AuthError::InvalidCredentials);
        }
        let user = auth::authenticate(&self.store, email, password).await?;
        self.throttle.succeeded(attempt).await;
        if let Err(e) = self.store.record_sign_in(user.id, crate::backend::now_ms()).await {
            tracing::warn!(error = %e, "could not record the sign-in time");
        }
        Ok(user)
    }

    /// [`Self::sign_in`] from the sign-in form, failures recorded in the
    /// instance's audit trail (the e-mail as typed; never the password).
    /// The caller records the sign-in once complete
    /// ([`SecondFactorService::signed_in`](super::second_factor::SecondFactorService::signed_in)).
    pub async fn sign_in_from(&self, email: &str, password: &str, meta: &RequestMeta) -> Result<User, AuthError> {
        let result = self.sign_in(email, password, meta.ip).await;
        let who = auth::account_key(email);
        match &result {
            // The sign-in is recorded once complete (a second step may follow).
            Ok(_) => {}
            Err(AuthError::InvalidCredentials) => {
                audit::record_instance(&self.store, &who, None, meta, "sign_in.failed", "wrong e-mail or password")
                    .await
            }
            Err(AuthError::Throttled(secs)) => {
                let why = format!("throttled for {secs} s");
                audit::record_instance(&self.store, &who, None, meta, "sign_in.failed", &why).await
            }
            Err(_) => {}
        }
        result
    }

    /// The signed-in user proves it is them before a change that outlives
    /// the session (a new password, a new passkey): the current password,
    /// under the sign-in throttle, refused as the field `current_password`.
    pub async fn confirm_password(&self, user: &User, current: &str, meta: &RequestMeta) -> Result<(), ServiceError> {
        if !user.password_set {
            return Err(ServiceError::field(
                "current_password",
                "this account has no password to confirm it with (it signs in through single sign-on)",
            ));
        }
        match self.sign_in(&user.email, current, meta.ip).await {
            Ok(_) => Ok(()),
            Err(AuthError::InvalidCredentials) => {
                Err(ServiceError::field("current_password", "this is not your current password"))
            }
            Err(AuthError::Throttled(secs)) => {
                Err(ServiceError::field("current_password", format!("too many attempts; try again in {secs} seconds")))
            }
            Err(AuthError::Store(e)) => Err(e.into()),
            Err(e) => Err(ServiceError::Internal(e.to_string())),
        }
    }

    /// The signed-in user changes their own password: the current one is
    /// checked (under the sign-in throttle), every session ends, and the
    /// user comes back with the new session epoch so the caller can keep
    /// their own session going.
    pub async fn change_password(
        &self,
        user: &User,
        current: &str,
        new: &str,
        meta: &RequestMeta,
    ) -> Result<User, ServiceError> {
        auth::check_new_password("new_password", new)?;
        self.confirm_password(user, current, meta).await?;
        self.set_password(user, new.to_owned()).await?;
        let detail = "own password; every other session ended";
        audit::record_instance(&self.store, &user.email, Some(user.id), meta, "password.changed", detail).await;
        self.user(user.id).await
    }

    /// The operator gives or takes an instance role (`owner`, `staff`).
    pub async fn set_instance_role(&self, user: &User, role: Option<InstanceRole>) -> Result<(), ServiceError> {
        Ok(self.store.set_instance_role(user.id, role).await?)
    }

    /// The user a session names; `NotFound` once the account is gone.
    pub async fn user(&self, user_id: i64) -> Result<User, ServiceError> {
        Ok(self.store.user_by_id(user_id).await?)
    }

    /// The user a session signed in under `epoch` names: `NotFound` once the
    /// account is gone or its password changed since (the session has ended).
    pub async fn session_user(&self, user_id: i64, epoch: i64) -> Result<User, ServiceError> {
        let user = self.store.user_by_id(user_id).await?;
        if user.session_epoch != epoch {
            return Err(ServiceError::NotFound);
        }
        Ok(user)
    }

    // The operator's own calls (CLI and first start).

    pub async fn count(&self) -> Result<i64, ServiceError> {
        Ok(self.store.count_users().await?)
    }

    /// The user with `email`, or `None`.
    pub async fn find(&self, email: &str) -> Result<Option<User>, ServiceError> {
        match self.store.user_by_email(&auth::normalize_email(email)).await {
            Ok(u) => Ok(Some(u)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn create(&self, email: &str, password: String) -> Result<User, ServiceError> {
        let hash = auth::hash_password(password).await.map_err(hash_failed)?;
        Ok(self.store.create_user(&auth::normalize_email(email), &hash, crate::backend::now_ms()).await?)
    }

    /// Sets a new password and ends every session the user has (the epoch
    /// moves on, and the listed sessions are marked ended).
    pub async fn set_password(&self, user: &User, password: String) -> Result<(), ServiceError> {
        let hash = auth::hash_password(password).await.map_err(hash_failed)?;
        let now = crate::backend::now_ms();
        self.store.set_password(user.id, &hash, now).await?;
        self.store.end_sign_ins(user.id, None, None, now).await?;
        Ok(())
    }

    /// Removes the user with all their memberships; their sessions end at
    /// the next request (the account they name is gone).
    pub async fn remove(&self, user: &User) -> Result<(), ServiceError> {
        Ok(self.store.delete_user(user.id).await?)
    }
}

fn hash_failed(e: AuthError) -> ServiceError {
    ServiceError::Internal(format!("could not hash the password: {e}"))
}
