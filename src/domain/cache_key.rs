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

/// The key of cache tag `tag` of project `token`: `imgflush-g-{hex}` with
/// `hex` the first 40 hex digits of SHA-256(`"tag\n"` + token + `"\n"` +
/// tag). Derived, so a project's `products` never names another project's
/// objects on a node or zone they share, and an origin cannot forge it
/// without knowing the token (the edge strips incoming `imgflush-` tags).
pub fn tag_key(token: &str, tag: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"tag\n");
    h.update(token.as_bytes());
    h.update(b"\n");
    h.update(tag.as_bytes());
    let digest = hex::encode(h.finalize());
    format!("imgflush-g-{}", &digest[..40])
}

/// Every key a cached variant of `canonical_path` carrying `tags` is
/// labelled with: the token's, the path's, then one per tag.
pub fn object_keys<S: AsRef<str>>(token: &str, canonical_path: &str, tags: &[S]) -> Vec<String> {
    let mut keys = Vec::with_capacity(2 + tags.len());
    keys.push(token_key(token));
    keys.push(path_key(token, canonical_path));
    keys.extend(tags.iter().map(|t| tag_key(token, t.as_ref())));
    keys
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
/// variant of `canonical_path` carrying `tags`: the same keys as `xkey`.
pub fn tag_header_value<S: AsRef<str>>(name: &str, token: &str, canonical_path: &str, tags: &[S]) -> Option<String> {
    let (_, sep) = CDN_TAG_HEADERS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))?;
    Some(object_keys(token, canonical_path, tags).join(sep))
}

/// The `xkey` header value of a cached variant of `canonical_path` carrying `tags`.
pub fn xkey_value<S: AsRef<str>>(token: &str, canonical_path: &str, tags: &[S]) -> String {
    object_keys(token, canonical_path, tags).join(" ")
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
        assert_eq!(xkey_value::<&str>("demo", "/x", &[]), format!("imgflush-t-demo {}", path_key("demo", "/x")));
        let g = tag_key("demo", "products");
        assert!(g.starts_with("imgflush-g-") && g.len() == k.len());
        assert_ne!(g, tag_key("other", "products"), "tags are namespaced per project");
        assert_ne!(tag_key("demo", "/x"), path_key("demo", "/x").replace("-p-", "-g-"));
        assert_eq!(xkey_value("demo", "/x", &["products"]), format!("imgflush-t-demo {} {g}", path_key("demo", "/x")));
    }

    #[test]
    fn each_cdn_reads_its_own_separator() {
        let p = path_key("demo", "/x");
        let g = tag_key("demo", "t");
        assert_eq!(tag_header_value("Cache-Tag", "demo", "/x", &["t"]), Some(format!("imgflush-t-demo,{p},{g}")));
        assert_eq!(tag_header_value("surrogate-key", "demo", "/x", &["t"]), Some(format!("imgflush-t-demo {p} {g}")));
        assert_eq!(tag_header_value::<&str>("x-other", "demo", "/x", &[]), None);
        let most: Vec<String> = (0..crate::domain::tag::MAX_TAGS_PER_OBJECT).map(|i| format!("t{i}")).collect();
        let bunny = tag_header_value("cdn-tag", "a-forty-character-token-name-is-the-most", "/x", &most).unwrap();
        assert!(bunny.len() <= 1024, "Bunny reads at most 1,024 bytes of CDN-Tag: {}", bunny.len());
        assert!(p.len() <= 51 && p.len() <= 128);
    }

    #[test]
    fn known_vector() {
        // SHA-256("tag\ndemo\nproducts"): the VCL tests use the literal.
        assert_eq!(tag_key("demo", "products"), "imgflush-g-90ab64dd11d63d0f032aca11cde1f939bef6d46a");
        // SHA-256("demo\n/sample.li/flat1.jpg"), pinned so the VCL tests and
        // the edge can use the literal.
        assert_eq!(path_key("demo", "/sample.li/flat1.jpg"), "imgflush-p-929bcaecf1065ab7821f783b4113ffdf8d380dca");
    }
}
