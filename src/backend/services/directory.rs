//! Every user of the instance, as its owners manage them: instance roles
//! (always at least one owner) and removal (never of the last admin of a
//! project, never oneself). Staff may look.

use crate::backend::audit::{self, RequestMeta};
use crate::backend::store::{DynStore, User, UserSummary};
use crate::backend::ServiceError;
use crate::domain::{InstanceRole, Role};

#[derive(Clone)]
pub struct UserDirectory {
    store: DynStore,
}

fn require(user: &User, owner_only: bool) -> Result<(), ServiceError> {
    match user.instance_role {
        Some(InstanceRole::Owner) => Ok(()),
        Some(InstanceRole::Staff) if !owner_only => Ok(()),
        _ => Err(ServiceError::Forbidden(Role::Support)),
    }
}

impl UserDirectory {
    pub fn new(store: DynStore) -> Self {
        UserDirectory { store }
    }

    pub async fn list(&self, caller: &User) -> Result<Vec<UserSummary>, ServiceError> {
        require(caller, false)?;
        Ok(self.store.user_overview().await?)
    }

    /// Gives or takes `owner` / `staff` (`none`); the last owner stays one.
    #[tracing::instrument(skip_all, fields(user_id), err(level = "info"))]
    pub async fn set_instance_role(
        &self,
        caller: &User,
        user_id: i64,
        role: &str,
        meta: &RequestMeta,
    ) -> Result<(), ServiceError> {
        require(caller, true)?;
        let role = match role.trim() {
            "none" | "" => None,
            r => Some(InstanceRole::parse(r).map_err(|e| ServiceError::field("instance_role", e.to_string()))?),
        };
        let target = self.store.user_by_id(user_id).await?;
        let demoted = target.instance_role == Some(InstanceRole::Owner) && role != Some(InstanceRole::Owner);
        if demoted && self.store.count_owners().await? <= 1 {
            return Err(ServiceError::Conflict(
                "the instance needs at least one owner: make someone else owner first".into(),
            ));
        }
        self.store.set_instance_role(user_id, role).await?;
        let name = |r: Option<InstanceRole>| r.map_or("none", |r| r.as_str());
        let detail = format!("{}: {} → {}", target.email, name(target.instance_role), name(role));
        audit::record_instance(&self.store, &caller.email, Some(caller.id), meta, "user.instance_role", &detail).await;
        Ok(())
    }

    /// Removes a user and every membership; their sessions end at the next request.
    #[tracing::instrument(skip_all, fields(user_id), err(level = "info"))]
    pub async fn remove(&self, caller: &User, user_id: i64, meta: &RequestMeta) -> Result<(), ServiceError> {
        require(caller, true)?;
        if user_id == caller.id {
            return Err(ServiceError::Conflict("you cannot remove yourself; another owner can".into()));
        }
        let target = self.store.user_by_id(user_id).await?;
        let sole = self.store.sole_admin_of(user_id).await?;
        if !sole.is_empty() {
            return Err(ServiceError::Conflict(format!(
                "{} is the only admin of {}: make someone else admin there first",
                target.email,
                sole.join(", ")
            )));
        }
        self.store.delete_user(user_id).await?;
        audit::record_instance(&self.store, &caller.email, Some(caller.id), meta, "user.removed", &target.email).await;
        Ok(())
    }
}
