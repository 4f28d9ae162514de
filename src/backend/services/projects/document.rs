//! A project's settings as one document: what `server project show --json`
//! and `GET /api/v1/project` answer, and, every field optional, what
//! `server project set` and `PATCH /api/v1/project` take. A change goes
//! through the Settings form's checks ([`ProjectService::update_settings`]),
//! so every rule of the form holds here too, and each error names its field.

use serde::{Deserialize, Deserializer, Serialize};

use super::{ProjectService, SettingsInput};
use crate::backend::store::Project;
use crate::backend::{Actor, ServiceError};
use crate::domain::tag::DEFAULT_TAG_SOURCES;

/// Every setting of a project as it is now. The signing salt is a secret:
/// only whether one is set.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsDocument {
    pub token: String,
    pub name: String,
    pub origin_hosts: Vec<String>,
    pub origin_scheme: String,
    pub max_age_secs: i64,
    pub s_maxage_secs: i64,
    pub custom_host: Option<String>,
    /// Set by an admin, waiting for an instance owner's approval.
    pub custom_host_pending: bool,
    pub allow_private_origins: bool,
    pub private_origins_allowed: Vec<String>,
    pub signing: bool,
    pub sign_length: u8,
    pub sealed: bool,
    pub strict_seal: bool,
    pub no_upscale: bool,
    pub auto_format: bool,
    pub linear_light: bool,
    pub soft_purge: bool,
    pub verify: bool,
    pub tag_sources: Vec<String>,
    /// `{path or prefix} {tag}`.
    pub tag_rules: Vec<String>,
    pub confirm_above_objects: Option<u64>,
    pub confirm_above_mb: Option<u64>,
    pub approval_for_all: bool,
    pub approval_hours: u32,
    pub retention_days: i64,
}

/// A change: only the fields given change. `null` clears what may be empty
/// (`custom_host`, `sign_salt`, `confirm_above_*`, `approval_hours`,
/// `sign_length`: back to their defaults).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub name: Option<String>,
    pub origin_hosts: Option<Vec<String>>,
    pub origin_scheme: Option<String>,
    pub max_age_secs: Option<i64>,
    pub s_maxage_secs: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    pub custom_host: Option<Option<String>>,
    /// Instance owners only.
    pub allow_private_origins: Option<bool>,
    /// Instance owners only.
    pub private_origins_allowed: Option<Vec<String>>,
    /// A new salt (8 to 128 visible characters); `null` turns signing off.
    #[serde(default, deserialize_with = "nullable")]
    pub sign_salt: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub sign_length: Option<Option<u8>>,
    pub sealed: Option<bool>,
    pub strict_seal: Option<bool>,
    pub no_upscale: Option<bool>,
    pub auto_format: Option<bool>,
    pub linear_light: Option<bool>,
    pub soft_purge: Option<bool>,
    pub verify: Option<bool>,
    pub tag_sources: Option<Vec<String>>,
    pub tag_rules: Option<Vec<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub confirm_above_objects: Option<Option<u64>>,
    #[serde(default, deserialize_with = "nullable")]
    pub confirm_above_mb: Option<Option<u64>>,
    pub approval_for_all: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    pub approval_hours: Option<Option<u32>>,
    pub retention_days: Option<i64>,
}

/// Present (even as `null`): `Some`; absent: `None` (with `#[serde(default)]`).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl SettingsDocument {
    pub fn new(p: &Project, retention_days: i64) -> Self {
        let e = &p.edge;
        SettingsDocument {
            token: p.token.clone(),
            name: p.name.clone(),
            origin_hosts: p.origin_hosts.clone(),
            origin_scheme: e.origin_scheme.as_str().to_owned(),
            max_age_secs: p.max_age_secs,
            s_maxage_secs: p.s_maxage_secs,
            custom_host: e.custom_host.clone(),
            custom_host_pending: e.custom_host_pending,
            allow_private_origins: e.allow_private_origins,
            private_origins_allowed: e.private_origins_allowed.clone(),
            signing: e.sign_salt.is_some(),
            sign_length: e.sign_length.unwrap_or(18),
            sealed: e.sealed,
            strict_seal: e.strict_seal,
            no_upscale: e.no_upscale,
            auto_format: e.auto_format,
            linear_light: e.linear_light,
            soft_purge: e.soft_purge,
            verify: e.verify,
            tag_sources: e
                .tag_sources
                .clone()
                .unwrap_or_else(|| DEFAULT_TAG_SOURCES.iter().map(|s| (*s).to_owned()).collect()),
            tag_rules: e.tag_rules.iter().map(|r| format!("{} {}", r.pattern, r.tag)).collect(),
            confirm_above_objects: e.confirm_above_objects,
            confirm_above_mb: e.confirm_above_bytes.map(|b| b >> 20),
            approval_for_all: e.approval_for_all,
            approval_hours: e.approval_hours.unwrap_or(24),
            retention_days,
        }
    }
}

impl SettingsPatch {
    /// The Settings form as it would be posted with `current`'s values and
    /// this patch's changes.
    fn form(&self, current: &Project) -> SettingsInput {
        let e = &current.edge;
        let lines = |v: &[String]| v.join("\n");
        let num = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
        let pick = |new: Option<bool>, old: bool| new.unwrap_or(old);
        SettingsInput {
            name: self.name.clone().unwrap_or_else(|| current.name.clone()),
            origin_hosts: lines(self.origin_hosts.as_deref().unwrap_or(&current.origin_hosts)),
            max_age_secs: self.max_age_secs.unwrap_or(current.max_age_secs).to_string(),
            s_maxage_secs: self.s_maxage_secs.unwrap_or(current.s_maxage_secs).to_string(),
            origin_scheme: self.origin_scheme.clone().unwrap_or_else(|| e.origin_scheme.as_str().to_owned()),
            custom_host: match &self.custom_host {
                Some(host) => host.clone().unwrap_or_default(),
                None => e.custom_host.clone().unwrap_or_default(),
            },
            allow_private_origins: pick(self.allow_private_origins, e.allow_private_origins),
            private_origins_allowed: lines(
                self.private_origins_allowed.as_deref().unwrap_or(&e.private_origins_allowed),
            ),
            sign_salt: self.sign_salt.clone().flatten().unwrap_or_default(),
            clear_sign_salt: matches!(self.sign_salt, Some(None)),
            sign_length: match self.sign_length {
                Some(n) => n.map(|n| n.to_string()).unwrap_or_default(),
                None => e.sign_length.map(|n| n.to_string()).unwrap_or_default(),
            },
            sealed: pick(self.sealed, e.sealed),
            strict_seal: pick(self.strict_seal, e.strict_seal),
            no_upscale: pick(self.no_upscale, e.no_upscale),
            auto_format: pick(self.auto_format, e.auto_format),
            linear_light: pick(self.linear_light, e.linear_light),
            soft_purge: pick(self.soft_purge, e.soft_purge),
            verify: pick(self.verify, e.verify),
            tag_sources: self.tag_sources.as_ref().map(|v| v.join(" ")),
            tag_rules: self.tag_rules.as_deref().map(lines),
            confirm_above_objects: self.confirm_above_objects.map(num),
            confirm_above_mb: self.confirm_above_mb.map(num),
            approval_for_all: self.approval_for_all,
            approval_hours: self.approval_hours.map(|h| h.map(|h| h.to_string()).unwrap_or_default()),
        }
    }

    /// Fields only an instance owner may change.
    fn owner_only(&self) -> Option<&'static str> {
        if self.allow_private_origins.is_some() {
            Some("allow_private_origins")
        } else if self.private_origins_allowed.is_some() {
            Some("private_origins_allowed")
        } else {
            None
        }
    }
}

impl ProjectService {
    /// The project's settings (readers).
    pub async fn document(&self, actor: &Actor) -> Result<SettingsDocument, ServiceError> {
        let project = self.settings(actor).await?;
        let retention = self.retention(actor).await?;
        Ok(SettingsDocument::new(&project, retention))
    }

    /// Applies `patch` (admins; the private-origin fields: instance owners)
    /// with the Settings form's checks; answers the settings after it.
    pub async fn patch_settings(&self, actor: &Actor, patch: &SettingsPatch) -> Result<SettingsDocument, ServiceError> {
        use crate::domain::InstanceRole;
        actor.require(crate::domain::Role::can_manage)?;
        actor.require_unlimited("the project's settings")?;
        if let Some(field) = patch.owner_only().filter(|_| actor.instance != Some(InstanceRole::Owner)) {
            return Err(ServiceError::field(field, "only an instance owner changes the private-origin settings"));
        }
        if let Some(days) = patch.retention_days {
            // Checked before anything is stored, so a bad patch changes nothing.
            if !(1..=3650).contains(&days) {
                return Err(ServiceError::field("retention_days", "a whole number of days from 1 to 3650, e.g. 90"));
            }
        }
        let current = self.settings(actor).await?;
        let form = patch.form(&current);
        self.update_settings(actor, &form).await?;
        if let Some(days) = patch.retention_days {
            self.set_retention(actor, &days.to_string()).await?;
        }
        self.document(actor).await
    }
}
