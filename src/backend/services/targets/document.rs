//! A purge target as one JSON document, for `server target … --json` and
//! `/api/v1/targets`: its public settings, whether a secret and credentials
//! are set, never their values. Changes go through [`TargetService::add`] and
//! [`TargetService::edit`], the Settings page's own checks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::service::{url_for, TargetInput, TargetService};
use crate::backend::store::Target;
use crate::backend::{Actor, ServiceError};
use crate::domain::Role;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TargetDocument {
    pub id: i64,
    pub name: String,
    /// `edge`, `varnish`, `webhook`, `cloudflare`, `fastly`, `cloudfront`, `akamai` or `bunny`.
    pub kind: String,
    /// Without user name and password (admins); the host alone (other roles).
    pub url: String,
    /// The kind's public settings (zone ID, distribution ID, flags …).
    pub settings: BTreeMap<String, String>,
    pub secret_set: bool,
    pub credentials_set: bool,
}

impl TargetDocument {
    pub fn new(t: &Target, role: Role) -> Self {
        TargetDocument {
            id: t.id,
            name: t.name.clone(),
            kind: t.kind.as_str().to_owned(),
            url: url_for(&t.url, role),
            settings: t.settings.0.clone(),
            secret_set: t.secret.is_some(),
            credentials_set: t.credentials.is_some(),
        }
    }
}

/// A new target (`kind` and `name` required) or a change to one (every field
/// optional: what is absent stays; credentials and the secret are kept
/// unless given; `settings` adds to and replaces the public settings by key).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TargetBody {
    pub kind: Option<String>,
    pub name: Option<String>,
    /// Empty for a provider's public API.
    pub url: Option<String>,
    /// The bearer secret of edges, Varnish nodes and webhooks.
    pub secret: Option<String>,
    /// The kind's settings and credentials by key (`zone_id`, `api_token`, …).
    pub settings: Option<BTreeMap<String, String>>,
}

impl TargetService {
    /// The project's targets as documents (readers; URLs by role).
    pub async fn documents(&self, actor: &Actor) -> Result<Vec<TargetDocument>, ServiceError> {
        Ok(self.list(actor).await?.iter().map(|t| TargetDocument::new(t, actor.role)).collect())
    }

    /// One target by its ID or name.
    pub async fn find(&self, actor: &Actor, id_or_name: &str) -> Result<Target, ServiceError> {
        let targets = self.list(actor).await?;
        let id = id_or_name.parse::<i64>().ok();
        targets.into_iter().find(|t| Some(t.id) == id || t.name == id_or_name).ok_or(ServiceError::NotFound)
    }

    /// Adds a target (admins; not keys limited to paths, tags or scopes).
    pub async fn create(&self, actor: &Actor, body: &TargetBody) -> Result<TargetDocument, ServiceError> {
        actor.require_unlimited("the project's purge targets")?;
        // Missing fields are checked with the others, all named at once.
        let input = TargetInput {
            kind: body.kind.clone().unwrap_or_default(),
            name: body.name.clone().unwrap_or_default(),
            url: body.url.clone().unwrap_or_default(),
            secret: body.secret.clone().filter(|s| !s.is_empty()),
            settings: body.settings.clone().unwrap_or_default(),
        };
        let target = self.add(actor, &input).await?;
        Ok(TargetDocument::new(&target, actor.role))
    }

    /// Changes a target (admins): what the body leaves out stays.
    pub async fn change(
        &self,
        actor: &Actor,
        target: &Target,
        body: &TargetBody,
    ) -> Result<TargetDocument, ServiceError> {
        actor.require_unlimited("the project's purge targets")?;
        let mut settings = target.settings.0.clone();
        settings.extend(body.settings.clone().unwrap_or_default());
        let input = TargetInput {
            kind: body.kind.clone().unwrap_or_else(|| target.kind.as_str().to_owned()),
            name: body.name.clone().unwrap_or_else(|| target.name.clone()),
            url: body.url.clone().unwrap_or_else(|| target.url.clone()),
            secret: body.secret.clone().filter(|s| !s.is_empty()),
            settings,
        };
        let changed = self.edit(actor, target.id, &input).await?;
        Ok(TargetDocument::new(&changed, actor.role))
    }

    /// Removes a target (admins; not keys limited to paths, tags or scopes).
    pub async fn delete(&self, actor: &Actor, target: &Target) -> Result<(), ServiceError> {
        actor.require_unlimited("the project's purge targets")?;
        self.remove(actor, target.id).await.map(drop)
    }
}
