//! Passkey ceremonies between their two requests: the state (its challenge)
//! is kept in the session and taken out once, whether the answer is
//! accepted or not.

use imgflush::backend::services::second_factor::passkeys::{Assertion, Registration};

use leptos::prelude::use_context;

use super::{base_url, internal, PublicUrl, UserSession};
use crate::error::{AppError, FieldError};

/// The console's address passkeys are bound to (the relying party):
/// `server.public_url`, or the request's own address only on `localhost`.
/// A host taken from any other request could be a relaying site's, whose
/// passkeys would then sign in here: that defeats what passkeys are for.
pub async fn passkey_origin() -> Result<String, AppError> {
    if let Some(PublicUrl(Some(url))) = use_context::<PublicUrl>() {
        return Ok(url);
    }
    let here = base_url().await;
    let host = here.split_once("://").map_or("", |(_, rest)| rest);
    let name = host
        .rsplit_once(':')
        .map_or(host, |(name, port)| if port.bytes().all(|b| b.is_ascii_digit()) { name } else { host });
    if name.eq_ignore_ascii_case("localhost") {
        return Ok(here);
    }
    Err(super::answered(AppError::Invalid(vec![FieldError::new(
        "passkey",
        "passkeys need the console's public address: set server.public_url to it (a host name, not an IP address), \
         or open the console at localhost",
    )])))
}

impl UserSession {
    const REGISTRATION: &'static str = "passkey.registration";
    const ASSERTION: &'static str = "passkey.assertion";

    pub async fn keep_registration(&self, registration: Registration) -> Result<(), AppError> {
        self.0.insert(Self::REGISTRATION, registration).await.map_err(internal)
    }

    pub async fn take_registration(&self) -> Result<Option<Registration>, AppError> {
        self.0.remove::<Registration>(Self::REGISTRATION).await.map_err(internal)
    }

    pub async fn keep_assertion(&self, assertion: Assertion) -> Result<(), AppError> {
        self.0.insert(Self::ASSERTION, assertion).await.map_err(internal)
    }

    pub async fn take_assertion(&self) -> Result<Option<Assertion>, AppError> {
        self.0.remove::<Assertion>(Self::ASSERTION).await.map_err(internal)
    }
}
