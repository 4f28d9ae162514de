//! The sign-in between the password and the second factor: the session
//! holds who typed a correct password (not signed in) until the one-time
//! code, or the set-up the policy requires, completes it.

use imgflush::backend::audit::RequestMeta;
use imgflush::backend::services::second_factor::{How, NextStep};
use imgflush::backend::store::User;
use imgflush::backend::{now_ms, ServiceError, Services};

use super::{internal, UserSession};
use crate::error::AppError;

/// The remembered-browser cookie (its token's SHA-256 is stored).
pub const DEVICE_COOKIE: &str = "imgflush_device";
/// A password's pending sign-in lasts this long.
const PENDING_MS: i64 = 10 * 60_000;
/// Wrong codes before the password must be typed again.
pub const MAX_TRIES: u32 = 5;

/// A correct password waiting for its second step.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Pending {
    pub user_id: i64,
    epoch: i64,
    /// Where the sign-in goes once complete (a checked local path).
    pub next: String,
    started_ms: i64,
    pub tries: u32,
    /// The policy requires a second factor the user has not set up yet.
    pub enrol: bool,
}

/// Where the browser goes after a correct password.
pub enum Then {
    /// Signed in: to `next`.
    SignedIn(String),
    /// To the one-time code's page.
    Code,
    /// To the set-up page the policy requires.
    Enrol,
}

impl Then {
    pub fn location(&self) -> String {
        match self {
            Then::SignedIn(next) => next.clone(),
            Then::Code => "/login/code".to_owned(),
            Then::Enrol => "/account/two-step".to_owned(),
        }
    }
}

impl UserSession {
    const PENDING: &'static str = "pending_sign_in";

    /// After a correct password (the sign-in form, an invitation link):
    /// signs in, or holds the sign-in for its second step; refused while
    /// single sign-on is required of this account. `device` is the
    /// remembered-browser cookie's value.
    pub async fn after_password(
        &self,
        services: &Services,
        user: &User,
        meta: &RequestMeta,
        next: &str,
        device: Option<&str>,
    ) -> Result<Then, AppError> {
        // Single sign-on required: no password signs in but the break-glass
        // owner's (the sign-in form checks first; invitation links here).
        if !services.sso.password_sign_in_allowed(&user.email, meta).await? {
            return Err(crate::ssr::answered(AppError::Conflict(
                "single sign-on is required: sign in with your identity provider on the sign-in page".into(),
            )));
        }
        let step = services.second_factor.after_password(user, device).await?;
        let enrol = match step {
            NextStep::SignIn(how) => {
                self.drop_pending().await?;
                self.sign_in(services, user, meta).await?;
                services.second_factor.signed_in(user, meta, how).await;
                return Ok(Then::SignedIn(next.to_owned()));
            }
            NextStep::Code { .. } => false,
            NextStep::Enrol => true,
        };
        // A fresh id here too: the pending state is not handed to a fixed id.
        self.0.cycle_id().await.map_err(internal)?;
        self.0.remove_value(Self::USER).await.map_err(internal)?;
        let pending = Pending {
            user_id: user.id,
            epoch: user.session_epoch,
            next: next.to_owned(),
            started_ms: now_ms(),
            tries: 0,
            enrol,
        };
        self.0.insert(Self::PENDING, pending).await.map_err(internal)?;
        Ok(if enrol { Then::Enrol } else { Then::Code })
    }

    /// The pending sign-in and its user, while it lasts and the account
    /// still stands (its password unchanged).
    pub async fn pending(&self, services: &Services) -> Result<Option<(Pending, User)>, AppError> {
        let Some(p) = self.0.get::<Pending>(Self::PENDING).await.map_err(internal)? else { return Ok(None) };
        if now_ms() - p.started_ms > PENDING_MS || p.tries >= MAX_TRIES {
            self.drop_pending().await?;
            return Ok(None);
        }
        match services.accounts.session_user(p.user_id, p.epoch).await {
            Ok(user) => Ok(Some((p, user))),
            Err(ServiceError::NotFound) => {
                self.drop_pending().await?;
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Counts a wrong code; answers whether tries are left.
    pub async fn wrong_code(&self, mut pending: Pending) -> Result<bool, AppError> {
        pending.tries += 1;
        if pending.tries >= MAX_TRIES {
            self.drop_pending().await?;
            return Ok(false);
        }
        self.0.insert(Self::PENDING, pending).await.map_err(internal)?;
        Ok(true)
    }

    /// The second step succeeded: the pending sign-in becomes a signed-in
    /// session (a fresh id, listed), recorded with how it was completed.
    pub async fn complete(
        &self,
        services: &Services,
        user: &User,
        meta: &RequestMeta,
        how: How,
    ) -> Result<(), AppError> {
        self.drop_pending().await?;
        self.sign_in(services, user, meta).await?;
        services.second_factor.signed_in(user, meta, how).await;
        Ok(())
    }

    pub async fn drop_pending(&self) -> Result<(), AppError> {
        self.0.remove::<Pending>(Self::PENDING).await.map_err(internal)?;
        Ok(())
    }
}

/// The remembered-browser cookie's token from a request's `Cookie` headers.
pub fn device_token(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == DEVICE_COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The `Set-Cookie` value that remembers this browser for `days` (marked
/// `Secure` with the session's cookie, behind https or always).
pub fn device_cookie(token: &str, days: i64) -> String {
    format!("{DEVICE_COOKIE}={token}; Max-Age={}; Path=/; HttpOnly; SameSite=Lax", days * 86_400)
}
