//! The owner's sign-in policy: who must use a second factor, and how long a
//! browser the user chose to remember skips it. Shared by the Users page
//! (wasm) and the server.

use serde::{Deserialize, Serialize};

use super::{FieldError, InstanceRole};

/// Who must sign in with a second factor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorRule {
    /// Nobody must; anyone may turn it on.
    #[default]
    Nobody,
    /// The instance's owners.
    Owners,
    /// Owners and every admin of a project.
    Admins,
    /// Every account.
    Everyone,
}

impl SecondFactorRule {
    pub const ALL: [SecondFactorRule; 4] = [Self::Nobody, Self::Owners, Self::Admins, Self::Everyone];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nobody => "nobody",
            Self::Owners => "owners",
            Self::Admins => "admins",
            Self::Everyone => "everyone",
        }
    }

    /// What the Users page's choice says.
    pub fn label(self) -> &'static str {
        match self {
            Self::Nobody => "Nobody (each user may turn it on)",
            Self::Owners => "Owners",
            Self::Admins => "Owners and project admins",
            Self::Everyone => "Everyone",
        }
    }

    pub fn parse(value: &str) -> Result<SecondFactorRule, FieldError> {
        let v = value.trim();
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(v))
            .ok_or_else(|| FieldError::new("second_factor_for", "choose nobody, owners, admins or everyone"))
    }

    /// Whether a user with `instance_role`, admin of a project or not, must
    /// use a second factor.
    pub fn applies_to(self, instance_role: Option<InstanceRole>, project_admin: bool) -> bool {
        let owner = instance_role == Some(InstanceRole::Owner);
        match self {
            Self::Nobody => false,
            Self::Owners => owner,
            Self::Admins => owner || project_admin,
            Self::Everyone => true,
        }
    }
}

/// The longest a remembered browser skips the second factor.
pub const MAX_REMEMBER_DAYS: i64 = 90;

/// The policy as the owner set it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInPolicy {
    pub second_factor_for: SecondFactorRule,
    /// 0: browsers are never remembered.
    pub remember_days: i64,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        SignInPolicy { second_factor_for: SecondFactorRule::Nobody, remember_days: 30 }
    }
}

impl SignInPolicy {
    /// The Users page's form, each field checked and named.
    pub fn parse(second_factor_for: &str, remember_days: &str) -> Result<SignInPolicy, Vec<FieldError>> {
        let mut errors = Vec::new();
        let rule = SecondFactorRule::parse(second_factor_for).map_err(|e| errors.push(e)).ok();
        let days = match remember_days.trim().parse::<i64>() {
            Ok(d) if (0..=MAX_REMEMBER_DAYS).contains(&d) => Some(d),
            _ => {
                errors.push(FieldError::new(
                    "remember_days",
                    format!("a whole number of days from 0 (never remember) to {MAX_REMEMBER_DAYS}"),
                ));
                None
            }
        };
        match (rule, days) {
            (Some(second_factor_for), Some(remember_days)) if errors.is_empty() => {
                Ok(SignInPolicy { second_factor_for, remember_days })
            }
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_apply_by_role() {
        let owner = Some(InstanceRole::Owner);
        assert!(!SecondFactorRule::Nobody.applies_to(owner, true));
        assert!(SecondFactorRule::Owners.applies_to(owner, false));
        assert!(!SecondFactorRule::Owners.applies_to(None, true));
        assert!(SecondFactorRule::Admins.applies_to(None, true));
        assert!(!SecondFactorRule::Admins.applies_to(Some(InstanceRole::Staff), false));
        assert!(SecondFactorRule::Everyone.applies_to(None, false));
    }

    #[test]
    fn the_form_names_its_bad_fields() {
        assert_eq!(
            SignInPolicy::parse("Admins", " 14 "),
            Ok(SignInPolicy { second_factor_for: SecondFactorRule::Admins, remember_days: 14 })
        );
        let errors = SignInPolicy::parse("some", "91").unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["second_factor_for", "remember_days"]);
    }
}
