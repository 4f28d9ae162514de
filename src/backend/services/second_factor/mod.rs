//! Two-step sign-in: an authenticator app's one-time codes (TOTP, RFC 6238)
//! after the password, ten one-time recovery codes, browsers the user chose
//! to remember, and the owner's policy of who must use it. Codes are
//! throttled like passwords (per account and per source), a code is
//! accepted once, and every change is in the audit trail.

use std::sync::Arc;

use totp_rs::Secret;

use crate::backend::audit::{self, RequestMeta};
use crate::backend::auth::AuthError;
use crate::backend::limits::{Attempt, LoginThrottle};
use crate::backend::store::{DynStore, StoreError, User};
use crate::backend::{now_ms, ServiceError};
use crate::domain::sign_in_policy::{SecondFactorRule, SignInPolicy};
use crate::domain::{InstanceRole, Role};

mod codes;
pub mod passkeys;
mod policy;

pub use codes::RECOVERY_CODES;
use codes::{clean_code, digest, normal_recovery, recovery_codes, totp};

const DAY_MS: i64 = 24 * 3_600_000;

/// What the password alone leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Signed in (no second factor, or a remembered browser).
    SignIn(How),
    /// A one-time code is asked next; the browser may be remembered for
    /// this many days (0: not offered).
    Code { remember_days: i64 },
    /// The policy requires a second factor the user has not set up: they
    /// set it up before they are signed in.
    Enrol,
}

/// How a sign-in was completed (the audit trail's detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Password,
    AuthenticatorCode,
    RecoveryCode,
    RememberedBrowser,
    Enrolled,
    Passkey,
}

impl How {
    fn detail(self) -> &'static str {
        match self {
            How::Password => "",
            How::AuthenticatorCode => "with an authenticator code",
            How::RecoveryCode => "with a recovery code",
            How::RememberedBrowser => "remembered browser: no code asked",
            How::Enrolled => "two-step sign-in set up",
            How::Passkey => "with a passkey",
        }
    }
}

/// What the set-up page shows: the secret as text, the `otpauth:` address,
/// and that address as a QR code (SVG).
#[derive(Debug, Clone)]
pub struct TotpSetup {
    pub secret: String,
    pub uri: String,
    pub qr_svg: String,
}

/// The account page's summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondFactorStatus {
    /// The authenticator app is set up.
    pub on: bool,
    pub passkeys: usize,
    pub codes_left: i64,
    /// The policy requires it of this user (it cannot be turned off).
    pub required: bool,
}

#[derive(Clone)]
pub struct SecondFactorService {
    store: DynStore,
    throttle: Arc<LoginThrottle>,
}

impl SecondFactorService {
    pub fn new(store: DynStore, throttle: LoginThrottle) -> Self {
        SecondFactorService { store, throttle: Arc::new(throttle) }
    }

    pub async fn policy(&self) -> Result<SignInPolicy, ServiceError> {
        Ok(self.store.sign_in_policy().await?)
    }

    /// Whether the policy requires a second factor of `user`.
    pub async fn required_for(&self, user: &User) -> Result<bool, ServiceError> {
        let rule = self.policy().await?.second_factor_for;
        self.rule_applies(rule, user.id, user.instance_role).await
    }

    async fn rule_applies(
        &self,
        rule: SecondFactorRule,
        user_id: i64,
        role: Option<InstanceRole>,
    ) -> Result<bool, ServiceError> {
        if matches!(rule, SecondFactorRule::Nobody | SecondFactorRule::Owners | SecondFactorRule::Everyone) {
            return Ok(rule.applies_to(role, false));
        }
        let admin = self.store.memberships_of(user_id).await?.iter().any(|m| m.role == Role::Admin);
        Ok(rule.applies_to(role, admin))
    }

    /// Whether the user has a second factor: the authenticator app, or a passkey.
    async fn enrolled(&self, user_id: i64) -> Result<bool, ServiceError> {
        Ok(self.totp_on(user_id).await? || !self.store.passkeys_of(user_id).await?.is_empty())
    }

    async fn totp_on(&self, user_id: i64) -> Result<bool, ServiceError> {
        Ok(self.store.totp_of(user_id).await?.is_some_and(|f| f.confirmed.is_some()))
    }

    pub async fn status(&self, user: &User) -> Result<SecondFactorStatus, ServiceError> {
        Ok(SecondFactorStatus {
            on: self.totp_on(user.id).await?,
            passkeys: self.store.passkeys_of(user.id).await?.len(),
            codes_left: self.store.recovery_codes_left(user.id).await?,
            required: self.required_for(user).await?,
        })
    }

    /// What follows a correct password: `device` is the remembered-browser
    /// cookie's token, if the browser sent one.
    pub async fn after_password(&self, user: &User, device: Option<&str>) -> Result<NextStep, ServiceError> {
        if self.enrolled(user.id).await? {
            let policy = self.policy().await?;
            if let (Some(token), true) = (device, policy.remember_days > 0) {
                let now = now_ms();
                // A shorter period set since the browser was remembered applies too.
                let since = now - policy.remember_days * DAY_MS;
                if self.store.device_remembered(user.id, &digest(token), now, since).await? {
                    return Ok(NextStep::SignIn(How::RememberedBrowser));
                }
            }
            return Ok(NextStep::Code { remember_days: policy.remember_days });
        }
        if self.required_for(user).await? {
            return Ok(NextStep::Enrol);
        }
        Ok(NextStep::SignIn(How::Password))
    }

    /// Records a completed sign-in in the instance's audit trail.
    pub async fn signed_in(&self, user: &User, meta: &RequestMeta, how: How) {
        audit::record_instance(&self.store, &user.email, Some(user.id), meta, "sign_in", how.detail()).await;
    }

    /// A secret for the authenticator app: the one not yet confirmed if
    /// there is one (a reloaded page shows the same), else a new one.
    /// `Conflict` when two-step sign-in is already on.
    pub async fn setup(&self, user: &User) -> Result<TotpSetup, ServiceError> {
        let secret = match self.store.totp_of(user.id).await? {
            Some(f) if f.confirmed.is_some() => {
                return Err(StoreError::Conflict("two-step sign-in is already on").into())
            }
            Some(f) => f.secret,
            None => {
                let secret = Secret::from(rand::random::<[u8; 20]>()).to_base32();
                self.store.put_totp_secret(user.id, &secret, now_ms()).await?;
                secret
            }
        };
        let totp = totp(&secret, &user.email)?;
        let uri = totp.to_url().map_err(|e| ServiceError::Internal(format!("otpauth address: {e}")))?;
        let qr = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| ServiceError::Internal(format!("QR code: {e}")))?;
        let qr_svg = qr
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build();
        Ok(TotpSetup { secret, uri, qr_svg })
    }

    /// The first code from the app turns two-step sign-in on; answers the
    /// ten recovery codes, shown once.
    pub async fn confirm(&self, user: &User, code: &str, meta: &RequestMeta) -> Result<Vec<String>, ServiceError> {
        let attempt = self.throttle.reserve(&throttle_key(user), meta.ip).await.map_err(code_error)?;
        let factor = self.store.totp_of(user.id).await?;
        let Some(factor) = factor.filter(|f| f.confirmed.is_none()) else {
            return Err(ServiceError::field("code", "open the set-up page again: there is no new secret to confirm"));
        };
        let Some(step) = totp(&factor.secret, &user.email)?.check_current(&clean_code(code)) else {
            return Err(ServiceError::field(
                "code",
                "this is not the app's current code: check the phone's clock, then type the code shown now",
            ));
        };
        self.throttle.succeeded(attempt).await;
        let (codes, hashes) = recovery_codes();
        self.store.confirm_totp(user.id, step as i64, &hashes, now_ms()).await?;
        audit::record_instance(&self.store, &user.email, Some(user.id), meta, "second_factor.enrolled", "").await;
        Ok(codes)
    }

    /// Checks a one-time code (the app's six digits, or a recovery code)
    /// under the sign-in throttle. Each is accepted once.
    pub async fn verify(&self, user: &User, code: &str, meta: &RequestMeta) -> Result<How, AuthError> {
        let attempt = self.reserve_attempt(user, meta, "second step").await?;
        let how = self.check(user, code).await?;
        let Some(how) = how else {
            let why = "second step: wrong or used one-time code";
            audit::record_instance(&self.store, &user.email, Some(user.id), meta, "sign_in.failed", why).await;
            return Err(AuthError::InvalidCredentials);
        };
        self.throttle.succeeded(attempt).await;
        if how == How::RecoveryCode {
            let left = self.store.recovery_codes_left(user.id).await.unwrap_or(0);
            let detail = format!("{left} left");
            audit::record_instance(
                &self.store,
                &user.email,
                Some(user.id),
                meta,
                "second_factor.recovery_used",
                &detail,
            )
            .await;
        }
        Ok(how)
    }

    /// Counts one second-factor attempt of `user` (codes and passkeys share
    /// the count); a throttled one is in the audit trail as `{what}: …`.
    async fn reserve_attempt(&self, user: &User, meta: &RequestMeta, what: &str) -> Result<Attempt, AuthError> {
        let attempt = self.throttle.reserve(&throttle_key(user), meta.ip).await;
        if let Err(e) = &attempt {
            let why = format!("{what}: {e}");
            audit::record_instance(&self.store, &user.email, Some(user.id), meta, "sign_in.failed", &why).await;
        }
        attempt
    }

    async fn check(&self, user: &User, code: &str) -> Result<Option<How>, StoreError> {
        let Some(factor) = self.store.totp_of(user.id).await?.filter(|f| f.confirmed.is_some()) else {
            return Ok(None);
        };
        let typed = clean_code(code);
        if typed.len() == 6 && typed.bytes().all(|b| b.is_ascii_digit()) {
            let Ok(totp) = totp(&factor.secret, &user.email) else { return Ok(None) };
            return match totp.check_current(&typed) {
                Some(step) if self.store.use_totp_step(user.id, step as i64).await? => Ok(Some(How::AuthenticatorCode)),
                _ => Ok(None),
            };
        }
        let recovery = normal_recovery(code);
        if recovery.len() != 16 {
            return Ok(None);
        }
        let used = self.store.use_recovery_code(user.id, &digest(&recovery), now_ms()).await?;
        Ok(used.then_some(How::RecoveryCode))
    }

    /// Remembers this browser for the policy's period; answers the cookie's
    /// token and its lifetime in days (`None` when the policy remembers none).
    pub async fn remember(&self, user: &User) -> Result<Option<(String, i64)>, ServiceError> {
        let days = self.policy().await?.remember_days;
        if days <= 0 {
            return Ok(None);
        }
        let token = crate::backend::random_alphanumeric(40);
        let now = now_ms();
        self.store.remember_device(user.id, &digest(&token), now, now + days * DAY_MS).await?;
        Ok(Some((token, days)))
    }

    /// Ten new recovery codes (the old ones stop working), after a current code.
    pub async fn new_recovery_codes(
        &self,
        user: &User,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<Vec<String>, ServiceError> {
        self.verify(user, code, meta).await.map_err(code_error)?;
        let (codes, hashes) = recovery_codes();
        self.store.replace_recovery_codes(user.id, &hashes).await?;
        audit::record_instance(&self.store, &user.email, Some(user.id), meta, "second_factor.new_codes", "").await;
        Ok(codes)
    }

    /// The user turns two-step sign-in off, with a current code; refused
    /// while the policy requires it of them.
    pub async fn turn_off(&self, user: &User, code: &str, meta: &RequestMeta) -> Result<(), ServiceError> {
        if self.required_for(user).await? && self.store.passkeys_of(user.id).await?.is_empty() {
            return Err(ServiceError::field(
                "code",
                "the owners require two-step sign-in for your account: add a passkey before turning the app off",
            ));
        }
        self.verify(user, code, meta).await.map_err(code_error)?;
        self.store.remove_second_factors(user.id).await?;
        audit::record_instance(&self.store, &user.email, Some(user.id), meta, "second_factor.removed", "by the user")
            .await;
        Ok(())
    }
}
/// The throttle counts codes apart from passwords, per account and source.
fn throttle_key(user: &User) -> String {
    format!("second-factor:{}", user.email)
}

fn code_error(e: AuthError) -> ServiceError {
    match e {
        AuthError::InvalidCredentials => ServiceError::field("code", "wrong or already used code"),
        AuthError::Throttled(secs) => {
            ServiceError::field("code", format!("too many attempts; try again in {secs} seconds"))
        }
        AuthError::Store(e) => e.into(),
        AuthError::Hash(e) => ServiceError::Internal(e),
    }
}
