//! The surrogate keys shared by the edge (which tags every response with
//! them), the Varnish VCL (which purges by them) and the worker (which names
//! them in purge requests). One definition, so the three can never disagree.
//!
//! Varnish's `xkey` splits a header on spaces and commas, and a canonical
//! origin path may contain commas, so the per-path key is a digest:
//!
//! - token key: `imgflush-t-{token}` (tokens are `[a-z0-9-]`, always safe);
//! - path key:  `imgflush-p-{hex}` with `hex` the first 40 hex digits of
//!   SHA-256(`{token}` + `"\n"` + `{canonical origin path}`), e.g. the path
//!   `/sample.li/flat1.jpg` of `demo`.
//!
//! The canonical origin path is [`OriginPath::as_str`](super::OriginPath):
//! ASCII, percent-encoded, no spaces, so it also travels as a header value
//! (`X-Imgflush-Path`) for prefix bans.

use sha2::{Digest, Sha256};

/// The response header naming both keys, space separated.
pub const XKEY_HEADER: &str = "xkey";
/// Response headers the edge adds for prefix bans on Varnish object headers.
pub const TOKEN_HEADER: &str = "x-imgflush-token";
pub const PATH_HEADER: &str = "x-imgflush-path";

pub fn token_key(token: &str) -> String {
    format!("imgflush-t-{token}")
}

pub fn path_key(token: &str, canonical_path: &str) -> String {
    let mut h = Sha256::new();
    h.update(token.as_bytes());
    h.update(b"\n");
    h.update(canonical_path.as_bytes());
    let digest = hex::encode(h.finalize());
    format!("imgflush-p-{}", &digest[..40])
}

/// The CDN tag headers the edge can label responses with, each with the
/// separator its CDN reads (Cloudflare `Cache-Tag` and Akamai
/// `Edge-Cache-Tag`: commas; Fastly `Surrogate-Key`: spaces; Bunny
/// `CDN-Tag`: commas). Both keys fit every CDN's limits: at most 51
/// characters each (Akamai: 128 a tag; Cloudflare: 16 KB in all; Bunny:
/// 1,024 bytes in all).
pub const CDN_TAG_HEADERS: [(&str, &str); 4] =
    [("cache-tag", ","), ("surrogate-key", " "), ("edge-cache-tag", ","), ("cdn-tag", ",")];

/// The value of CDN tag header `name` (one of [`CDN_TAG_HEADERS`]) for a
/// variant of `canonical_path`: the same two keys as `xkey`.
pub fn tag_header_value(name: &str, token: &str, canonical_path: &str) -> Option<String> {
    let (_, sep) = CDN_TAG_HEADERS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))?;
    Some(format!("{}{sep}{}", token_key(token), path_key(token, canonical_path)))
}

/// The `xkey` header value of a cached variant of `canonical_path`.
pub fn xkey_value(token: &str, canonical_path: &str) -> String {
    format!("{} {}", token_key(token), path_key(token, canonical_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_separator_free() {
        let k = path_key("demo", "/sample.li/a,b c.jpg");
        assert!(k.starts_with("imgflush-p-"));
        assert_eq!(k.len(), "imgflush-p-".len() + 40);
        assert!(!k.contains([' ', ',']));
        assert_eq!(k, path_key("demo", "/sample.li/a,b c.jpg"));
        assert_ne!(k, path_key("other", "/sample.li/a,b c.jpg"));
        assert_ne!(path_key("de", "mo\n/x"), path_key("demo", "/x"));
        assert_eq!(xkey_value("demo", "/x"), format!("imgflush-t-demo {}", path_key("demo", "/x")));
    }

    #[test]
    fn each_cdn_reads_its_own_separator() {
        let p = path_key("demo", "/x");
        assert_eq!(tag_header_value("Cache-Tag", "demo", "/x"), Some(format!("imgflush-t-demo,{p}")));
        assert_eq!(tag_header_value("surrogate-key", "demo", "/x"), Some(format!("imgflush-t-demo {p}")));
        assert_eq!(tag_header_value("x-other", "demo", "/x"), None);
        assert!(p.len() <= 51 && p.len() <= 128);
    }

    #[test]
    fn known_vector() {
        // SHA-256("demo\n/sample.li/flat1.jpg"), pinned so the VCL tests and
        // the edge can use the literal.
        assert_eq!(path_key("demo", "/sample.li/flat1.jpg"), "imgflush-p-929bcaecf1065ab7821f783b4113ffdf8d380dca");
    }
}
