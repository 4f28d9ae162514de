//! Passkeys: the account's list, adding one (from the account page, or the
//! set-up the owners' policy requires before a sign-in completes), removing
//! one, and signing in with one (instead of the password, or as the second
//! step after it). The browser's side is an island calling these: each
//! ceremony is two calls, the options and then the device's answer.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use webauthn_rs_proto::{CreationChallengeResponse, RequestChallengeResponse};

use crate::error::AppError;
use crate::model::Timestamp;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyView {
    pub id: i64,
    pub name: String,
    pub created: Timestamp,
    pub last_used: Option<Timestamp>,
}

/// The signed-in user's passkeys.
#[server(prefix = "/sfn", endpoint = "list_passkeys", output = crate::codec::Json)]
pub async fn list_passkeys() -> Result<Vec<PasskeyView>, AppError> {
    let user = crate::ssr::current_user().await?;
    let keys = crate::ssr::services()?.second_factor.passkeys(&user).await?;
    Ok(keys
        .into_iter()
        .map(|k| PasskeyView {
            id: k.id,
            name: k.name,
            created: k.created.into(),
            last_used: k.last_used.map(Into::into),
        })
        .collect())
}

/// The browser's options for a new passkey: the signed-in user's (under
/// their write limit, after their current password: a passkey outlives the
/// session and signs in on its own), or the user whose sign-in waits for
/// the set-up the policy requires (their password was just checked).
#[server(prefix = "/sfn", endpoint = "passkey_registration", output = crate::codec::Json)]
pub async fn passkey_registration(current_password: Option<String>) -> Result<CreationChallengeResponse, AppError> {
    let (services, us, user, pending) = ssr::registering_user().await?;
    if pending.is_none() {
        let meta = crate::ssr::request_meta().await;
        services.accounts.confirm_password(&user, current_password.as_deref().unwrap_or_default(), &meta).await?;
    }
    let origin = crate::ssr::passkey_step::passkey_origin().await?;
    let (options, registration) = services.second_factor.start_passkey_registration(&user, &origin).await?;
    us.keep_registration(registration).await?;
    Ok(options)
}

/// Where the browser goes once a passkey is added: nowhere (it stays on the
/// account page), or on into the console when it completed a sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyAdded {
    pub next: Option<String>,
}

/// The device's answer (`credential`, the browser's JSON) registers the
/// passkey under `name`. For a sign-in waiting for its set-up, this
/// completes it.
#[server(prefix = "/sfn", endpoint = "add_passkey", output = crate::codec::Json)]
pub async fn add_passkey(name: String, credential: String) -> Result<PasskeyAdded, AppError> {
    use imgflush::backend::services::second_factor::How;

    let (services, us, user, pending) = ssr::registering_user().await?;
    let meta = crate::ssr::request_meta().await;
    let credential = ssr::parse(&credential)?;
    // Before the ceremony's state is used up: a name to fix keeps it.
    imgflush::backend::services::second_factor::passkeys::checked_name(&name)?;
    let Some(registration) = us.take_registration().await? else {
        return Err(ssr::invalid("passkey", "the passkey prompt expired: add the passkey again"));
    };
    services.second_factor.finish_passkey_registration(&user, registration, &name, &credential, &meta).await?;
    let Some(pending) = pending else { return Ok(PasskeyAdded { next: None }) };
    us.complete(&services, &user, &meta, How::Enrolled).await?;
    Ok(PasskeyAdded { next: Some(pending.next) })
}

/// The options of a passkey sign-in: the second step of the sign-in whose
/// password was right (`second_step`), or a sign-in without the e-mail.
#[server(prefix = "/sfn", endpoint = "passkey_sign_in_options", output = crate::codec::Json)]
pub async fn passkey_sign_in_options(second_step: bool) -> Result<RequestChallengeResponse, AppError> {
    use crate::ssr::{answered, internal, services, UserSession};

    let services = services()?;
    let us = UserSession::new(leptos_axum::extract().await.map_err(internal)?);
    let origin = crate::ssr::passkey_step::passkey_origin().await?;
    let (options, assertion) = if second_step {
        let Some((pending, user)) = us.pending(&services).await?.filter(|(p, _)| !p.enrol) else {
            return Err(answered(AppError::NotFound));
        };
        drop(pending);
        services.second_factor.start_passkey_step(&user, &origin).await?
    } else {
        services.second_factor.start_passkey_sign_in(&origin)?
    };
    us.keep_assertion(assertion).await?;
    Ok(options)
}

/// The device's answer signs in (under the sign-in throttle); answers where
/// the browser goes next. Required single sign-on refuses it as it refuses
/// a password.
#[server(prefix = "/sfn", endpoint = "sign_in_with_passkey", output = crate::codec::Json)]
pub async fn sign_in_with_passkey(credential: String, next: Option<String>) -> Result<String, AppError> {
    use crate::ssr::{answered, internal, request_meta, services, UserSession};
    use imgflush::backend::auth::AuthError;

    let services = services()?;
    let us = UserSession::new(leptos_axum::extract().await.map_err(internal)?);
    let meta = request_meta().await;
    let credential = ssr::parse(&credential)?;
    let Some(assertion) = us.take_assertion().await? else {
        return Err(ssr::invalid("passkey", "the passkey prompt expired: try again"));
    };
    let pending = us.pending(&services).await?.filter(|(p, _)| !p.enrol);
    let pending_user = pending.as_ref().map(|(_, u)| u);
    match services.second_factor.finish_passkey(assertion, pending_user, &credential, &meta).await {
        Ok((user, how)) => {
            if !services.sso.password_sign_in_allowed(&user.email, &meta).await? {
                return Err(answered(AppError::Conflict(
                    "single sign-on is required: sign in with your identity provider".into(),
                )));
            }
            us.complete(&services, &user, &meta, how).await?;
            let next = match pending {
                Some((p, _)) => p.next,
                None => crate::ssr::next::safe_next(next.as_deref()).to_owned(),
            };
            Ok(next)
        }
        Err(AuthError::InvalidCredentials) => {
            if let Some((p, _)) = pending {
                us.wrong_code(p).await?;
            }
            Err(ssr::invalid("passkey", "this passkey was not accepted: use another one, or sign in another way"))
        }
        Err(AuthError::Throttled(secs)) => {
            Err(ssr::invalid("passkey", &format!("too many attempts; try again in {secs} seconds")))
        }
        Err(AuthError::Store(e)) => Err(e.into()),
        Err(AuthError::Hash(e)) => Err(internal(e)),
    }
}

/// Removes one of the signed-in user's passkeys.
#[server(prefix = "/sfn", endpoint = "remove_passkey", output = crate::codec::Json)]
pub async fn remove_passkey(id: i64) -> Result<(), AppError> {
    let (services, user) = super::user_writer().await?;
    services.second_factor.remove_passkey(&user, id, &crate::ssr::request_meta().await).await?;
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    use imgflush::backend::store::User;
    use imgflush::backend::Services;
    use serde::de::DeserializeOwned;

    use crate::error::{AppError, FieldError};
    use crate::ssr::second_step::Pending;
    use crate::ssr::{answered, internal, request_meta, services, UserSession};

    /// Who adds a passkey: the user whose sign-in waits for its set-up (with
    /// that pending sign-in), else the signed-in user (under their write limit).
    pub async fn registering_user() -> Result<(Services, UserSession, User, Option<Pending>), AppError> {
        let services = services()?;
        let us = UserSession::new(leptos_axum::extract().await.map_err(internal)?);
        if let Some((pending, user)) = us.pending(&services).await?.filter(|(p, _)| p.enrol) {
            return Ok((services, us, user, Some(pending)));
        }
        let Some(user) = us.user_with(&services, &request_meta().await).await? else {
            return Err(answered(AppError::Unauthorized));
        };
        services.limits.console_write_by(user.id).await?;
        Ok((services, us, user, None))
    }

    pub fn invalid(field: &str, message: &str) -> AppError {
        answered(AppError::Invalid(vec![FieldError::new(field, message)]))
    }

    /// The browser's answer, as JSON.
    pub fn parse<T: DeserializeOwned>(credential: &str) -> Result<T, AppError> {
        serde_json::from_str(credential)
            .map_err(|_| invalid("credential", "not a WebAuthn answer: let the page ask the device again"))
    }
}
