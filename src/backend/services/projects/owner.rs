//! What the instance's owners do on the Projects page: see every project at
//! a glance and create new ones.

use super::service::ProjectService;
use super::settings::{validate_settings, SettingsInput};
use crate::backend::audit::RequestMeta;
use crate::backend::store::{EdgeSettings, NewProject, Project, ProjectSummary, StoreError, User};
use crate::backend::{now_ms, ServiceError};
use crate::domain::{FieldError, InstanceRole, ProjectToken, Role};

/// The Projects page's form, as posted.
#[derive(Debug, Clone, Default)]
pub struct NewProjectInput {
    pub token: String,
    pub name: String,
    pub origin_hosts: String,
    pub max_age_secs: String,
    pub s_maxage_secs: String,
}

fn require(user: &User, allowed: fn(&InstanceRole) -> bool) -> Result<(), ServiceError> {
    match user.instance_role {
        Some(r) if allowed(&r) => Ok(()),
        // A project admin is no owner: the same refusal as a support member's.
        _ => Err(ServiceError::Forbidden(Role::Support)),
    }
}

impl ProjectService {
    /// Every project with its latest invalidation and error count (owners and staff).
    pub async fn overview(&self, user: &User) -> Result<Vec<ProjectSummary>, ServiceError> {
        require(user, |_| true)?;
        Ok(self.store.project_overview().await?)
    }

    /// Creates a project (owners); the owner becomes its first admin.
    #[tracing::instrument(skip_all, fields(token = %input.token), err(level = "info"))]
    pub async fn create_by(
        &self,
        user: &User,
        input: &NewProjectInput,
        meta: &RequestMeta,
    ) -> Result<Project, ServiceError> {
        require(user, InstanceRole::can_create_projects)?;
        let token = ProjectToken::parse(&input.token).map_err(|e| FieldError::new("token", e.to_string()));
        let settings = SettingsInput {
            name: input.name.clone(),
            origin_hosts: input.origin_hosts.clone(),
            max_age_secs: default_if_empty(&input.max_age_secs, "2592000"),
            s_maxage_secs: default_if_empty(&input.s_maxage_secs, "31536000"),
            tag_sources: Some(crate::domain::tag::DEFAULT_TAG_SOURCES.join(" ")),
            ..Default::default()
        };
        let blank = Project {
            id: 0,
            token: String::new(),
            name: String::new(),
            origin_hosts: vec![],
            max_age_secs: 0,
            s_maxage_secs: 0,
            edge: EdgeSettings::default(),
        };
        let update = validate_settings(&settings, &blank);
        let (token, update) = match (token, update) {
            (Ok(t), Ok(u)) => (t, u),
            (t, u) => {
                let mut errors: Vec<FieldError> = t.err().into_iter().collect();
                if let Err(ServiceError::Invalid(more)) = u {
                    errors.extend(more);
                }
                return Err(ServiceError::Invalid(errors));
            }
        };
        let new = NewProject {
            token: token.as_str().to_owned(),
            name: update.name.clone(),
            origin_hosts: update.origin_hosts.clone(),
        };
        let project = match self.store.create_project(&new, now_ms()).await {
            Err(StoreError::Conflict(_)) => {
                return Err(ServiceError::field("token", format!("the token {} is taken: choose another", new.token)))
            }
            other => other?,
        };
        self.store.update_project_settings(project.id, &update).await?;
        self.store.set_membership(user.id, project.id, Role::Admin).await?;
        let actor = self.actor_for(user, &project.token).await?.from_request(meta.clone());
        let detail = format!("{} ({}), origin hosts: {}", project.token, update.name, update.origin_hosts.join(" "));
        crate::backend::audit::record(&self.store, &actor, "project.created", detail).await;
        Ok(self.store.project_by_id(project.id).await?)
    }
}

fn default_if_empty(raw: &str, default: &str) -> String {
    if raw.trim().is_empty() {
        default.to_owned()
    } else {
        raw.to_owned()
    }
}
