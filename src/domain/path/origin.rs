//! An origin path: parsed, canonical, and what an invalid one should have been.

use std::fmt;
use std::str::FromStr;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde::{Deserialize, Serialize};

use super::error::{PathError, PathErrorReason};

use crate::domain::text::trim_input;

/// Longest canonical path (including a trailing `*`) accepted anywhere.
pub const MAX_PATH_BYTES: usize = 2048;

/// Bytes that are re-encoded after decoding. `/`, `*`, `%`, `?` and `#` are
/// here so a decoded `%2F`, `%2A`, `%25`, `%3F` or `%23` never changes
/// meaning, which keeps the canonical form a fixed point of `parse`. `'` is
/// here because the shipped VCL's prefix ban accepts printable ASCII without
/// space and quotes only (a canonical path travels in `X-Purge-Prefix`).
const ENCODE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'\'')
    .add(b'#')
    .add(b'%')
    .add(b'*')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A validated, canonical origin path such as `/sample.li/flat1.jpg`, or a
/// prefix such as `/sample.li/*`. The only `*` a canonical path can contain
/// is the trailing wildcard; literal stars are `%2A`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OriginPath(String);

impl OriginPath {
    pub fn parse(input: &str) -> Result<OriginPath, PathError> {
        let entry = trim_input(input);
        let fail = |reason, suggestion| PathError { entry: entry.to_owned(), reason, suggestion };
        if entry.is_empty() {
            return Err(fail(PathErrorReason::Empty, None));
        }
        if entry.chars().any(char::is_control) {
            return Err(fail(PathErrorReason::ControlCharacter, None));
        }
        if let Some(reason) = super::suggest::outside_path_reason(entry) {
            return Err(fail(reason, suggest_for(&super::suggest::origin_candidate(entry))));
        }
        if let Some(i) = entry.find(['?', '#']) {
            let reason =
                if entry.as_bytes()[i] == b'?' { PathErrorReason::HasQuery } else { PathErrorReason::HasFragment };
            return Err(fail(reason, suggest_for(&entry[..i])));
        }
        let (body, prefix) = match entry.strip_suffix('*') {
            Some(body) => (body, true),
            None => (entry, false),
        };
        if body.contains('*') {
            return Err(fail(PathErrorReason::MisplacedWildcard, None));
        }
        let segments = body
            .split('/')
            .map(canonical_segment)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|reason| fail(reason, None))?;
        // The last segment of a prefix is partial: `/a/.*` is a real prefix.
        let complete = segments.len() - usize::from(prefix);
        if segments[..complete].iter().any(|s| s == "." || s == "..") {
            let mut resolved = super::suggest::resolve_dot_segments(&segments, prefix);
            if prefix {
                resolved.push('*');
            }
            return Err(fail(PathErrorReason::DotSegment, suggest_for(&resolved)));
        }
        let mut canonical = segments.join("/");
        if canonical == "/" && !prefix {
            return Err(fail(PathErrorReason::Root, None));
        }
        if prefix {
            canonical.push('*');
        }
        if canonical.len() > MAX_PATH_BYTES {
            return Err(fail(PathErrorReason::TooLong, None));
        }
        Ok(OriginPath(canonical))
    }

    /// Canonical form, including the trailing `*` of a prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_prefix(&self) -> bool {
        self.0.ends_with('*')
    }

    /// Canonical form without the wildcard.
    pub fn base(&self) -> &str {
        self.0.strip_suffix('*').unwrap_or(&self.0)
    }

    /// Whether this entry flushes `canonical_origin_path`, which must already
    /// be canonical (e.g. `OriginPath::as_str` of the cached object's path).
    pub fn matches(&self, canonical_origin_path: &str) -> bool {
        if self.is_prefix() {
            canonical_origin_path.starts_with(self.base())
        } else {
            canonical_origin_path == self.0
        }
    }
}

/// Offers `candidate` if it parses, else whatever fix it suggests in turn.
/// Terminates: each candidate starts with one `/` and carries no query, so
/// the only nested suggestion is a dot-free resolution.
fn suggest_for(candidate: &str) -> Option<String> {
    match OriginPath::parse(candidate) {
        Ok(p) => Some(p.0),
        Err(e) => e.suggestion,
    }
}

/// Strictly decodes one segment and re-encodes it canonically.
fn canonical_segment(raw: &str) -> Result<String, PathErrorReason> {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |j: usize| bytes.get(j).and_then(|b| (*b as char).to_digit(16));
            match (hex(i + 1), hex(i + 2)) {
                (Some(hi), Some(lo)) => decoded.push((hi * 16 + lo) as u8),
                _ => return Err(PathErrorReason::BadPercentEncoding),
            }
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(decoded).map_err(|_| PathErrorReason::BadPercentEncoding)?;
    if text.chars().any(char::is_control) {
        return Err(PathErrorReason::ControlCharacter);
    }
    Ok(utf8_percent_encode(&text, ENCODE).to_string())
}

impl fmt::Display for OriginPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for OriginPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for OriginPath {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for OriginPath {
    type Error = PathError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl TryFrom<&str> for OriginPath {
    type Error = PathError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<OriginPath> for String {
    fn from(p: OriginPath) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PathErrorReason::*;

    fn ok(input: &str) -> String {
        match OriginPath::parse(input) {
            Ok(p) => p.0,
            Err(e) => panic!("{input:?} rejected: {e}"),
        }
    }

    fn err(input: &str) -> PathError {
        OriginPath::parse(input).expect_err(input)
    }

    fn reason(input: &str) -> PathErrorReason {
        err(input).reason
    }

    fn suggestion(input: &str) -> Option<String> {
        err(input).suggestion
    }

    #[test]
    fn accepts_plain_paths_and_trims() {
        assert_eq!(ok("/sample.li/flat1.jpg"), "/sample.li/flat1.jpg");
        assert_eq!(ok("  /sample.li/flat1.jpg\t"), "/sample.li/flat1.jpg");
        assert_eq!(ok("/doc.cloudimg.io/sample.li/a.jpg"), "/doc.cloudimg.io/sample.li/a.jpg");
        assert_eq!(ok("/a//b.jpg"), "/a//b.jpg");
        assert_eq!(ok("/a/"), "/a/");
        assert_eq!(ok("/a,b;c=d:e@f!$&()+~.jpg"), "/a,b;c=d:e@f!$&()+~.jpg");
        // A quote is encoded: the VCL's prefix ban takes no quotes.
        assert_eq!(ok("/it's.jpg"), "/it%27s.jpg");
        assert_eq!(ok("/it%27s.jpg"), "/it%27s.jpg");
    }

    #[test]
    fn rejects_empty_and_root() {
        assert_eq!(reason(""), Empty);
        assert_eq!(reason("  \t "), Empty);
        assert_eq!(reason("/"), Root);
        assert_eq!(reason(" / "), Root);
        assert_eq!(suggestion("/"), None);
    }

    #[test]
    fn wildcard_only_at_the_end() {
        let all = OriginPath::parse("/*").unwrap();
        assert!(all.is_prefix());
        assert_eq!(all.base(), "/");
        let p = OriginPath::parse("/sample.li/img*").unwrap();
        assert!(p.is_prefix());
        assert_eq!((p.as_str(), p.base()), ("/sample.li/img*", "/sample.li/img"));
        assert_eq!(ok("/sample.li/*"), "/sample.li/*");
        assert!(!OriginPath::parse("/a.jpg").unwrap().is_prefix());
        for bad in ["/sample.li/a*b.jpg", "/*/a.jpg", "/a**", "*", "/a*/"] {
            let e = OriginPath::parse(bad).unwrap_err();
            assert!(matches!(e.reason, MisplacedWildcard | NotAbsolute), "{bad}");
        }
        assert_eq!(reason("/sample.li/a*b.jpg"), MisplacedWildcard);
        assert_eq!(suggestion("/sample.li/a*b.jpg"), None);
    }

    #[test]
    fn literal_star_stays_encoded() {
        assert_eq!(ok("/a%2Ab.jpg"), "/a%2Ab.jpg");
        let lit = OriginPath::parse("/a%2a").unwrap();
        assert_eq!(lit.as_str(), "/a%2A");
        assert!(!lit.is_prefix());
    }

    #[test]
    fn matches_exact_or_prefix() {
        let exact = OriginPath::parse("/sample.li/flat1.jpg").unwrap();
        assert!(exact.matches("/sample.li/flat1.jpg"));
        assert!(!exact.matches("/sample.li/flat1.jpgx"));
        let prefix = OriginPath::parse("/sample.li/img*").unwrap();
        assert!(prefix.matches("/sample.li/img"));
        assert!(prefix.matches("/sample.li/img/a.jpg"));
        assert!(prefix.matches("/sample.li/img2.jpg"));
        assert!(!prefix.matches("/sample.li/im.jpg"));
        assert!(OriginPath::parse("/*").unwrap().matches("/anything.jpg"));
    }

    #[test]
    fn rejects_query_and_fragment_with_suggestion() {
        assert_eq!(reason("/sample.li/flat1.jpg?w=500"), HasQuery);
        assert_eq!(suggestion("/sample.li/flat1.jpg?w=500").unwrap(), "/sample.li/flat1.jpg");
        assert_eq!(reason("/a.jpg#top"), HasFragment);
        assert_eq!(suggestion("/a.jpg#top").unwrap(), "/a.jpg");
        assert_eq!(reason("/a.jpg?x#y"), HasQuery);
        assert_eq!(reason("/a.jpg#y?x"), HasFragment);
        assert_eq!(suggestion("/img*?w=1").unwrap(), "/img*");
        assert_eq!(suggestion("/?w=1"), None);
        assert_eq!(suggestion("/a/../b.jpg?w=1").unwrap(), "/b.jpg");
    }

    #[test]
    fn rejects_scheme_and_host_with_suggestions() {
        let cases = [
            ("doc.cloudimg.io/sample.li/flat1.jpg", HasSchemeOrHost),
            ("doc.cloudimg.io/sample.li/flat1.jpg?w=500", HasSchemeOrHost),
            ("https://doc.cloudimg.io/sample.li/flat1.jpg?w=500#x", HasSchemeOrHost),
            ("http://doc.cloudimg.io/sample.li/flat1.jpg", HasSchemeOrHost),
            ("//doc.cloudimg.io/sample.li/flat1.jpg", HasSchemeOrHost),
            ("sample.li/flat1.jpg", NotAbsolute),
        ];
        for (input, want) in cases {
            let e = err(input);
            assert_eq!(e.reason, want, "{input}");
            assert_eq!(e.suggestion.as_deref(), Some("/sample.li/flat1.jpg"), "{input}");
        }
        assert_eq!(suggestion("flat1.jpg").unwrap(), "/flat1.jpg");
        assert_eq!(suggestion("images/a.jpg").unwrap(), "/images/a.jpg");
        assert_eq!(reason("images/a.jpg"), NotAbsolute);
        assert_eq!(suggestion("https://"), None);
        assert_eq!(suggestion("https://sample.li/").unwrap(), "/sample.li/");
        assert_eq!(suggestion("https://doc.cloudimg.io/sample.li/a*b.jpg"), None);
        assert_eq!(suggestion("doc.cloudimg.io/sample.li/x/../a.jpg").unwrap(), "/sample.li/a.jpg");
        // The anchor's versioned URLs, with or without a scheme.
        assert_eq!(suggestion("https://doc.cloudimg.io/v7/sample.li/birds.jpg?h=300").unwrap(), "/sample.li/birds.jpg");
        assert_eq!(suggestion("doc.cloudimg.io/v7/sample.li/birds.jpg").unwrap(), "/sample.li/birds.jpg");
        assert_eq!(reason("doc.cloudimg.io/v7/sample.li/birds.jpg"), HasSchemeOrHost);
        // A `v7` folder on an origin stays: only after a CDN host and before an origin host is it a version.
        assert_eq!(suggestion("https://doc.cloudimg.io/sample.li/v7/a.jpg").unwrap(), "/sample.li/v7/a.jpg");
    }

    #[test]
    fn rejects_control_characters() {
        for bad in ["/a\tb.jpg", "/a\u{0}.jpg", "/a\u{7F}.jpg", "/a\u{85}.jpg", "/a\u{9F}.jpg"] {
            assert_eq!(reason(bad), ControlCharacter, "{bad:?}");
        }
        assert_eq!(reason("/a\nb.jpg"), ControlCharacter);
        // Encoded controls would smuggle the same bytes into the cache key.
        assert_eq!(reason("/a%09b.jpg"), ControlCharacter);
        assert_eq!(reason("/a%C2%85.jpg"), ControlCharacter);
        assert_eq!(reason("/a%7F.jpg"), ControlCharacter);
    }

    #[test]
    fn dot_segments_rejected_with_normalised_suggestion() {
        assert_eq!(reason("/a/../b.jpg"), DotSegment);
        assert_eq!(suggestion("/a/../b.jpg").unwrap(), "/b.jpg");
        assert_eq!(suggestion("/./a.jpg").unwrap(), "/a.jpg");
        assert_eq!(suggestion("/a/%2E%2E/b.jpg").unwrap(), "/b.jpg");
        assert_eq!(suggestion("/a/./*").unwrap(), "/a/*");
        assert_eq!(suggestion("/a/.."), None);
        assert_eq!(ok("/a/..b.jpg"), "/a/..b.jpg");
        assert_eq!(ok("/a/.*"), "/a/.*");
        assert_eq!(ok("/a/..*"), "/a/..*");
    }

    #[test]
    fn percent_encoding_canonicalises() {
        assert_eq!(ok("/a b.jpg"), "/a%20b.jpg");
        assert_eq!(ok("/a%20b.jpg"), "/a%20b.jpg");
        assert_eq!(ok("/a%2Ejpg"), "/a.jpg");
        assert_eq!(ok("/%41%62.jpg"), "/Ab.jpg");
        assert_eq!(ok("/a%2fb.jpg"), "/a%2Fb.jpg");
        assert_eq!(ok("/a%3fb.jpg"), "/a%3Fb.jpg");
        assert_eq!(ok("/a%23b.jpg"), "/a%23b.jpg");
        assert_eq!(ok("/100%25.jpg"), "/100%25.jpg");
        assert_eq!(ok("/a\"<>`{}|\\^.jpg"), "/a%22%3C%3E%60%7B%7D%7C%5C%5E.jpg");
    }

    #[test]
    fn unicode_is_accepted_and_encoded() {
        assert_eq!(ok("/café.jpg"), "/caf%C3%A9.jpg");
        assert_eq!(ok("/caf%c3%a9.jpg"), "/caf%C3%A9.jpg");
        assert_eq!(ok("/日本/画像.png"), "/%E6%97%A5%E6%9C%AC/%E7%94%BB%E5%83%8F.png");
        assert_eq!(ok("/😀*"), "/%F0%9F%98%80*");
    }

    #[test]
    fn bad_percent_encoding() {
        for bad in ["/a%zz.jpg", "/a.jpg%", "/a%2", "/%C3.jpg", "/%FF.jpg", "/%C3/%A9", "/a%é9"] {
            assert_eq!(reason(bad), BadPercentEncoding, "{bad}");
        }
    }

    #[test]
    fn length_limit_applies_to_canonical_form() {
        let max = format!("/{}", "a".repeat(MAX_PATH_BYTES - 1));
        assert_eq!(ok(&max).len(), MAX_PATH_BYTES);
        assert_eq!(reason(&format!("{max}a")), TooLong);
        assert_eq!(reason(&format!("{max}*")), TooLong);
        let prefix = format!("/{}*", "a".repeat(MAX_PATH_BYTES - 2));
        assert_eq!(ok(&prefix).len(), MAX_PATH_BYTES);
        // Decoding shrinks, encoding grows: the canonical length counts.
        assert_eq!(ok(&format!("/{}", "%61".repeat(MAX_PATH_BYTES - 1))), max);
        assert_eq!(reason(&format!("/{}", "é".repeat(400))), TooLong);
    }

    #[test]
    fn canonical_form_is_a_fixed_point() {
        let inputs = [
            "/sample.li/flat1.jpg",
            "/a b.jpg",
            "/café.jpg",
            "/a%2f%3f%23%25%2a.jpg",
            "/img*",
            "/*",
            "/a//b/",
            "/x%C3%A9%20y*",
            "/a\"<>`{}|\\^",
        ];
        for input in inputs {
            let once = ok(input);
            assert_eq!(ok(&once), once, "{input}");
        }
    }

    #[test]
    fn every_suggestion_is_valid_canonical() {
        let inputs = [
            "/sample.li/flat1.jpg?w=500",
            "doc.cloudimg.io/sample.li/flat1.jpg",
            "doc.cloudimg.io/sample.li/flat1.jpg?w=500",
            "https://doc.cloudimg.io/sample.li/flat1.jpg?w=500#x",
            "//doc.cloudimg.io/sample.li/flat1.jpg",
            "sample.li/flat1.jpg",
            "flat1.jpg",
            "images/a.jpg",
            "/a/../b.jpg",
            "/./a.jpg",
            "https:///x.jpg",
            "https://a.b//c.jpg",
            "/a b/../c d.jpg#x",
            "ftp://cdn.example.com/origin.example.com/café.jpg",
        ];
        for input in inputs {
            let s = suggestion(input).unwrap_or_else(|| panic!("no suggestion for {input}"));
            assert_eq!(ok(&s), s, "{input} -> {s}");
        }
    }

    #[test]
    fn serde_as_string_validated() {
        let p = OriginPath::parse("/a b.jpg").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), r#""/a%20b.jpg""#);
        let back: OriginPath = serde_json::from_str(r#""/a b.jpg""#).unwrap();
        assert_eq!(back, p);
        assert!(serde_json::from_str::<OriginPath>(r#""/a.jpg?w=1""#).is_err());
        assert_eq!(p.to_string(), "/a%20b.jpg");
        assert_eq!("/a b.jpg".parse::<OriginPath>().unwrap(), p);
        assert_eq!(String::from(p.clone()), "/a%20b.jpg");
        assert_eq!(OriginPath::try_from("/a b.jpg").unwrap(), p);
    }
}
