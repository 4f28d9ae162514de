//! Projects and who belongs to them: a signed-in user becomes an [`Actor`]
//! of one project here, or gets the same `NotFound` as for a project that
//! does not exist.

use crate::backend::store::{
    DynStore, Invalidation, Membership, NewProject, Project, ProjectSettingsUpdate, StoreError, Submitter, User,
};
use crate::backend::{Actor, ServiceError};

use super::settings::{validate_settings, SettingsInput};
use crate::domain::{InstanceRole, InvalidationId, Role};

#[derive(Clone)]
pub struct ProjectService {
    pub(super) store: DynStore,
    /// The edges' own host names, which no custom host may take.
    pub(super) edge_names: std::sync::Arc<Vec<String>>,
}

impl ProjectService {
    pub fn new(store: DynStore) -> Self {
        ProjectService { store, edge_names: Default::default() }
    }

    /// The operator's `edge.names` (and the embedded edge's address).
    pub fn with_edge_names(mut self, names: Vec<String>) -> Self {
        self.edge_names = std::sync::Arc::new(names);
        self
    }

    /// `user` as a member of the project `token`, or as its owner or staff
    /// (the stronger role wins). Another project's token answers `NotFound`,
    /// exactly like a token that does not exist.
    pub async fn actor_for(&self, user: &User, token: &str) -> Result<Actor, ServiceError> {
        let (project, member) = match self.store.membership(user.id, token).await {
            Ok(m) => (m.project, Some(m.role)),
            Err(StoreError::NotFound) if user.instance_role.is_some() => {
                (self.store.project_by_token(token).await?, None)
            }
            Err(e) => return Err(e.into()),
        };
        let role = InstanceRole::combine(user.instance_role, member).ok_or(ServiceError::NotFound)?;
        let submitter = Submitter::User { id: user.id, email: user.email.clone() };
        Ok(Actor { project, role, submitter, instance: user.instance_role, meta: Default::default() })
    }

    /// The projects `user` may open, with the role in each: their
    /// memberships, and every project for owners and staff.
    pub async fn memberships(&self, user: &User) -> Result<Vec<Membership>, ServiceError> {
        let mine = self.store.memberships_of(user.id).await?;
        if user.instance_role.is_none() {
            return Ok(mine);
        }
        let all = self.store.list_projects().await?;
        Ok(all
            .into_iter()
            .filter_map(|project| {
                let member = mine.iter().find(|m| m.project.id == project.id).map(|m| m.role);
                let role = InstanceRole::combine(user.instance_role, member)?;
                Some(Membership { project, role })
            })
            .collect())
    }

    /// The invalidation `id` as `user` may see it: the caller in its
    /// project, or the same `NotFound` as for an unknown ID.
    pub async fn locate_invalidation(&self, user: &User, id: InvalidationId) -> Result<Actor, ServiceError> {
        let inv = self.store.invalidation_anywhere(id).await?;
        let project = self.store.project_by_id(inv.project_id).await?;
        self.actor_for(user, &project.token).await
    }

    /// The invalidations whose IDs start with `prefix` (see
    /// [`InvalidationId::prefix_range`]) in the projects `user` may see, as
    /// (project token, invalidation), newest first, at most `limit`. Others'
    /// are left out as if they did not exist.
    pub async fn locate_id_prefix(
        &self,
        user: &User,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<(String, Invalidation)>, ServiceError> {
        let Some((from, to)) = InvalidationId::prefix_range(prefix) else {
            return Err(ServiceError::field(
                "q",
                format!("an Invalidation ID or at least its first {} characters", InvalidationId::MIN_PREFIX),
            ));
        };
        let visible = self.memberships(user).await?;
        // A few more than shown: some may belong to projects the user cannot see.
        let found = self.store.invalidations_in_id_range(from, to, (limit * 4) as i64).await?;
        Ok(found
            .into_iter()
            .filter_map(|inv| {
                let m = visible.iter().find(|m| m.project.id == inv.project_id)?;
                Some((m.project.token.clone(), inv))
            })
            .take(limit)
            .collect())
    }

    /// An image URL as a customer pasted it, read back into the project
    /// (one `user` may see: any other answers like an unknown URL) and the
    /// origin path and variant it addresses; the caller in that project.
    pub async fn locate_url(
        &self,
        user: &User,
        input: &str,
    ) -> Result<(Actor, crate::domain::image_url::LocatedUrl), ServiceError> {
        let visible = self.memberships(user).await?;
        let is_token = |t: &str| visible.iter().any(|m| m.project.token == t);
        let token_of_host = |h: &str| {
            visible
                .iter()
                .find(|m| !m.project.edge.custom_host_pending && m.project.edge.custom_host.as_deref() == Some(h))
                .map(|m| m.project.token.clone())
        };
        let located = crate::domain::image_url::locate_url(input, &self.edge_names, is_token, token_of_host)
            .map_err(|why| ServiceError::field("url", why))?;
        let actor = self.actor_for(user, &located.token).await?;
        Ok((actor, located))
    }

    /// [`Self::locate_url`] within the caller's own project (an API key's):
    /// a URL of any other project answers like an unknown one.
    pub fn locate_url_in(
        &self,
        actor: &Actor,
        input: &str,
    ) -> Result<crate::domain::image_url::LocatedUrl, ServiceError> {
        let p = &actor.project;
        let token_of_host = |h: &str| {
            (!p.edge.custom_host_pending && p.edge.custom_host.as_deref() == Some(h)).then(|| p.token.clone())
        };
        crate::domain::image_url::locate_url(input, &self.edge_names, |t| t == p.token, token_of_host)
            .map_err(|why| ServiceError::field("url", why))
    }

    /// The project as its members see it on the Settings page.
    pub async fn settings(&self, actor: &Actor) -> Result<Project, ServiceError> {
        actor.require(Role::can_read)?;
        Ok(self.store.project_by_id(actor.project.id).await?)
    }

    // The operator's own calls (CLI and first start): the process already
    // holds the database credentials, so there is no caller to check.

    pub async fn operator_actor(&self, token: &str) -> Result<Actor, ServiceError> {
        Ok(Actor::operator(self.store.project_by_token(token).await?))
    }

    pub async fn create(&self, new: &NewProject) -> Result<Project, ServiceError> {
        Ok(self.store.create_project(new, crate::backend::now_ms()).await?)
    }

    pub async fn list_all(&self) -> Result<Vec<Project>, ServiceError> {
        Ok(self.store.list_projects().await?)
    }

    /// Ends `user_id`'s membership of the caller's project: their next
    /// request there answers `NotFound` (membership is checked per request).
    pub async fn remove_member(&self, actor: &Actor, user_id: i64) -> Result<(), ServiceError> {
        actor.require(Role::can_manage)?;
        Ok(self.store.remove_membership(user_id, actor.project.id).await?)
    }

    /// Makes `user_id` a member of the caller's project with `role`.
    pub async fn set_member(&self, actor: &Actor, user_id: i64, role: Role) -> Result<(), ServiceError> {
        actor.require(Role::can_manage)?;
        Ok(self.store.set_membership(user_id, actor.project.id, role).await?)
    }
}

impl ProjectService {
    /// Applies the Settings form (admins). Every bad field is named at once.
    /// Only an instance owner changes the private-origin settings; a custom
    /// host set by anyone else waits for an owner's save, which approves it.
    pub async fn update_settings(&self, actor: &Actor, input: &SettingsInput) -> Result<Project, ServiceError> {
        actor.require(Role::can_manage)?;
        let current = self.store.project_by_id(actor.project.id).await?;
        let mut update = validate_settings(input, &current)?;
        let owner = actor.instance == Some(InstanceRole::Owner);
        if !owner {
            update.edge.allow_private_origins = current.edge.allow_private_origins;
            update.edge.private_origins_allowed = current.edge.private_origins_allowed.clone();
            update.edge.custom_host_pending = update.edge.custom_host.is_some()
                && (update.edge.custom_host != current.edge.custom_host || current.edge.custom_host_pending);
        }
        if let Some(host) =
            update.edge.custom_host.as_deref().filter(|h| super::settings::is_edge_name(h, &self.edge_names))
        {
            return Err(ServiceError::field(
                "custom_host",
                format!(
                    "{host} is one of the edge's own names: use a host name of your own pointed (CNAME) at the \
                     edge, e.g. images.example.com"
                ),
            ));
        }
        if let Some(host) = &update.edge.custom_host {
            let others = self.store.list_projects().await?;
            if others.iter().any(|p| p.id != current.id && p.edge.custom_host.as_deref() == Some(host.as_str())) {
                return Err(ServiceError::field("custom_host", format!("{host} already addresses another project")));
            }
        }
        self.store.update_project_settings(current.id, &update).await?;
        let changed = super::settings::changed_fields(&current, &update);
        crate::backend::audit::record(&self.store, actor, "settings.changed", changed).await;
        Ok(self.store.project_by_id(current.id).await?)
    }

    /// How many days the project keeps its invalidations.
    pub async fn retention(&self, actor: &Actor) -> Result<i64, ServiceError> {
        actor.require(Role::can_read)?;
        Ok(self.store.retention_days(actor.project.id).await?)
    }

    /// Sets the retention (admins): 1 to 3650 days.
    pub async fn set_retention(&self, actor: &Actor, days: &str) -> Result<i64, ServiceError> {
        actor.require(Role::can_manage)?;
        let days = match days.trim().parse::<i64>() {
            Ok(d) if (1..=3650).contains(&d) => d,
            _ => return Err(ServiceError::field("retention_days", "a whole number of days from 1 to 3650, e.g. 90")),
        };
        let was = self.store.retention_days(actor.project.id).await?;
        self.store.set_retention_days(actor.project.id, days).await?;
        let detail = format!("retention_days: {was} → {days}");
        crate::backend::audit::record(&self.store, actor, "settings.changed", detail).await;
        Ok(days)
    }

    /// Every project's edge settings, for the edges' settings endpoint
    /// (authenticated by the operator's edge token, not by a user).
    pub async fn edge_settings_all(&self) -> Result<Vec<Project>, ServiceError> {
        Ok(self.store.list_projects().await?)
    }

    /// The CDN tag headers each project's responses carry (by project ID):
    /// one per kind of CDN target it has.
    pub async fn edge_tag_headers(&self) -> Result<std::collections::HashMap<i64, Vec<String>>, ServiceError> {
        let mut out: std::collections::HashMap<i64, Vec<String>> = Default::default();
        for (project, kind) in self.store.target_kinds().await? {
            if let Some(h) = kind.spec().tag_header {
                out.entry(project).or_default().push(h.to_owned());
            }
        }
        Ok(out)
    }

    /// The operator's own update (the embedded demo's wiring: exactly its
    /// origin on a private address); the Settings page offers that to owners only.
    pub async fn operator_update(&self, actor: &Actor, update: &ProjectSettingsUpdate) -> Result<(), ServiceError> {
        Ok(self.store.update_project_settings(actor.project.id, update).await?)
    }
}
