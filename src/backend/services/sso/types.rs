//! What the flow keeps and answers: the pending sign-in (kept in the
//! browser's session), the provider's callback query, and refusals.

use serde::{Deserialize, Serialize};

use crate::backend::store::StoreError;
use crate::backend::ServiceError;

/// Why a sign-in was refused; its [`code`](Refusal::code) goes into the
/// sign-in page's URL (`/login?error=sso_{code}`), its detail into the audit.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("the sign-in's state did not match (stale, replayed or forged callback)")]
    State,
    #[error("the identity provider refused or could not be reached: {0}")]
    Provider(String),
    #[error("the ID token is not valid: {0}")]
    Token(String),
    #[error("e-mail domain not allowed: {0}")]
    Domain(String),
    #[error("the identity provider did not vouch for the e-mail {0}")]
    Unverified(String),
    /// Our side (the database, the credential key): a 5xx, logged.
    #[error(transparent)]
    Internal(ServiceError),
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::State => "state",
            Refusal::Provider(_) => "provider",
            Refusal::Token(_) => "token",
            Refusal::Domain(_) => "domain",
            Refusal::Unverified(_) => "unverified",
            Refusal::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Refusal::Internal(e.into())
    }
}

/// What the session keeps between leaving for the provider and coming back.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pending {
    pub provider_id: i64,
    pub(super) state: String,
    pub(super) nonce: String,
    pub(super) verifier: String,
    /// Where to go once signed in (a local path, checked by the caller).
    pub next: String,
    pub(super) created_ms: i64,
}

/// A sign-in on its way: the provider's URL to redirect to, and what to keep.
pub struct Started {
    pub url: String,
    pub pending: Pending,
}

/// The query the provider sends the browser back with.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub iss: Option<String>,
}
