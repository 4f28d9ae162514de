//! What the single sign-on server functions send to the pages.

use serde::{Deserialize, Serialize};

/// A provider on the sign-in page: "Sign in with {name}".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SsoChoice {
    pub id: i64,
    pub name: String,
}

/// An identity provider as the owners' `/sso` page lists it: no secret
/// (it is set, or the provider could not have been added).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SsoProviderRow {
    pub id: i64,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub domains: Vec<String>,
    pub groups_claim: Option<String>,
    /// `group = project_token:role` lines.
    pub group_map: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SsoView {
    pub providers: Vec<SsoProviderRow>,
    pub required: bool,
    /// The owner who keeps password sign-in while single sign-on is required.
    pub break_glass: Option<String>,
}
