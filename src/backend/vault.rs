//! Provider credentials at rest: sealed with XChaCha20-Poly1305 under the
//! operator's key (`secrets.key` / `IMGFLUSH_SECRETS_KEY`), opened only to
//! make a purge or test call. A sealed value names its key by a short ID,
//! so a wrong key is told apart from damaged data, and `server secrets
//! rotate` can re-seal every credential under a new key.
//!
//! Format: `v1.{key id}.{base64url(nonce ‖ ciphertext)}`, the key ID the first
//! 8 hex digits of SHA-256("imgflush-vault\n" ‖ key).

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::backend::model::Sealed;
use crate::backend::store::DynStore;

/// Bound to every sealed value: a ciphertext made for something else does not open.
const AAD: &[u8] = b"imgflush-credentials-v1";

/// How to configure a key, for every message that needs one.
pub const HOW_TO_SET_A_KEY: &str = "set secrets.key in imgflush.toml or IMGFLUSH_SECRETS_KEY \
     to 32 random bytes in base64 (`server secrets new-key` prints one)";

/// The operator's credential key, or none.
#[derive(Clone, Default)]
pub struct Vault {
    key: Option<Arc<Key>>,
}

struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

/// Opened credentials: values by setting key (`api_token`, …).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials(pub BTreeMap<String, String>);

impl Credentials {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// A credential the kind requires (checked when the target was saved).
    pub fn require(&self, key: &str) -> Result<&str, VaultError> {
        self.get(key).ok_or_else(|| VaultError::Missing(key.to_owned()))
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys().map(|k| format!("{k}: [redacted]"))).finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("no credential key is configured: {HOW_TO_SET_A_KEY}")]
    NoKey,
    #[error("the credential key must be 32 bytes in base64 (44 characters) or hex (64 digits): {HOW_TO_SET_A_KEY}")]
    BadKey,
    #[error("these credentials were sealed under key {sealed}, but the configured key is {configured}: configure the key they were sealed with (or rotate them with `server secrets rotate`)")]
    WrongKey { sealed: String, configured: String },
    #[error("the stored credentials are damaged; enter them again on Settings")]
    Corrupt,
    #[error("the stored credentials lack {0}; enter them again on Settings")]
    Missing(String),
}

impl Vault {
    /// No key: credentials can be neither stored nor used.
    pub fn none() -> Self {
        Vault { key: None }
    }

    /// A key given as 32 bytes in base64 or hex.
    pub fn from_key_text(text: &str) -> Result<Self, VaultError> {
        let text = text.trim();
        let bytes = match text.len() {
            64 => hex::decode(text).map_err(|_| VaultError::BadKey)?,
            _ => STANDARD.decode(text).or_else(|_| URL_SAFE_NO_PAD.decode(text)).map_err(|_| VaultError::BadKey)?,
        };
        if bytes.len() != 32 {
            return Err(VaultError::BadKey);
        }
        let mut h = Sha256::new();
        h.update(b"imgflush-vault\n");
        h.update(&bytes);
        let id = hex::encode(h.finalize())[..8].to_owned();
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| VaultError::BadKey)?;
        Ok(Vault { key: Some(Arc::new(Key { id, cipher })) })
    }

    /// A new random key as base64, for the operator to configure.
    pub fn new_key_text() -> String {
        STANDARD.encode(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    pub fn is_configured(&self) -> bool {
        self.key.is_some()
    }

    /// The configured key's ID (what sealed values name), if any.
    pub fn key_id(&self) -> Option<&str> {
        self.key.as_deref().map(|k| k.id.as_str())
    }

    pub fn seal(&self, credentials: &Credentials) -> Result<Sealed, VaultError> {
        let key = self.key.as_deref().ok_or(VaultError::NoKey)?;
        let plain = serde_json::to_vec(&credentials.0).expect("a map of strings serialises");
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = key.cipher.encrypt(&nonce, Payload { msg: &plain, aad: AAD }).map_err(|_| VaultError::Corrupt)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(Sealed(format!("v1.{}.{}", key.id, URL_SAFE_NO_PAD.encode(out))))
    }

    pub fn open(&self, sealed: &Sealed) -> Result<Credentials, VaultError> {
        let key = self.key.as_deref().ok_or(VaultError::NoKey)?;
        let (id, body) = sealed_parts(sealed)?;
        if id != key.id {
            return Err(VaultError::WrongKey { sealed: id.to_owned(), configured: key.id.clone() });
        }
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| VaultError::Corrupt)?;
        if bytes.len() < 24 {
            return Err(VaultError::Corrupt);
        }
        let (nonce, ciphertext) = bytes.split_at(24);
        let plain = key
            .cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: AAD })
            .map_err(|_| VaultError::Corrupt)?;
        serde_json::from_slice(&plain).map(Credentials).map_err(|_| VaultError::Corrupt)
    }
}

/// Whether the stored credentials can be opened with `vault`: the console and
/// the worker refuse to start when some exist and the key is missing or
/// another. Answers how many there are.
pub async fn check_stored(store: &DynStore, vault: &Vault) -> Result<usize, String> {
    let sealed = store.sealed_credentials().await.map_err(|e| e.to_string())?;
    let sso = check_sso(store, vault).await?;
    if sealed.is_empty() {
        return Ok(sso);
    }
    let n = sealed.len();
    let Some(configured) = vault.key_id() else {
        return Err(format!(
            "{} encrypted credentials, but no credential key is configured: \
             set secrets.key (or IMGFLUSH_SECRETS_KEY) to the key they were sealed with",
            if n == 1 { "1 purge target holds".to_owned() } else { format!("{n} purge targets hold") }
        ));
    };
    for (id, s) in &sealed {
        let key = sealed_key_id(s).map_err(|e| format!("target {id}: {e}"))?;
        if key != configured {
            return Err(format!(
                "target {id}'s credentials were sealed under key {key}, but the configured secrets.key is {configured}: \
                 configure the key they were sealed with, then rotate with `server secrets rotate`"
            ));
        }
    }
    Ok(n + sso)
}

/// Re-seals every stored credential under `new` (opened with `old`), in
/// one transaction; answers how many.
pub async fn rotate(store: &DynStore, old: &Vault, new: &Vault) -> Result<usize, String> {
    let sealed = store.sealed_credentials().await.map_err(|e| e.to_string())?;
    let mut resealed = Vec::with_capacity(sealed.len());
    for (id, s) in &sealed {
        let creds = old.open(s).map_err(|e| format!("target {id}: {e}"))?;
        resealed.push((*id, new.seal(&creds).map_err(|e| e.to_string())?));
    }
    store.reseal_credentials(&resealed).await.map_err(|e| e.to_string())?;
    // Identity providers' client secrets (single sign-on) too.
    let mut sso = Vec::new();
    for (id, s) in store.sso_sealed().await.map_err(|e| e.to_string())? {
        let creds = old.open(&s).map_err(|e| format!("identity provider {id}: {e}"))?;
        sso.push((id, new.seal(&creds).map_err(|e| e.to_string())?));
    }
    store.reseal_sso(&sso).await.map_err(|e| e.to_string())?;
    Ok(resealed.len() + sso.len())
}

/// [`check_stored`] for the identity providers' client secrets.
async fn check_sso(store: &DynStore, vault: &Vault) -> Result<usize, String> {
    let sealed = store.sso_sealed().await.map_err(|e| e.to_string())?;
    for (id, s) in &sealed {
        let key = sealed_key_id(s).map_err(|e| format!("identity provider {id}: {e}"))?;
        match vault.key_id() {
            Some(configured) if configured == key => {}
            Some(configured) => {
                return Err(format!(
                    "identity provider {id}'s client secret was sealed under key {key}, but the configured \
                     secrets.key is {configured}: configure the key it was sealed with, then rotate with `server secrets rotate`"
                ))
            }
            None => {
                return Err(format!(
                    "identity provider {id}'s client secret is encrypted, but no credential key is configured: \
                     set secrets.key (or IMGFLUSH_SECRETS_KEY) to the key it was sealed with"
                ))
            }
        }
    }
    Ok(sealed.len())
}

/// The key ID a sealed value names.
pub fn sealed_key_id(sealed: &Sealed) -> Result<&str, VaultError> {
    sealed_parts(sealed).map(|(id, _)| id)
}

fn sealed_parts(sealed: &Sealed) -> Result<(&str, &str), VaultError> {
    let rest = sealed.0.strip_prefix("v1.").ok_or(VaultError::Corrupt)?;
    rest.split_once('.').ok_or(VaultError::Corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials([("api_token".to_owned(), "tok-123".to_owned())].into())
    }

    #[test]
    fn seals_and_opens_and_refuses_a_wrong_key() {
        let vault = Vault::from_key_text(&Vault::new_key_text()).unwrap();
        let sealed = vault.seal(&creds()).unwrap();
        assert!(!sealed.0.contains("tok-123"));
        assert_eq!(sealed_key_id(&sealed).unwrap(), vault.key_id().unwrap());
        assert_eq!(vault.open(&sealed).unwrap(), creds());
        assert_ne!(vault.seal(&creds()).unwrap(), sealed, "a fresh nonce each time");
        let other = Vault::from_key_text(&hex::encode([7u8; 32])).unwrap();
        assert!(matches!(other.open(&sealed), Err(VaultError::WrongKey { .. })));
        assert_eq!(Vault::none().open(&sealed), Err(VaultError::NoKey));
        assert_eq!(Vault::none().seal(&creds()), Err(VaultError::NoKey));
        assert!(VaultError::NoKey.to_string().contains("IMGFLUSH_SECRETS_KEY"));
    }

    #[test]
    fn tampering_is_detected() {
        let vault = Vault::from_key_text(&STANDARD.encode([1u8; 32])).unwrap();
        let sealed = vault.seal(&creds()).unwrap();
        let mut bytes = sealed.0.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let tampered = Sealed(String::from_utf8(bytes).unwrap());
        assert_eq!(vault.open(&tampered), Err(VaultError::Corrupt));
        assert_eq!(vault.open(&Sealed("plain".into())), Err(VaultError::Corrupt));
    }

    #[test]
    fn keys_must_be_32_bytes() {
        for bad in ["", "short", &hex::encode([1u8; 16]), &STANDARD.encode([1u8; 31])] {
            assert_eq!(Vault::from_key_text(bad).err(), Some(VaultError::BadKey), "{bad}");
        }
        assert!(format!("{:?}", creds()).contains("api_token: [redacted]"));
        assert!(!format!("{:?}", creds()).contains("tok-123"));
    }
}
