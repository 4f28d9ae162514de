use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::domain::text::{excerpt, trim_input};

/// What an invalidation flushes: the listed paths (`Original`, the anchor's
/// name for it), the project's whole token (`All`), or every object
/// carrying one of the listed cache tags (`Tag`; not in the anchor's API).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Original,
    All,
    Tag,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Self::Original, Self::All, Self::Tag];

    /// Accepts `original` / `all` in any letter case.
    pub fn parse(value: &str) -> Result<Scope, UnknownScope> {
        let v = trim_input(value);
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(v))
            .ok_or_else(|| UnknownScope { value: v.to_owned() })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Original => "original",
            Self::All => "all",
            Self::Tag => "tag",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Original => "Original",
            Self::All => "All",
            Self::Tag => "Tag",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = UnknownScope;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {:?}; use \"original\", \"all\" or \"tag\"", excerpt(.value))]
pub struct UnknownScope {
    pub value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_serde_roundtrip() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Ok(s));
            assert_eq!(s.as_str().to_uppercase().parse::<Scope>(), Ok(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), s);
        }
        assert_eq!(Scope::parse(" All "), Ok(Scope::All));
    }

    #[test]
    fn labels() {
        assert_eq!(Scope::Original.label(), "Original");
        assert_eq!(Scope::All.label(), "All");
    }

    #[test]
    fn unknown_scope_names_valid_values() {
        let e = Scope::parse("everything").unwrap_err();
        assert_eq!(e.to_string(), "unknown scope \"everything\"; use \"original\", \"all\" or \"tag\"");
    }
}
