//! Step 2: signed and sealed URLs, byte for byte like the anchor's clients
//! (cloudimage-rb `security.rb`):
//! - `ci_sign` = first N hex digits of SHA-1(salt + path-and-query), the
//!   query without `ci_sign` itself;
//! - `ci_seal` = first N hex digits of SHA-1(path + ci_eqs + salt), with
//!   `ci_eqs` the sealed parameters as an unpadded base64url query string.
//!
//! The path a signature covers is the client's: the anchor's clients sign
//! the path as they were given it (`/sample.li/my image.jpg`), while a
//! browser sends it percent-encoded (`my%20image.jpg`). A signature is
//! checked against the path as sent, then, when it differs, against its
//! percent-decoding as UTF-8 (`%20` → space, `%C3%A9` → `é`; `+` stays `+`).
//! The query is checked as sent: the clients encode it themselves.

use std::borrow::Cow;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::error::EdgeError;
use crate::params::known_name;
use crate::request::ImageRequest;

pub fn signature(salt: &str, request_uri: &str, len: usize) -> String {
    let mut d = hex::encode(Sha1::new().chain_update(salt).chain_update(request_uri).finalize());
    d.truncate(len);
    d
}

pub fn seal(salt: &str, path: &str, eqs: &str, len: usize) -> String {
    let mut d = hex::encode(Sha1::new().chain_update(path).chain_update(eqs).chain_update(salt).finalize());
    d.truncate(len);
    d
}

/// The decoded query parameters the rest of the pipeline sees: the URL's
/// own, then (sealed URLs) those of `ci_eqs`, which win.
pub fn verify(req: &ImageRequest) -> Result<Vec<(String, String)>, EdgeError> {
    let raw_query = req.raw_query.as_deref().unwrap_or("");
    let mut params = decode_query(raw_query);
    let Some(salt) = &req.project.sign_salt else {
        return Ok(params);
    };
    let salt = salt.expose();
    let len = usize::from(req.project.sign_length);
    let take = |name: &str, params: &mut Vec<(String, String)>| {
        let v = params.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        params.retain(|(k, _)| k != name);
        v
    };
    if req.project.sealed {
        let given = take("ci_seal", &mut params).ok_or_else(|| forbidden("the URL is not sealed (ci_seal)"))?;
        let eqs = take("ci_eqs", &mut params).unwrap_or_default();
        if !signed_paths(&req.signed_path).any(|path| equal(&given, &seal(salt, &path, &eqs, len))) {
            return Err(forbidden("wrong ci_seal"));
        }
        let sealed = URL_SAFE_NO_PAD
            .decode(eqs.trim_end_matches('='))
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| EdgeError::bad_request("bad_param", "ci_eqs is not base64url"))?;
        let sealed = decode_query(&sealed);
        if req.project.strict_seal {
            refuse_unsealed(&params, &sealed)?;
        }
        params.retain(|(k, _)| !sealed.iter().any(|(s, _)| s == k));
        params.extend(sealed);
        return Ok(params);
    }
    let given = take("ci_sign", &mut params).ok_or_else(|| forbidden("the URL is not signed (ci_sign)"))?;
    let rest = without_param(raw_query, "ci_sign");
    let uri = |path: &str| if rest.is_empty() { path.to_owned() } else { format!("{path}?{rest}") };
    if !signed_paths(&req.signed_path).any(|path| equal(&given, &signature(salt, &uri(&path), len))) {
        return Err(forbidden("wrong ci_sign"));
    }
    Ok(params)
}

/// The forms of the request's path a signature may cover: as sent, and its
/// percent-decoding when that differs and is UTF-8.
fn signed_paths(raw: &str) -> impl Iterator<Item = Cow<'_, str>> {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8().ok().filter(|d| d != raw);
    std::iter::once(Cow::Borrowed(raw)).chain(decoded)
}

/// Strict seal: an open parameter the edge reads (a transformation, `vh`,
/// `ci_cache`) must be one `ci_eqs` sets, under any alias; its sealed value
/// wins anyway. Not the default: the anchor's clients seal only the
/// parameters they are given and leave the others open.
fn refuse_unsealed(open: &[(String, String)], sealed: &[(String, String)]) -> Result<(), EdgeError> {
    let covered = |name: &str| sealed.iter().any(|(s, _)| known_name(s) == Some(name));
    match open.iter().filter_map(|(k, _)| known_name(k).map(|n| (k, n))).find(|(_, n)| !covered(n)) {
        Some((k, _)) => Err(EdgeError::forbidden(
            "unsealed_param",
            format!("parameter {k} is not sealed: this project accepts transformation parameters only in ci_eqs"),
        )),
        None => Ok(()),
    }
}

fn forbidden(msg: &str) -> EdgeError {
    EdgeError::forbidden("bad_signature", msg)
}

fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn decode_query(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// `raw` without any `name=…` pair, other pairs untouched and in order.
fn without_param(raw: &str, name: &str) -> String {
    raw.split('&').filter(|pair| !pair.is_empty() && pair.split('=').next() != Some(name)).collect::<Vec<_>>().join("&")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::secret::Secret;
    use crate::settings::ProjectSettings;

    // Vectors from cloudimage-rb spec/cloudimage/security_spec.rb (salt "salt").
    #[test]
    fn anchor_signature_vectors() {
        assert_eq!(signature("salt", "/assets/image.jpg", 18), "8e71efd440164f3cc8");
        assert_eq!(signature("salt", "/assets/image.jpg?w=200", 18), "84c81ef20852013046");
        assert_eq!(signature("salt", "/assets/image.jpg?w=200", 8), "84c81ef2");
        assert_eq!(signature("salt", "/assets/image.jpg?ci_info=1&h=100&w=200", 18), "40bd5a1d99455fe5cf");
    }

    #[test]
    fn anchor_seal_vectors() {
        assert_eq!(seal("salt", "/assets/image.jpg", "", 18), "57e9278520bd99de50");
        assert_eq!(seal("salt", "/assets/image.jpg", "", 8), "57e92785");
        assert_eq!(seal("salt", "/assets/image.jpg", "Ymx1cj0yMCZoPTMwMCZ3PTMwMA", 18), "b7b7a8fde707bed4b4");
        assert_eq!(seal("salt", "/assets/image.jpg", "Ymx1cj0yMCZoPTMwMA", 18), "a49adc8f592ef99188");
        assert_eq!(URL_SAFE_NO_PAD.encode("blur=20&h=300&w=300"), "Ymx1cj0yMCZoPTMwMCZ3PTMwMA");
    }

    fn req(sealed: bool, path: &str, query: &str) -> ImageRequest {
        strict_req(sealed, false, path, query)
    }

    fn strict_req(sealed: bool, strict_seal: bool, path: &str, query: &str) -> ImageRequest {
        let mut p = ProjectSettings::new("token");
        p.sign_salt = Some(Secret::new("salt"));
        p.sealed = sealed;
        p.strict_seal = strict_seal;
        ImageRequest {
            project: Arc::new(p),
            origin: imgflush::domain::OriginPath::parse(path).unwrap(),
            signed_path: path.to_owned(),
            raw_query: Some(query.to_owned()),
        }
    }

    #[test]
    fn verifies_anchor_urls() {
        let ok = verify(&req(false, "/assets/image.jpg", "ci_info=1&ci_sign=40bd5a1d99455fe5cf&h=100&w=200")).unwrap();
        assert_eq!(ok, [("ci_info", "1"), ("h", "100"), ("w", "200")].map(|(k, v)| (k.into(), v.into())));
        assert_eq!(
            verify(&req(false, "/assets/image.jpg", "ci_sign=84c81ef20852013046&w=201")).unwrap_err().status,
            403
        );
        assert_eq!(verify(&req(false, "/assets/image.jpg", "w=200")).unwrap_err().status, 403);

        let sealed =
            verify(&req(true, "/assets/image.jpg", "ci_eqs=Ymx1cj0yMCZoPTMwMA&ci_seal=a49adc8f592ef99188&w=100&h=1"))
                .unwrap();
        assert!(sealed.contains(&("h".into(), "300".into())) && !sealed.contains(&("h".into(), "1".into())));
        assert!(sealed.contains(&("w".into(), "100".into())));
        assert_eq!(
            verify(&req(true, "/assets/image.jpg", "ci_eqs=Ymx1cj0yMCZoPTMwMB&ci_seal=a49adc8f592ef99188"))
                .unwrap_err()
                .status,
            403
        );
    }

    /// Made with cloudimage-rb itself (`scripts/client-vectors.rb`, token
    /// `demo`, salt `salt`): it signs the path as given, unencoded.
    #[test]
    fn the_clients_signatures_hold_for_encoded_names() {
        let vectors = [
            ("/sample.li/my%20image.jpg", "ci_sign=e7a2570a106381dab9&w=300"),
            ("/sample.li/my%20image.jpg", "ci_sign=81d4369e4c4787604f"),
            ("/sample.li/caf%C3%A9/%C3%BCn%C3%AFcode.jpg", "ci_sign=f299c6ad6d10eeeaf3&w=300"),
            ("/sample.li/caf%C3%A9/%C3%BCn%C3%AFcode.jpg", "ci_sign=b513984c2b2a927586"),
            ("/sample.li/a+b%20(1).jpg", "ci_sign=87ce4a21d48eaa6d2d&w=300"),
            ("/sample.li/a+b%20%281%29.jpg", "ci_sign=a2eb4116e4c3567862"),
        ];
        for (path, query) in vectors {
            assert!(verify(&req(false, path, query)).is_ok(), "{path}?{query}");
        }
        let sealed = [
            ("/sample.li/my%20image.jpg", "ci_eqs=dz0zMDA&ci_seal=7a634a8bda4dc7a2b0"),
            ("/sample.li/caf%C3%A9/%C3%BCn%C3%AFcode.jpg", "ci_eqs=dz0zMDA&ci_seal=c013e275a4ce1742ca"),
            ("/sample.li/a+b%20(1).jpg", "ci_eqs=dz0zMDA&ci_seal=a8f4e4a612280b41a5"),
        ];
        for (path, query) in sealed {
            let params = verify(&req(true, path, query)).unwrap_or_else(|e| panic!("{path}: {}", e.message));
            assert!(params.contains(&("w".into(), "300".into())));
        }
        // Decoding is the only freedom: `+` is not a space, and another name fails.
        assert!(verify(&req(false, "/sample.li/a%20b%20(1).jpg", "ci_sign=87ce4a21d48eaa6d2d&w=300")).is_err());
        assert!(verify(&req(false, "/sample.li/my%20image2.jpg", "ci_sign=e7a2570a106381dab9&w=300")).is_err());
    }

    #[test]
    fn strict_seal_refuses_open_transformations() {
        // ci_eqs = "blur=20&h=300" (the anchor's vector).
        let url = |extra: &str| format!("ci_eqs=Ymx1cj0yMCZoPTMwMA&ci_seal=a49adc8f592ef99188{extra}");
        let strict = |q: &str| verify(&strict_req(true, true, "/assets/image.jpg", q));
        assert!(strict(&url("")).is_ok());
        // Unknown parameters transform nothing; an open `h` loses to the sealed one.
        assert!(strict(&url("&utm=1&h=1&height=2")).is_ok());
        for open in ["w=100", "width=100", "vh=x", "ci_cache=1", "force_format=png", "func=fit", "q=5", "org_if_sml=1"]
        {
            let e = strict(&url(&format!("&{open}"))).unwrap_err();
            assert_eq!((e.status.as_u16(), e.code), (403, "unsealed_param"), "{open}");
            assert!(e.message.contains(&format!("parameter {} is not sealed", open.split('=').next().unwrap())));
        }
        assert!(verify(&req(true, "/assets/image.jpg", &url("&w=100"))).is_ok(), "not strict: open w allowed");
    }
}
