//! Two-step sign-in: the pending sign-in's page, the authenticator set-up,
//! the account's status and recovery codes, and the owners' policy and
//! reset. The code forms themselves are plain posts (`/login/code`,
//! `/account/two-step`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The one-time code's page: whose sign-in waits, and for how long a
/// browser may be remembered (0: not offered).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingView {
    pub email: String,
    pub remember_days: i64,
    /// The authenticator app is set up (a code is asked).
    pub code: bool,
    /// The account has passkeys (one may be used instead of a code).
    pub passkey: bool,
}

/// The set-up page: the secret as text and as a QR code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetupView {
    pub email: String,
    /// Base32, in groups of four for typing.
    pub secret: String,
    pub uri: String,
    pub qr_svg: String,
    /// The owners' policy requires it (the sign-in waits for it).
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwoStepView {
    /// The authenticator app is set up.
    pub on: bool,
    pub passkeys: usize,
    pub codes_left: i64,
    pub required: bool,
}

/// A sign-in waiting for its one-time code (no one is signed in yet):
/// `NotFound` when there is none, or it ended.
#[server(prefix = "/sfn", endpoint = "pending_sign_in", output = crate::codec::Json)]
pub async fn pending_sign_in() -> Result<PendingView, AppError> {
    use crate::ssr::{answered, internal, services, UserSession};

    let services = services()?;
    let session: tower_sessions::Session = leptos_axum::extract().await.map_err(internal)?;
    match UserSession::new(session).pending(&services).await? {
        Some((p, user)) if !p.enrol => {
            let remember_days = services.second_factor.policy().await?.remember_days;
            let status = services.second_factor.status(&user).await?;
            Ok(PendingView { email: user.email, remember_days, code: status.on, passkey: status.passkeys > 0 })
        }
        _ => Err(answered(AppError::NotFound)),
    }
}

/// The authenticator's secret for the signed-in user, or for a sign-in the
/// policy holds until it is set up. `Conflict` once it is on.
#[server(prefix = "/sfn", endpoint = "two_step_setup", output = crate::codec::Json)]
pub async fn two_step_setup() -> Result<SetupView, AppError> {
    use crate::ssr::{answered, internal, request_meta, services, UserSession};

    let services = services()?;
    let session: tower_sessions::Session = leptos_axum::extract().await.map_err(internal)?;
    let us = UserSession::new(session);
    let (user, required) = match us.pending(&services).await? {
        Some((p, user)) if p.enrol => (user, true),
        _ => match us.user_with(&services, &request_meta().await).await? {
            Some(user) => {
                services.limits.console_write_by(user.id).await?;
                let required = services.second_factor.required_for(&user).await?;
                (user, required)
            }
            None => return Err(answered(AppError::Unauthorized)),
        },
    };
    let setup = services.second_factor.setup(&user).await?;
    let grouped: Vec<String> = setup.secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into()).collect();
    Ok(SetupView { email: user.email, secret: grouped.join(" "), uri: setup.uri, qr_svg: setup.qr_svg, required })
}

/// The signed-in user's two-step sign-in: on or off, recovery codes left.
#[server(prefix = "/sfn", endpoint = "two_step_status", output = crate::codec::Json)]
pub async fn two_step_status() -> Result<TwoStepView, AppError> {
    let user = crate::ssr::current_user().await?;
    let s = crate::ssr::services()?.second_factor.status(&user).await?;
    Ok(TwoStepView { on: s.on, passkeys: s.passkeys, codes_left: s.codes_left, required: s.required })
}

/// Ten new recovery codes (the old ones stop working), after a current code.
#[server(prefix = "/sfn", endpoint = "new_recovery_codes", output = crate::codec::Json)]
pub async fn new_recovery_codes(code: String) -> Result<Vec<String>, AppError> {
    let (services, user) = super::user_writer().await?;
    let codes = services.second_factor.new_recovery_codes(&user, &code, &crate::ssr::request_meta().await).await?;
    crate::ssr::flash_for_plain_form("recovery_codes", &codes.join("\n")).await;
    Ok(codes)
}

/// Turns two-step sign-in off, after a current code (refused while the
/// owners' policy requires it).
#[server(prefix = "/sfn", endpoint = "turn_off_two_step", output = crate::codec::Json)]
pub async fn turn_off_two_step(code: String) -> Result<(), AppError> {
    let (services, user) = super::user_writer().await?;
    services.second_factor.turn_off(&user, &code, &crate::ssr::request_meta().await).await?;
    Ok(())
}

/// The sign-in policy as the Users page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyView {
    pub second_factor_for: imgflush::domain::sign_in_policy::SecondFactorRule,
    pub remember_days: i64,
    /// Owners change it; staff read it.
    pub can_change: bool,
}

/// The instance's sign-in policy (owners and staff read it).
#[server(prefix = "/sfn", endpoint = "get_sign_in_policy", output = crate::codec::Json)]
pub async fn get_sign_in_policy() -> Result<PolicyView, AppError> {
    let user = crate::ssr::current_user().await?;
    if user.instance_role.is_none() {
        return Err(crate::ssr::answered(AppError::Forbidden));
    }
    let p = crate::ssr::services()?.second_factor.policy().await?;
    let can_change = user.instance_role == Some(imgflush::domain::InstanceRole::Owner);
    Ok(PolicyView { second_factor_for: p.second_factor_for, remember_days: p.remember_days, can_change })
}

/// Owners set who must use a second factor and how long a browser is
/// remembered; answers how many users were signed out to set it up.
#[server(prefix = "/sfn", endpoint = "set_sign_in_policy", output = crate::codec::Json)]
pub async fn set_sign_in_policy(second_factor_for: String, remember_days: String) -> Result<usize, AppError> {
    let (services, me) = super::user_writer().await?;
    let policy = imgflush::domain::sign_in_policy::SignInPolicy::parse(&second_factor_for, &remember_days)
        .map_err(|errors| crate::ssr::answered(AppError::Invalid(errors)))?;
    Ok(services.second_factor.set_policy(&me, policy, &crate::ssr::request_meta().await).await?)
}

/// An owner resets a user's second factor (a lost phone); answers their e-mail.
#[server(prefix = "/sfn", endpoint = "reset_two_step", output = crate::codec::Json)]
pub async fn reset_two_step(user_id: i64) -> Result<String, AppError> {
    let (services, me) = super::user_writer().await?;
    Ok(services.second_factor.reset(&me, user_id, &crate::ssr::request_meta().await).await?)
}
