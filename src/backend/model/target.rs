//! A project's purge targets, with their settings and sealed credentials.

use super::project::host_only;
use crate::domain::{TargetKind, TargetSettings};

/// Credentials as stored: encrypted under the operator's key (see
/// `backend/vault.rs`), opened only to make a purge call.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(pub String);

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealed([redacted])")
    }
}

#[derive(Clone)]
pub struct Target {
    pub id: i64,
    pub project_id: i64,
    pub kind: TargetKind,
    pub name: String,
    /// The node's or hook's address; a provider's API base URL.
    pub url: String,
    /// The bearer secret of edges, nodes and hooks.
    pub secret: Option<String>,
    /// The kind's own settings (zone ID, distribution ID, …).
    pub settings: TargetSettings,
    /// A provider's credentials (API token, keys), encrypted.
    pub credentials: Option<Sealed>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("name", &self.name)
            // Credentials, path and query may all carry secrets.
            .field("url", &host_only(&self.url))
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("settings", &self.settings)
            .field("credentials", &self.credentials)
            .finish()
    }
}

#[derive(Clone)]
pub struct NewTarget {
    pub kind: TargetKind,
    pub name: String,
    pub url: String,
    pub secret: Option<String>,
    pub settings: TargetSettings,
    pub credentials: Option<Sealed>,
}

impl std::fmt::Debug for NewTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewTarget")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("url", &host_only(&self.url))
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("settings", &self.settings)
            .field("credentials", &self.credentials)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secrets() {
        let target = Target {
            id: 1,
            project_id: 1,
            kind: TargetKind::Webhook,
            name: "hook".into(),
            url: "https://user:pw@hooks.example/purge?token=T0K".into(),
            secret: Some("s3cret".into()),
            settings: TargetSettings::default(),
            credentials: Some(Sealed("v1.abc.CIPHERTEXT".into())),
        };
        let shown = format!("{target:?}");
        assert!(shown.contains("hooks.example"), "{shown}");
        for secret in ["pw", "user", "T0K", "s3cret", "/purge", "CIPHERTEXT"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}
