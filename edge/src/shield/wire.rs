//! The contract between a child edge and its shield. The child asks
//! `GET /{token}{canonical path}?{canonical variant query}` on the shield's
//! image port with [`SHIELD_HEADER`] = [`credential`] of that path and query;
//! the shield answers it only from a configured child address. The answer
//! carries the object's tag names ([`TAGS_HEADER`]) and edge TTL
//! ([`TTL_HEADER`]), which public answers never do.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::EdgeConfig;
use crate::secret::Secret;

/// A child's credential: hex HMAC-SHA256 over the path and query it asks.
pub const SHIELD_HEADER: &str = "x-imgflush-shield";
/// The object's tag names, space-separated (tags hold no space).
pub const TAGS_HEADER: &str = "x-imgflush-shield-tags";
/// Seconds the object is fresh at the edge; `Age` says how much is gone.
pub const TTL_HEADER: &str = "x-imgflush-shield-ttl";
/// The error code of an internal request the shield does not answer.
pub const REFUSED: &str = "shield_refused";
/// The shortest `shield_secret` accepted.
pub const MIN_SECRET_LEN: usize = 16;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &Secret, path_and_query: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes a key of any length");
    mac.update(b"imgflush-shield\n");
    mac.update(path_and_query.as_bytes());
    mac
}

/// What a child sends for `path_and_query` (`/demo/host/a.jpg?w=300`). Bound
/// to the request: a credential seen on the wire opens only that variant,
/// and only from a child's address.
pub fn credential(secret: &Secret, path_and_query: &str) -> String {
    hex::encode(mac(secret, path_and_query).finalize().into_bytes())
}

/// Constant-time check of a child's credential.
pub fn verify(secret: &Secret, path_and_query: &str, given: &[u8]) -> bool {
    let Some(given) = std::str::from_utf8(given).ok().and_then(|g| hex::decode(g).ok()) else { return false };
    mac(secret, path_and_query).verify_slice(&given).is_ok()
}

/// A parent's base URL: `http` or `https`, a host, nothing after it.
pub fn parse_parent(s: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(s.trim()).map_err(|e| format!("{s:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{s:?}: an http(s) URL with a host, e.g. http://10.0.0.5:8081"));
    }
    if !url.username().is_empty() || url.password().is_some() || url.path() != "/" || url.query().is_some() {
        return Err(format!("{s:?}: the image port's base URL only (no user, path or query)"));
    }
    Ok(url)
}

/// Refuses a configuration whose shield settings cannot work.
pub fn check(config: &EdgeConfig) -> Result<(), String> {
    let needed = config.parent.is_some() || !config.shield_children.is_empty();
    match &config.shield_secret {
        None if needed => Err("shield_secret is required with parent or shield_children".to_owned()),
        Some(s) if needed && s.expose().len() < MIN_SECRET_LEN => {
            Err(format!("shield_secret must be at least {MIN_SECRET_LEN} characters"))
        }
        _ => Ok(()),
    }?;
    if let Some(parent) = &config.parent {
        parse_parent(parent.as_str())?;
        let own = parent.socket_addrs(|| None).unwrap_or_default();
        if own.contains(&config.listen) {
            return Err(format!("parent {parent} is this edge's own listen address"));
        }
    }
    Ok(())
}

/// The code of an error a shield passed on, as one of the edge's own codes
/// (`EdgeError` codes are static); an unknown one is `parent_error`.
pub fn known_code(code: &str) -> &'static str {
    const CODES: [&str; 17] = [
        "bad_param",
        "bad_origin_path",
        "no_origin",
        "bad_signature",
        "unsealed_param",
        "origin_not_allowed",
        "origin_private",
        "unknown_token",
        "too_many_pixels",
        "origin_not_image",
        "too_many_misses",
        "origin_redirected",
        "origin_too_large",
        "origin_unreachable",
        "origin_status",
        "origin_timeout",
        REFUSED,
    ];
    CODES.into_iter().find(|c| *c == code).unwrap_or("parent_error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_bind_the_request_and_the_secret() {
        let s = Secret::new("a-shield-secret-of-some-length");
        let c = credential(&s, "/demo/h/a.jpg?w=300");
        assert!(verify(&s, "/demo/h/a.jpg?w=300", c.as_bytes()));
        assert!(!verify(&s, "/demo/h/a.jpg?w=301", c.as_bytes()));
        assert!(!verify(&Secret::new("another-shield-secret-here"), "/demo/h/a.jpg?w=300", c.as_bytes()));
        assert!(!verify(&s, "/demo/h/a.jpg?w=300", b"zz"));
    }

    #[test]
    fn parents_are_base_urls() {
        assert_eq!(parse_parent("http://10.0.0.5:8081").unwrap().as_str(), "http://10.0.0.5:8081/");
        for bad in ["10.0.0.5:8081", "ftp://h", "http://h/x", "http://u:p@h", "http://h/?a=1", "nope"] {
            assert!(parse_parent(bad).is_err(), "{bad}");
        }
        assert_eq!((known_code("origin_timeout"), known_code("evil")), ("origin_timeout", "parent_error"));
    }
}
