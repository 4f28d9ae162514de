//! The codes themselves: the authenticator's TOTP (RFC 6238), recovery
//! codes and their stored form, and the hashes of tokens.

use sha2::{Digest, Sha256};
use totp_rs::{Builder, Secret, Totp};

use crate::backend::ServiceError;

/// How many recovery codes a user holds.
pub const RECOVERY_CODES: usize = 10;
/// Letters and digits that cannot be mistaken for each other when typed.
const CODE_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

pub(super) fn totp(secret: &str, email: &str) -> Result<Totp, ServiceError> {
    let secret = Secret::try_from_base32(secret).map_err(|e| ServiceError::Internal(format!("TOTP secret: {e}")))?;
    Builder::new()
        .with_secret(secret)
        .with_issuer(Some("imgflush"))
        .with_account_name(email.replace(':', "_"))
        .build()
        .map_err(|e| ServiceError::Internal(format!("TOTP: {e}")))
}

/// Digits as typed, without spaces (apps show `123 456`).
pub(super) fn clean_code(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace()).collect()
}

/// A recovery code as stored: lower case, without spaces or dashes.
pub(super) fn normal_recovery(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

pub(super) fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Ten codes of 16 characters (79 bits each), shown as `abcd-efgh-jkmn-pqrs`,
/// with the hashes stored for them.
pub(super) fn recovery_codes() -> (Vec<String>, Vec<String>) {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let chars: Vec<char> =
                (0..16).map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char).collect();
            chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
        })
        .collect();
    let hashes = codes.iter().map(|c| digest(&normal_recovery(c))).collect();
    (codes, hashes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_ten_distinct_and_typed_loosely() {
        let (codes, hashes) = recovery_codes();
        assert_eq!(codes.len(), 10);
        assert_eq!(hashes[0], digest(&normal_recovery(&codes[0])));
        assert!(codes.iter().all(|c| c.len() == 19 && c.matches('-').count() == 3));
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), 10);
        assert_eq!(normal_recovery(" ABCD-efgh jkmn-PQRS "), "abcdefghjkmnpqrs");
        assert_eq!(clean_code("123 456"), "123456");
    }

    #[test]
    fn the_rfc_6238_vector_checks() {
        // RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits); the
        // six-digit code is its last six digits.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        let totp = totp(&secret, "a@example.com").unwrap();
        assert_eq!(totp.generate(59).to_string(), "287082");
        assert_eq!(totp.check("287082", 59), Some(1));
    }
}
