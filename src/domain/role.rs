use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::domain::text::{excerpt, trim_input};

/// What a console user may do within a project.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Editor,
    /// Read-only, for support staff looking into customer reports.
    Support,
}

impl Role {
    pub const ALL: [Role; 3] = [Self::Admin, Self::Editor, Self::Support];

    /// Accepts `admin` / `editor` / `support` in any letter case.
    pub fn parse(value: &str) -> Result<Role, UnknownRole> {
        let v = trim_input(value);
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(v))
            .ok_or_else(|| UnknownRole { value: v.to_owned() })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Support => "support",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Admin => "Admin",
            Self::Editor => "Editor",
            Self::Support => "Support",
        }
    }

    pub fn can_read(&self) -> bool {
        true
    }

    pub fn can_submit(&self) -> bool {
        matches!(self, Self::Admin | Self::Editor)
    }

    pub fn can_retry(&self) -> bool {
        self.can_submit()
    }

    /// Users, tokens and targets.
    pub fn can_manage(&self) -> bool {
        matches!(self, Self::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {:?}; use \"admin\", \"editor\" or \"support\"", excerpt(.value))]
pub struct UnknownRole {
    pub value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_serde_roundtrip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
            assert_eq!(r.label().parse::<Role>(), Ok(r));
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{r}\""));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), r);
        }
        assert!(serde_json::from_str::<Role>("\"root\"").is_err());
    }

    #[test]
    fn permissions() {
        use Role::*;
        let check = |f: fn(&Role) -> bool| Role::ALL.map(|r| f(&r));
        assert_eq!(check(Role::can_read), [true, true, true]);
        assert_eq!(check(Role::can_submit), [true, true, false]);
        assert_eq!(check(Role::can_retry), [true, true, false]);
        assert_eq!(check(Role::can_manage), [true, false, false]);
        assert_eq!(Role::ALL, [Admin, Editor, Support]);
    }

    #[test]
    fn unknown_role_names_valid_values() {
        let e = Role::parse("owner").unwrap_err();
        assert_eq!(e.to_string(), "unknown role \"owner\"; use \"admin\", \"editor\" or \"support\"");
    }
}
