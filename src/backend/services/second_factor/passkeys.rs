//! Passkeys (WebAuthn): registered from the account page (or the set-up the
//! policy requires), used as the second step after a password, or instead
//! of the password altogether (a discoverable credential names its account,
//! and user verification on the device is the second factor).
//!
//! The relying party is the host the console is reached at: `server.public_url`
//! when set, else the request's. A relying-party ID must be a name, so a
//! console opened by IP address offers no passkeys. Each ceremony's state
//! (its challenge) lives in the session between its two requests and is
//! used once; it names the origin it began on.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    AuthenticationResult, CreationChallengeResponse, CredentialID, DiscoverableAuthentication, DiscoverableKey,
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::{How, SecondFactorService};
use crate::backend::audit::{self, RequestMeta};
use crate::backend::auth::AuthError;
use crate::backend::store::{NewPasskey, PasskeyRecord, StoreError, User};
use crate::backend::{now_ms, ServiceError};

/// Passkeys one account may hold.
pub const MAX_PASSKEYS: usize = 10;
/// A name's length, in characters.
const MAX_NAME: usize = 60;
/// A ceremony's challenge lasts as long as the browser's prompt (5 minutes).
const CEREMONY_MS: i64 = 5 * 60_000;

/// A registration under way (kept in the session).
#[derive(Serialize, Deserialize)]
pub struct Registration {
    pub user_id: i64,
    origin: String,
    handle: Uuid,
    started_ms: i64,
    state: PasskeyRegistration,
}

/// A passkey sign-in under way (kept in the session): without an e-mail,
/// or as the second step of a known user's sign-in.
#[derive(Serialize, Deserialize)]
pub enum Assertion {
    SignIn { origin: String, started_ms: i64, state: DiscoverableAuthentication },
    SecondStep { user_id: i64, origin: String, started_ms: i64, state: PasskeyAuthentication },
}

/// What the account page lists.
#[derive(Debug, Clone)]
pub struct PasskeySummary {
    pub id: i64,
    pub name: String,
    pub created: chrono::DateTime<chrono::Utc>,
    pub last_used: Option<chrono::DateTime<chrono::Utc>>,
}

/// The relying party of a console reached at `origin` (`scheme://host[:port]`).
fn relying_party(origin: &str) -> Result<Webauthn, ServiceError> {
    let url = Url::parse(origin).ok();
    let Some((url, host)) = url.as_ref().and_then(|u| u.domain().map(|h| (u, h))) else {
        return Err(ServiceError::field(
            "passkey",
            "passkeys need the console to be opened by a host name (such as localhost or console.example.com), \
             not an IP address: open it by name, or set server.public_url",
        ));
    };
    WebauthnBuilder::new(host, url)
        .and_then(|b| b.rp_name("imgflush").build())
        .map_err(|e| ServiceError::Internal(format!("passkeys for {origin}: {e}")))
}

fn credential_text(id: &CredentialID) -> String {
    URL_SAFE_NO_PAD.encode(id.as_ref())
}

fn stored(record: &PasskeyRecord) -> Result<Passkey, ServiceError> {
    serde_json::from_str(&record.passkey)
        .map_err(|e| ServiceError::Internal(format!("passkey {} unreadable: {e}", record.id)))
}

fn expired(started_ms: i64) -> bool {
    now_ms() - started_ms > CEREMONY_MS
}

/// A name for the list: trimmed, 1 to 60 characters, no control characters.
pub fn checked_name(name: &str) -> Result<String, ServiceError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ServiceError::field("name", "name the passkey (for example \"Work laptop\")"));
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ServiceError::field("name", "use at most 60 characters, without line breaks"));
    }
    Ok(name.to_owned())
}

impl SecondFactorService {
    pub async fn passkeys(&self, user: &User) -> Result<Vec<PasskeySummary>, ServiceError> {
        let keys = self.store.passkeys_of(user.id).await?;
        Ok(keys
            .into_iter()
            .map(|k| PasskeySummary { id: k.id, name: k.name, created: k.created, last_used: k.last_used })
            .collect())
    }

    /// The browser's options for a new passkey of `user`, and the state to
    /// keep until it answers. The credential is discoverable where the
    /// device can (it then signs in without the e-mail).
    pub async fn start_passkey_registration(
        &self,
        user: &User,
        origin: &str,
    ) -> Result<(CreationChallengeResponse, Registration), ServiceError> {
        let rp = relying_party(origin)?;
        let keys = self.store.passkeys_of(user.id).await?;
        if keys.len() >= MAX_PASSKEYS {
            return Err(ServiceError::field("name", "an account holds at most 10 passkeys: remove one first"));
        }
        let handle = match keys.first() {
            Some(k) => k.user_handle.parse().map_err(|_| ServiceError::Internal("passkey user handle".into()))?,
            None => Uuid::new_v4(),
        };
        let exclude = keys.iter().map(|k| stored(k).map(|p| p.cred_id().clone())).collect::<Result<Vec<_>, _>>()?;
        let (mut options, state) = rp
            .start_passkey_registration(handle, &user.email, &user.email, Some(exclude))
            .map_err(|e| ServiceError::Internal(format!("passkey registration: {e}")))?;
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.resident_key = Some(ResidentKeyRequirement::Preferred);
        }
        let registration =
            Registration { user_id: user.id, origin: origin.to_owned(), handle, started_ms: now_ms(), state };
        Ok((options, registration))
    }

    /// The browser's answer registers the passkey under `name`.
    pub async fn finish_passkey_registration(
        &self,
        user: &User,
        registration: Registration,
        name: &str,
        credential: &RegisterPublicKeyCredential,
        meta: &RequestMeta,
    ) -> Result<i64, ServiceError> {
        let name = checked_name(name)?;
        if registration.user_id != user.id || expired(registration.started_ms) {
            return Err(ServiceError::field("passkey", "the passkey prompt expired: add the passkey again"));
        }
        let rp = relying_party(&registration.origin)?;
        let passkey = rp.finish_passkey_registration(credential, &registration.state).map_err(|e| {
            ServiceError::field("passkey", format!("the device's answer was not accepted ({e}): add the passkey again"))
        })?;
        let record = serde_json::to_string(&passkey).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let new = NewPasskey {
            user_id: user.id,
            credential_id: &credential_text(passkey.cred_id()),
            user_handle: &registration.handle.to_string(),
            name: &name,
            passkey: &record,
            now_ms: now_ms(),
        };
        let id = match self.store.add_passkey(&new).await {
            Ok(id) => id,
            Err(StoreError::Conflict(_)) => {
                return Err(ServiceError::field("passkey", "this passkey is registered already"));
            }
            Err(e) => return Err(e.into()),
        };
        audit::record_instance(&self.store, &user.email, Some(user.id), meta, "passkey.added", &name).await;
        Ok(id)
    }

    /// The options of a sign-in without the e-mail: the device offers the
    /// passkeys it holds for this console.
    pub fn start_passkey_sign_in(&self, origin: &str) -> Result<(RequestChallengeResponse, Assertion), ServiceError> {
        let (mut options, state) = relying_party(origin)?
            .start_discoverable_authentication()
            .map_err(|e| ServiceError::Internal(format!("passkey sign-in: {e}")))?;
        // Asked for by a button, not offered in the e-mail field's autofill.
        options.mediation = None;
        Ok((options, Assertion::SignIn { origin: origin.to_owned(), started_ms: now_ms(), state }))
    }

    /// The options of the second step of `user`'s sign-in (their passkeys).
    pub async fn start_passkey_step(
        &self,
        user: &User,
        origin: &str,
    ) -> Result<(RequestChallengeResponse, Assertion), ServiceError> {
        let rp = relying_party(origin)?;
        let keys = self.store.passkeys_of(user.id).await?;
        if keys.is_empty() {
            return Err(ServiceError::field("passkey", "this account has no passkey: type a code instead"));
        }
        let keys = keys.iter().map(stored).collect::<Result<Vec<_>, _>>()?;
        let (options, state) =
            rp.start_passkey_authentication(&keys).map_err(|e| ServiceError::Internal(format!("passkey step: {e}")))?;
        let started_ms = now_ms();
        Ok((options, Assertion::SecondStep { user_id: user.id, origin: origin.to_owned(), started_ms, state }))
    }

    /// Checks the device's answer under the sign-in throttle and answers
    /// whose sign-in it completes. A sign-in without the e-mail first finds
    /// the account by the credential (an unknown one counts against the
    /// source's budget); the second step must be `pending`'s user.
    pub async fn finish_passkey(
        &self,
        assertion: Assertion,
        pending: Option<&User>,
        credential: &PublicKeyCredential,
        meta: &RequestMeta,
    ) -> Result<(User, How), AuthError> {
        let credential_id = URL_SAFE_NO_PAD.encode(credential.get_credential_id());
        let record = self.store.passkey_by_credential(&credential_id).await?;
        let (origin, started_ms) = match &assertion {
            Assertion::SignIn { origin, started_ms, .. } => (origin.clone(), *started_ms),
            Assertion::SecondStep { origin, started_ms, .. } => (origin.clone(), *started_ms),
        };
        let user = match (&assertion, &record) {
            (Assertion::SecondStep { user_id, .. }, _) => pending.filter(|u| u.id == *user_id).cloned(),
            (Assertion::SignIn { .. }, Some(r)) => Some(self.store.user_by_id(r.user_id).await?),
            (Assertion::SignIn { .. }, None) => None,
        };
        let Some(user) = user else {
            self.throttle.reserve_source(meta.ip).await?;
            return self.refused(None, meta, "an unknown passkey").await;
        };
        let attempt = self.reserve_attempt(&user, meta, "passkey").await?;
        let Some(record) = record.filter(|r| r.user_id == user.id) else {
            return self.refused(Some(user), meta, "a passkey this account does not hold").await;
        };
        if expired(started_ms) {
            return self.refused(Some(user), meta, "the passkey prompt expired").await;
        }
        let mut passkey = stored(&record).map_err(|e| AuthError::Hash(e.to_string()))?;
        let rp = relying_party(&origin).map_err(|e| AuthError::Hash(e.to_string()))?;
        let checked = match assertion {
            Assertion::SignIn { state, .. } => {
                // The user handle the device returned must be the one it was registered with.
                let handle = rp.identify_discoverable_authentication(credential).ok().map(|(h, _)| h.to_string());
                if handle.as_deref() != Some(record.user_handle.as_str()) {
                    return self.refused(Some(user), meta, "a passkey that names another account").await;
                }
                rp.finish_discoverable_authentication(credential, state, &[DiscoverableKey::from(&passkey)])
            }
            Assertion::SecondStep { state, .. } => rp.finish_passkey_authentication(credential, &state),
        };
        let result = match checked {
            Ok(result) if result.user_verified() => result,
            Ok(_) => return self.refused(Some(user), meta, "the device did not verify its user").await,
            Err(e) => {
                let why = format!("the passkey's signature was not accepted ({e})");
                return self.refused(Some(user), meta, &why).await;
            }
        };
        self.passkey_used(&record, &mut passkey, &result).await?;
        self.throttle.succeeded(attempt).await;
        Ok((user, How::Passkey))
    }

    /// Keeps the passkey's new counter and when it was used.
    async fn passkey_used(
        &self,
        record: &PasskeyRecord,
        passkey: &mut Passkey,
        result: &AuthenticationResult,
    ) -> Result<(), AuthError> {
        passkey.update_credential(result);
        // Kept even when unchanged: the counter must never go back.
        let json = serde_json::to_string(&passkey).map_err(|e| AuthError::Hash(format!("passkey record: {e}")))?;
        Ok(self.store.passkey_used(record.id, &json, now_ms()).await?)
    }

    async fn refused<T>(&self, user: Option<User>, meta: &RequestMeta, why: &str) -> Result<T, AuthError> {
        let why = format!("passkey: {why}");
        match user {
            Some(u) => audit::record_instance(&self.store, &u.email, Some(u.id), meta, "sign_in.failed", &why).await,
            None => audit::record_instance(&self.store, "", None, meta, "sign_in.failed", &why).await,
        }
        Err(AuthError::InvalidCredentials)
    }

    /// Removes one of the user's passkeys; refused when it is their last
    /// second factor and the policy requires one.
    pub async fn remove_passkey(&self, user: &User, id: i64, meta: &RequestMeta) -> Result<(), ServiceError> {
        let keys = self.store.passkeys_of(user.id).await?;
        let Some(key) = keys.iter().find(|k| k.id == id) else { return Err(ServiceError::NotFound) };
        if keys.len() == 1 && !self.totp_on(user.id).await? && self.required_for(user).await? {
            return Err(ServiceError::field(
                "passkey",
                "the owners require two-step sign-in for your account: add another passkey or an authenticator app first",
            ));
        }
        self.store.remove_passkey(user.id, id).await?;
        audit::record_instance(&self.store, &user.email, Some(user.id), meta, "passkey.removed", &key.name).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relying_party_needs_a_name() {
        assert!(relying_party("http://localhost:3000").is_ok());
        assert!(relying_party("https://console.example.com").is_ok());
        let err = relying_party("http://127.0.0.1:3000").err().unwrap();
        assert!(err.to_string().contains("host name") || format!("{err:?}").contains("host name"), "{err:?}");
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(checked_name("  Work laptop ").unwrap(), "Work laptop");
        assert!(checked_name(" ").is_err());
        assert!(checked_name(&"x".repeat(61)).is_err());
        assert!(checked_name("a\nb").is_err());
    }
}
