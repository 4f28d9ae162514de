use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::role::Role;
use crate::domain::text::{excerpt, trim_input};

/// What a user may do across the whole instance, beside their project roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstanceRole {
    /// Creates projects and manages every user: admin of every project.
    Owner,
    /// The operator's support engineers: read-only on every project.
    Staff,
}

impl InstanceRole {
    pub const ALL: [InstanceRole; 2] = [Self::Owner, Self::Staff];

    /// Accepts `owner` / `staff` in any letter case.
    pub fn parse(value: &str) -> Result<InstanceRole, UnknownInstanceRole> {
        let v = trim_input(value);
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(v))
            .ok_or_else(|| UnknownInstanceRole { value: v.to_owned() })
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Staff => "staff",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::Staff => "Staff",
        }
    }

    /// The role this instance role gives in a project the user is no member of.
    pub fn project_role(&self) -> Role {
        match self {
            Self::Owner => Role::Admin,
            Self::Staff => Role::Support,
        }
    }

    /// The stronger of a membership role and the one this instance role gives.
    pub fn combine(instance: Option<InstanceRole>, member: Option<Role>) -> Option<Role> {
        let rank = |r: Role| match r {
            Role::Admin => 3,
            Role::Editor => 2,
            Role::Support => 1,
        };
        match (instance.map(|i| i.project_role()), member) {
            (Some(a), Some(b)) => Some(if rank(a) >= rank(b) { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    pub fn can_create_projects(&self) -> bool {
        matches!(self, Self::Owner)
    }
}

impl fmt::Display for InstanceRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown instance role {:?}; use \"owner\" or \"staff\"", excerpt(.value))]
pub struct UnknownInstanceRole {
    pub value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_labels() {
        assert_eq!(InstanceRole::parse(" OWNER "), Ok(InstanceRole::Owner));
        assert_eq!(InstanceRole::parse("staff"), Ok(InstanceRole::Staff));
        assert!(InstanceRole::parse("admin").unwrap_err().to_string().contains("\"owner\" or \"staff\""));
        assert_eq!(serde_json::to_string(&InstanceRole::Staff).unwrap(), "\"staff\"");
    }

    #[test]
    fn owners_administer_and_staff_read_every_project() {
        use InstanceRole::*;
        assert_eq!(InstanceRole::combine(Some(Owner), None), Some(Role::Admin));
        assert_eq!(InstanceRole::combine(Some(Owner), Some(Role::Support)), Some(Role::Admin));
        assert_eq!(InstanceRole::combine(Some(Staff), None), Some(Role::Support));
        assert_eq!(InstanceRole::combine(Some(Staff), Some(Role::Editor)), Some(Role::Editor));
        assert_eq!(InstanceRole::combine(None, Some(Role::Editor)), Some(Role::Editor));
        assert_eq!(InstanceRole::combine(None, None), None);
        assert!(Owner.can_create_projects() && !Staff.can_create_projects());
    }
}
