//! A project's members as its admins manage them: list, add (an existing
//! user, or a new one with a one-time invitation link), change a role,
//! remove. The last admin stays; a user removed from their last project is
//! signed out.

use super::audit::RequestMeta;
use super::auth::{hash_password, normalize_email};
use super::keys::hash_key;
use super::store::{DynStore, Member, StoreError, User};
use super::{now_ms, random_alphanumeric, Actor, ServiceError};
use crate::domain::{FieldError, Role};

/// How long an invitation link works.
pub const INVITATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// What adding a member did.
#[derive(Debug)]
pub struct Added {
    pub email: String,
    pub role: Role,
    /// For a new user: the invitation token, shown once (only its hash is stored).
    pub invitation: Option<String>,
}

#[derive(Clone)]
pub struct TeamService {
    store: DynStore,
}

/// `Invalid` naming `field` unless `password` is acceptable as a new password.
pub fn check_new_password(field: &str, password: &str) -> Result<(), ServiceError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(ServiceError::field(
            field,
            format!(
                "choose a password of at least {MIN_PASSWORD_CHARS} characters (at most {MAX_PASSWORD_BYTES} bytes)"
            ),
        ));
    }
    Ok(())
}

fn check_email(raw: &str) -> Result<String, ServiceError> {
    let email = normalize_email(raw);
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if ok {
        Ok(email)
    } else {
        Err(ServiceError::field("email", "enter an e-mail address, e.g. ann@example.com"))
    }
}

fn parse_role(raw: &str) -> Result<Role, ServiceError> {
    Role::parse(raw).map_err(|e| ServiceError::field("role", e.to_string()))
}

impl TeamService {
    pub fn new(store: DynStore) -> Self {
        TeamService { store }
    }

    pub async fn members(&self, actor: &Actor) -> Result<Vec<Member>, ServiceError> {
        actor.require_admin_or_staff()?;
        Ok(self.store.members(actor.project.id).await?)
    }

    /// Adds `email` with `role`: an existing user at once, anyone else as a
    /// new user with an invitation that sets their password.
    #[tracing::instrument(skip_all, fields(project = %actor.project.token), err(level = "info"))]
    pub async fn add(&self, actor: &Actor, email: &str, role: &str) -> Result<Added, ServiceError> {
        actor.require(Role::can_manage)?;
        let (email, role) = match (check_email(email), parse_role(role)) {
            (Ok(e), Ok(r)) => (e, r),
            (e, r) => {
                let errors = [e.err(), r.err()].into_iter().flatten().flat_map(invalid_fields).collect();
                return Err(ServiceError::Invalid(errors));
            }
        };
        let (user, invitation) = match self.store.user_by_email(&email).await {
            Ok(user) => {
                if self.store.members(actor.project.id).await?.iter().any(|m| m.user_id == user.id) {
                    return Err(ServiceError::Conflict(format!(
                        "{email} is already a member of this project; change their role in the list"
                    )));
                }
                (user, None)
            }
            Err(StoreError::NotFound) => {
                // Nobody knows this password: the account is usable only
                // through the invitation.
                let unusable =
                    hash_password(random_alphanumeric(32)).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
                let user = self.store.create_user(&email, &unusable, now_ms()).await?;
                let token = self.invite(&user).await?;
                (user, Some(token))
            }
            Err(e) => return Err(e.into()),
        };
        self.store.set_membership(user.id, actor.project.id, role).await?;
        let how = if invitation.is_some() { ", invited as a new user" } else { "" };
        super::audit::record(&self.store, actor, "member.added", format!("{email} as {role}{how}")).await;
        Ok(Added { email, role, invitation })
    }

    /// A fresh invitation link for a member who has not set a password yet
    /// (the last one expired or got lost); earlier links stop working.
    #[tracing::instrument(skip_all, fields(project = %actor.project.token, user_id), err(level = "info"))]
    pub async fn reinvite(&self, actor: &Actor, user_id: i64) -> Result<Added, ServiceError> {
        actor.require(Role::can_manage)?;
        let members = self.store.members(actor.project.id).await?;
        let member = members.into_iter().find(|m| m.user_id == user_id).ok_or(ServiceError::NotFound)?;
        if !member.invited {
            return Err(ServiceError::Conflict(format!(
                "{} has already set a password; they sign in as usual",
                member.email
            )));
        }
        let user = self.store.user_by_id(user_id).await?;
        let token = self.invite(&user).await?;
        super::audit::record(&self.store, actor, "member.reinvited", member.email.clone()).await;
        Ok(Added { email: member.email, role: member.role, invitation: Some(token) })
    }

    async fn invite(&self, user: &User) -> Result<String, ServiceError> {
        let token = random_alphanumeric(32);
        let now = now_ms();
        self.store.create_invitation(user.id, &hash_key(&token), now, now + INVITATION_TTL_MS).await?;
        Ok(token)
    }

    /// Changes a member's role; the last admin cannot be demoted.
    #[tracing::instrument(skip_all, fields(project = %actor.project.token, user_id), err(level = "info"))]
    pub async fn set_role(&self, actor: &Actor, user_id: i64, role: &str) -> Result<Role, ServiceError> {
        actor.require(Role::can_manage)?;
        let role = parse_role(role)?;
        let was = self.store.change_member(actor.project.id, user_id, Some(role)).await?;
        let email = self.store.user_by_id(user_id).await?.email;
        super::audit::record(&self.store, actor, "member.changed", format!("{email}: {was} → {role}")).await;
        Ok(role)
    }

    /// Removes a member: their next request to the project answers 404, and
    /// a user left without any project is signed out everywhere.
    #[tracing::instrument(skip_all, fields(project = %actor.project.token, user_id), err(level = "info"))]
    pub async fn remove(&self, actor: &Actor, user_id: i64) -> Result<(), ServiceError> {
        actor.require(Role::can_manage)?;
        let was = self.store.change_member(actor.project.id, user_id, None).await?;
        let user = self.store.user_by_id(user_id).await?;
        super::audit::record(&self.store, actor, "member.removed", format!("{} (was {was})", user.email)).await;
        if user.instance_role.is_none() && self.store.memberships_of(user_id).await?.is_empty() {
            self.store.end_sessions(user_id).await?;
        }
        Ok(())
    }

    /// Uses an invitation once, before it expires: sets the password and
    /// answers the user to sign in. Unknown, used and expired links answer
    /// the same `NotFound`.
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: &str,
        meta: &RequestMeta,
    ) -> Result<User, ServiceError> {
        if token.is_empty() || token.len() > 128 {
            return Err(ServiceError::NotFound);
        }
        check_new_password("password", password)?;
        let hash = hash_password(password.to_owned()).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
        let user = self.store.accept_invitation(&hash_key(token), &hash, now_ms()).await?;
        super::audit::record_instance(&self.store, &user.email, Some(user.id), meta, "invitation.accepted", "").await;
        Ok(user)
    }
}

fn invalid_fields(e: ServiceError) -> Vec<FieldError> {
    match e {
        ServiceError::Invalid(errors) => errors,
        _ => Vec::new(),
    }
}
