//! Passkey ceremonies between their two requests: the state (its challenge)
//! is kept in the session and taken out once, whether the answer is
//! accepted or not.

use imgflush::backend::services::second_factor::passkeys::{Assertion, Registration};

use super::{internal, UserSession};
use crate::error::AppError;

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
