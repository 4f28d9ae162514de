use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::text::excerpt;

/// Why an entry is not a valid origin path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathErrorReason {
    Empty,
    NotAbsolute,
    HasQuery,
    HasFragment,
    HasSchemeOrHost,
    TooLong,
    ControlCharacter,
    MisplacedWildcard,
    DotSegment,
    BadPercentEncoding,
    Root,
}

impl PathErrorReason {
    pub const ALL: [PathErrorReason; 11] = [
        Self::Empty,
        Self::NotAbsolute,
        Self::HasQuery,
        Self::HasFragment,
        Self::HasSchemeOrHost,
        Self::TooLong,
        Self::ControlCharacter,
        Self::MisplacedWildcard,
        Self::DotSegment,
        Self::BadPercentEncoding,
        Self::Root,
    ];

    /// Human explanation that tells the user how to fix the entry.
    pub fn message(&self) -> &'static str {
        match self {
            Self::Empty => "enter a path starting with “/”, e.g. /sample.li/flat1.jpg",
            Self::NotAbsolute => "start the path with “/” — it is the origin path that follows your project token",
            Self::HasQuery => "remove the query string (the part from “?”) — every variant is flushed anyway",
            Self::HasFragment => "remove the fragment (the part from “#”) — it is never sent to the CDN",
            Self::HasSchemeOrHost => {
                "remove the scheme and CDN host — submit only the origin path after your token, starting with “/”"
            }
            Self::TooLong => {
                "shorten the path to at most 2048 bytes once percent-encoded, or flush a shorter prefix ending in “*”"
            }
            Self::ControlCharacter => "remove control characters (tabs, line breaks, NUL…) from inside the path",
            Self::MisplacedWildcard => {
                "“*” is only allowed as the very last character (prefix flush); write a literal star as %2A"
            }
            Self::DotSegment => {
                "remove “.” and “..” segments — caches normalise them away, so the path would never match"
            }
            Self::BadPercentEncoding => {
                "fix the percent-encoding: “%” must start a %XX escape of valid UTF-8; write a literal “%” as %25"
            }
            Self::Root => "“/” names no image; to flush everything under your token use “/*”",
        }
    }

    /// Stable machine code, identical to the serde representation.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::NotAbsolute => "not_absolute",
            Self::HasQuery => "has_query",
            Self::HasFragment => "has_fragment",
            Self::HasSchemeOrHost => "has_scheme_or_host",
            Self::TooLong => "too_long",
            Self::ControlCharacter => "control_character",
            Self::MisplacedWildcard => "misplaced_wildcard",
            Self::DotSegment => "dot_segment",
            Self::BadPercentEncoding => "bad_percent_encoding",
            Self::Root => "root",
        }
    }
}

impl fmt::Display for PathErrorReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// One rejected entry, with a corrected path when one can be derived.
///
/// A `suggestion` is always itself a valid canonical origin path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", render(self))]
pub struct PathError {
    pub entry: String,
    pub reason: PathErrorReason,
    pub suggestion: Option<String>,
}

impl PathError {
    /// The reason's explanation, fitted to the entry: a pasted host without
    /// a scheme is not told to remove a scheme.
    pub fn message(&self) -> &'static str {
        let scheme = self.entry.contains("://") || self.entry.trim_start().starts_with("//");
        match self.reason {
            PathErrorReason::HasSchemeOrHost if !scheme => {
                "remove the CDN host — submit only the origin path after your token, starting with “/”"
            }
            reason => reason.message(),
        }
    }
}

fn render(e: &PathError) -> String {
    // Debug-quoting makes stray control characters visible in the message.
    let mut out = format!("{:?}: {}", excerpt(&e.entry), e.message());
    if let Some(s) = &e.suggestion {
        out.push_str(&format!(". Try {s:?}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_message_fits_what_was_pasted() {
        let e =
            |entry: &str| PathError { entry: entry.into(), reason: PathErrorReason::HasSchemeOrHost, suggestion: None };
        assert!(e("https://doc.cloudimg.io/sample.li/a.jpg").message().starts_with("remove the scheme and CDN host"));
        assert!(e("//doc.cloudimg.io/sample.li/a.jpg").message().starts_with("remove the scheme and CDN host"));
        assert!(e("doc.cloudimg.io/sample.li/a.jpg").message().starts_with("remove the CDN host —"));
    }

    #[test]
    fn display_quotes_entry_and_suggests() {
        let e = PathError {
            entry: "/sample.li/flat1.jpg?w=500".into(),
            reason: PathErrorReason::HasQuery,
            suggestion: Some("/sample.li/flat1.jpg".into()),
        };
        assert_eq!(
            e.to_string(),
            "\"/sample.li/flat1.jpg?w=500\": remove the query string (the part from “?”) \
             — every variant is flushed anyway. Try \"/sample.li/flat1.jpg\""
        );
    }

    #[test]
    fn display_without_suggestion_and_escaped_controls() {
        let e = PathError { entry: "/a\tb.jpg".into(), reason: PathErrorReason::ControlCharacter, suggestion: None };
        let s = e.to_string();
        assert!(s.starts_with("\"/a\\tb.jpg\": remove control characters"), "{s}");
        assert!(!s.contains("Try"));
    }

    #[test]
    fn display_shortens_huge_entries() {
        let e =
            PathError { entry: format!("/{}", "a".repeat(5000)), reason: PathErrorReason::TooLong, suggestion: None };
        assert!(e.to_string().len() < 400);
    }

    #[test]
    fn codes_match_serde_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for r in PathErrorReason::ALL {
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.code()));
            let back: PathErrorReason = serde_json::from_str(&json).unwrap();
            assert_eq!(back, r);
            assert!(seen.insert(r.code()));
            assert!(!r.message().is_empty());
        }
    }

    #[test]
    fn error_serde_roundtrip() {
        let e = PathError {
            entry: "flat1.jpg".into(),
            reason: PathErrorReason::NotAbsolute,
            suggestion: Some("/flat1.jpg".into()),
        };
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"not_absolute\""));
        assert_eq!(serde_json::from_str::<PathError>(&json).unwrap(), e);
    }
}
