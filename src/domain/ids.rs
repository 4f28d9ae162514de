use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::text::{excerpt, trim_input};

/// Public identifier of one invalidation. Generated server-side (UUIDv7, so
/// ids sort by creation); the browser only parses and displays them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InvalidationId(pub Uuid);

impl InvalidationId {
    pub fn parse(value: &str) -> Result<InvalidationId, InvalidInvalidationId> {
        let v = trim_input(value);
        Uuid::parse_str(v).map(InvalidationId).map_err(|_| InvalidInvalidationId { value: v.to_owned() })
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }

    /// The first Invalidation ID in `text`: the ID itself, or a pasted URL or
    /// message containing one (`https://console/p/doc/invalidation/0193…`).
    pub fn find_in(text: &str) -> Option<InvalidationId> {
        const LEN: usize = 36;
        let bytes = text.as_bytes();
        let shaped = |w: &[u8]| {
            w.iter().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => *b == b'-',
                _ => b.is_ascii_hexdigit(),
            })
        };
        (0..bytes.len().saturating_sub(LEN - 1))
            .filter(|&i| shaped(&bytes[i..i + LEN]))
            .find_map(|i| Uuid::parse_str(&text[i..i + LEN]).ok())
            .map(InvalidationId)
    }

    /// Shortest ID prefix the lookup searches by (8 hex digits: the first
    /// group of a hyphenated ID, as support staff read it out).
    pub const MIN_PREFIX: usize = 8;

    /// The IDs starting with `text` (8 to 31 hex digits, hyphens where an ID
    /// has them), as the range `(lowest, highest)`: a prefix search is a range
    /// scan of the primary key on both databases.
    pub fn prefix_range(text: &str) -> Option<(uuid::Uuid, uuid::Uuid)> {
        let text = text.trim();
        let hyphens_in_place = text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
        let hex: String = text.chars().filter(|c| *c != '-').collect::<String>().to_ascii_lowercase();
        if !hyphens_in_place || !(Self::MIN_PREFIX..32).contains(&hex.len()) {
            return None;
        }
        let pad = |c: char| format!("{hex}{}", c.to_string().repeat(32 - hex.len()));
        Some((uuid::Uuid::parse_str(&pad('0')).ok()?, uuid::Uuid::parse_str(&pad('f')).ok()?))
    }
}

impl fmt::Display for InvalidationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for InvalidationId {
    type Err = InvalidInvalidationId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl From<Uuid> for InvalidationId {
    fn from(u: Uuid) -> Self {
        Self(u)
    }
}

impl TryFrom<String> for InvalidationId {
    type Error = InvalidInvalidationId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<InvalidationId> for String {
    fn from(id: InvalidationId) -> String {
        id.to_string()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{:?} is not a valid Invalidation ID; it looks like \
     0193a5b2-7c1d-7e4f-9a2b-3c4d5e6f7a8b (copy it from the invalidation list)",
    excerpt(.value)
)]
pub struct InvalidInvalidationId {
    pub value: String,
}

/// A project's CDN token, the first label of its edge host
/// (`doc` in `doc.cloudimg.io`), hence the DNS-safe alphabet.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectToken(String);

impl ProjectToken {
    pub const MIN_LEN: usize = 2;
    pub const MAX_LEN: usize = 32;

    /// `^[a-z0-9][a-z0-9-]{1,31}$`
    pub fn parse(value: &str) -> Result<ProjectToken, InvalidProjectToken> {
        let v = trim_input(value);
        if is_valid_token(v) {
            Ok(ProjectToken(v.to_owned()))
        } else {
            let lower = v.to_ascii_lowercase();
            Err(InvalidProjectToken { value: v.to_owned(), suggestion: is_valid_token(&lower).then_some(lower) })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_valid_token(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (ProjectToken::MIN_LEN..=ProjectToken::MAX_LEN).contains(&b.len())
        && alnum(&b[0])
        && b[1..].iter().all(|c| alnum(c) || *c == b'-')
}

impl fmt::Display for ProjectToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ProjectToken {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for ProjectToken {
    type Err = InvalidProjectToken;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ProjectToken {
    type Error = InvalidProjectToken;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ProjectToken> for String {
    fn from(t: ProjectToken) -> String {
        t.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{:?} is not a valid project token; use 2–32 lowercase letters, digits or “-”, \
     starting with a letter or digit (e.g. \"doc\"){}",
    excerpt(.value),
    .suggestion.as_ref().map(|s| format!(". Try {s:?}")).unwrap_or_default()
)]
pub struct InvalidProjectToken {
    pub value: String,
    /// The lowercased token, when that alone would make it valid.
    pub suggestion: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_prefix_is_a_range_of_ids() {
        let (lo, hi) = InvalidationId::prefix_range("0190a1b2").unwrap();
        assert_eq!(lo.to_string(), "0190a1b2-0000-0000-0000-000000000000");
        assert_eq!(hi.to_string(), "0190a1b2-ffff-ffff-ffff-ffffffffffff");
        let (lo, hi) = InvalidationId::prefix_range(" 0190A1B2-3c ").unwrap();
        assert_eq!(
            (lo.to_string().as_str(), hi.to_string().as_str()),
            ("0190a1b2-3c00-0000-0000-000000000000", "0190a1b2-3cff-ffff-ffff-ffffffffffff")
        );
        // Too short, a full ID (found as such), not hex, hyphens out of place.
        for no in ["0190a1b", "0190a1b2-3c4d-5e6f-7a8b-9c0d1e2f3a4b", "0190a1bz", "0190-a1b2", ""] {
            assert_eq!(InvalidationId::prefix_range(no), None, "{no:?}");
        }
    }

    #[test]
    fn finds_an_id_in_pasted_text() {
        let id = "0193a5b2-7c1d-7e4f-9a2b-3c4d5e6f7a8b";
        for text in [
            id.to_owned(),
            format!("  {id}\n"),
            format!("https://console.example/p/doc/invalidation/{id}?x=1"),
            format!("Invalidation ID: {}", id.to_uppercase()),
        ] {
            assert_eq!(InvalidationId::find_in(&text).map(|i| i.to_string()).as_deref(), Some(id), "{text}");
        }
        for text in ["", "doc", "0193a5b2-7c1d-7e4f-9a2b-3c4d5e6f7a8", "éééééééééééééééééééééééééééééééééééééééé"]
        {
            assert_eq!(InvalidationId::find_in(text), None, "{text}");
        }
    }

    const ID: &str = "0193a5b2-7c1d-7e4f-9a2b-3c4d5e6f7a8b";

    #[test]
    fn invalidation_id_parses_and_displays_lowercase_hyphenated() {
        let id = InvalidationId::parse(ID).unwrap();
        assert_eq!(id.to_string(), ID);
        assert_eq!(InvalidationId::parse(&ID.to_uppercase()), Ok(id));
        assert_eq!(format!(" {ID} ").parse::<InvalidationId>(), Ok(id));
        assert_eq!(InvalidationId::parse(&ID.replace('-', "")), Ok(id));
        assert_eq!(InvalidationId::from(id.as_uuid()), id);
    }

    #[test]
    fn invalidation_id_error_shows_the_expected_shape() {
        let e = InvalidationId::parse("inv-42").unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("\"inv-42\" is not a valid Invalidation ID; it looks like 0193"));
        assert!(InvalidationId::parse("").is_err());
        assert!(InvalidationId::parse(&ID[..35]).is_err());
    }

    #[test]
    fn invalidation_id_serde_and_order() {
        let id = InvalidationId::parse(ID).unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{ID}\""));
        assert_eq!(serde_json::from_str::<InvalidationId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<InvalidationId>("\"nope\"").is_err());
        let later = InvalidationId::parse("0193a5b2-7c1e-7000-8000-000000000000").unwrap();
        assert!(id < later);
    }

    #[test]
    fn project_token_rules() {
        for good in ["doc", "ab", "0x", "my-project-1", "a-", &"a".repeat(32)] {
            assert_eq!(ProjectToken::parse(good).unwrap().as_str(), good);
        }
        for bad in ["", "a", "-ab", "a_b", "a.b", "ab c", "dóc", &"a".repeat(33)] {
            assert!(ProjectToken::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(ProjectToken::parse(" doc ").unwrap().to_string(), "doc");
    }

    #[test]
    fn project_token_error_explains_and_suggests_lowercase() {
        let e = ProjectToken::parse("Doc").unwrap_err();
        assert_eq!(e.suggestion.as_deref(), Some("doc"));
        assert!(e.to_string().starts_with("\"Doc\" is not a valid project token; use 2–32"));
        assert!(e.to_string().ends_with(". Try \"doc\""));
        let e = ProjectToken::parse("a_b").unwrap_err();
        assert_eq!(e.suggestion, None);
        assert!(e.to_string().ends_with("(e.g. \"doc\")"));
    }

    #[test]
    fn project_token_serde_validates() {
        let t: ProjectToken = serde_json::from_str("\"doc\"").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"doc\"");
        assert!(serde_json::from_str::<ProjectToken>("\"DOC!\"").is_err());
        assert_eq!("doc".parse::<ProjectToken>(), Ok(t));
    }
}
