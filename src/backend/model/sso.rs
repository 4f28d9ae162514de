//! Single sign-on: the identity providers owners configure and the policy.

use crate::domain::sso::GroupRule;

use super::Sealed;

/// An OpenID Connect provider users may sign in with.
#[derive(Clone, Debug)]
pub struct SsoProvider {
    pub id: i64,
    /// What the sign-in button says ("Sign in with {name}").
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    /// Sealed with the credential key; `Debug` never prints it.
    pub client_secret: Sealed,
    /// E-mail domains whose users may sign in (lower case).
    pub domains: Vec<String>,
    pub groups_claim: Option<String>,
    pub group_map: Vec<GroupRule>,
}

/// A provider to store: its settings, the secret already sealed.
#[derive(Clone, Debug)]
pub struct NewSsoProvider {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Sealed,
    pub domains: Vec<String>,
    pub groups_claim: Option<String>,
    pub group_map: Vec<GroupRule>,
}

/// Whether password sign-in is refused to all but the break-glass owner.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SsoPolicy {
    pub required: bool,
    pub break_glass_user_id: Option<i64>,
}
