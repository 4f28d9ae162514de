//! A project's members as its admins manage them: list, add (a new user
//! with a one-time link that sets their password, or an existing one with a
//! link that asks them to join), change a role, remove. The last admin
//! stays; a user removed from their last project is signed out.
//!
//! Links belong to the project that issued them. A password link can take
//! an account over, so one is issued only for an account that has never
//! set a password, and only by whoever may manage everything that account
//! can reach; a join link works only with the account's own password.

use crate::backend::accounts::AccountService;
use crate::backend::audit::RequestMeta;
use crate::backend::auth::{check_new_password, hash_password, normalize_email, AuthError};
use crate::backend::keys::hash_key;
use crate::backend::store::{DynStore, Invitation, InvitationKind, Member, NewInvitation, StoreError, User};
use crate::backend::{now_ms, random_alphanumeric, Actor, ServiceError};
use crate::domain::{FieldError, InstanceRole, Role};

/// What adding a member did.
#[derive(Debug)]
pub struct Added {
    pub email: String,
    pub role: Role,
    /// The link's token, shown once (only its hash is stored): it sets the
    /// password of a new account, or asks an existing one to join. Always
    /// there, so the answer does not tell whether the e-mail had an account.
    pub invitation: Option<String>,
}

/// What an invitation link offers, as its page shows it.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub email: String,
    pub kind: InvitationKind,
    pub project_name: Option<String>,
    pub role: Option<Role>,
}

/// A join link used: the account and the project it joined.
#[derive(Debug)]
pub struct JoinedProject {
    pub user: User,
    pub project_id: i64,
    pub role: Role,
}

/// How long an invitation link works.
pub const INVITATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

#[derive(Clone)]
pub struct TeamService {
    store: DynStore,
    accounts: AccountService,
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
    pub fn new(store: DynStore, accounts: AccountService) -> Self {
        TeamService { store, accounts }
    }

    pub async fn members(&self, actor: &Actor) -> Result<Vec<Member>, ServiceError> {
        actor.require_admin_or_staff()?;
        Ok(self.store.members(actor.project.id).await?)
    }

    /// The e-mails of the project's admins who have accepted: who to ask for
    /// what the caller's role cannot do (a Retry, a setting). Any member,
    /// and the operator's staff, may read them.
    pub async fn admin_contacts(&self, actor: &Actor) -> Result<Vec<String>, ServiceError> {
        let members = self.store.members(actor.project.id).await?;
        Ok(members.into_iter().filter(|m| m.role == Role::Admin && !m.invited && !m.pending).map(|m| m.email).collect())
    }

    /// Adds `email` with `role`. Someone without an account becomes a new
    /// user with a link that sets their password (listed as invited); an
    /// existing account gets a link asking it to join, and becomes a member
    /// only when its owner accepts with their own password. Both answer a
    /// link, so the answer does not tell whether the e-mail had an account.
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
        if self.store.members(actor.project.id).await?.iter().any(|m| m.email == email) {
            return Err(ServiceError::Conflict(format!(
                "{email} is already a member of this project (or was asked to join); change their role in the list"
            )));
        }
        let token = match self.store.user_by_email(&email).await {
            Ok(user) => {
                let new = NewInvitation {
                    user_id: user.id,
                    kind: InvitationKind::Join,
                    project_id: Some(actor.project.id),
                    role: Some(role),
                };
                self.invite(&new).await?
            }
            Err(StoreError::NotFound) => {
                // Nobody knows this password: the account is usable only
                // through the link.
                let unusable =
                    hash_password(random_alphanumeric(32)).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
                let user = self.store.create_invited_user(&email, &unusable, now_ms()).await?;
                self.store.set_membership(user.id, actor.project.id, role).await?;
                let new = NewInvitation {
                    user_id: user.id,
                    kind: InvitationKind::Password,
                    project_id: Some(actor.project.id),
                    role: Some(role),
                };
                self.invite(&new).await?
            }
            Err(e) => return Err(e.into()),
        };
        crate::backend::audit::record(&self.store, actor, "member.added", format!("{email} as {role}, invited")).await;
        Ok(Added { email, role, invitation: Some(token) })
    }

    /// A fresh link for someone who has not accepted yet (the last one
    /// expired or got lost); earlier links of the same kind stop working.
    /// An account asked to join gets a new join link. A new account gets a
    /// new password link only from someone who may manage everything it can
    /// reach: a project admin when this project is all it has, else an
    /// instance owner.
    #[tracing::instrument(skip_all, fields(project = %actor.project.token, user_id), err(level = "info"))]
    pub async fn reinvite(&self, actor: &Actor, user_id: i64) -> Result<Added, ServiceError> {
        actor.require(Role::can_manage)?;
        let members = self.store.members(actor.project.id).await?;
        let member = members.into_iter().find(|m| m.user_id == user_id).ok_or(ServiceError::NotFound)?;
        let kind = if member.pending {
            InvitationKind::Join
        } else {
            let user = self.store.user_by_id(user_id).await?;
            if user.password_set {
                return Err(ServiceError::Conflict(format!(
                    "{} has already set a password; they sign in as usual",
                    member.email
                )));
            }
            let elsewhere = self.store.memberships_of(user_id).await?.iter().any(|m| m.project.id != actor.project.id);
            if (elsewhere || user.instance_role.is_some()) && actor.instance != Some(InstanceRole::Owner) {
                return Err(ServiceError::Conflict(format!(
                    "{} can also reach other projects or the whole instance: only an instance owner can send them a new link",
                    member.email
                )));
            }
            InvitationKind::Password
        };
        let new = NewInvitation { user_id, kind, project_id: Some(actor.project.id), role: Some(member.role) };
        let token = self.invite(&new).await?;
        crate::backend::audit::record(&self.store, actor, "member.reinvited", member.email.clone()).await;
        Ok(Added { email: member.email, role: member.role, invitation: Some(token) })
    }

    async fn invite(&self, new: &NewInvitation) -> Result<String, ServiceError> {
        let token = random_alphanumeric(32);
        let now = now_ms();
        self.store.create_invitation(new, &hash_key(&token), now, now + INVITATION_TTL_MS).await?;
        Ok(token)
    }

    /// Changes a member's role (or the role a join link offers); the last
    /// admin cannot be demoted.
    #[tracing::instrument(skip_all, fields(project = %actor.project.token, user_id), err(level = "info"))]
    /// Changes a member's role (or the role a join link offers); answers
    /// the member's e-mail and the new role.
    pub async fn set_role(&self, actor: &Actor, user_id: i64, role: &str) -> Result<(String, Role), ServiceError> {
        actor.require(Role::can_manage)?;
        let role = parse_role(role)?;
        let email = self.store.user_by_id(user_id).await?.email;
        let was = match self.store.change_member(actor.project.id, user_id, Some(role)).await {
            Err(StoreError::NotFound) => {
                self.store.set_invitation_role(actor.project.id, user_id, role).await?;
                crate::backend::audit::record(
                    &self.store,
                    actor,
                    "member.changed",
                    format!("{email} (asked to join) → {role}"),
                )
                .await;
                return Ok((email, role));
            }
            other => other?,
        };
        crate::backend::audit::record(&self.store, actor, "member.changed", format!("{email}: {was} → {role}")).await;
        Ok((email, role))
    }

    /// Removes a member (or withdraws a join link): their next request to
    /// the project answers 404, the links this project issued them end, and
    /// a user left without any project is signed out everywhere.
    #[tracing::instrument(skip_all, fields(project = %actor.project.token, user_id), err(level = "info"))]
    /// Answers the removed member's e-mail.
    pub async fn remove(&self, actor: &Actor, user_id: i64) -> Result<String, ServiceError> {
        actor.require(Role::can_manage)?;
        let user = self.store.user_by_id(user_id).await?;
        let was = match self.store.change_member(actor.project.id, user_id, None).await {
            Ok(was) => {
                self.store.end_invitations(actor.project.id, user_id, now_ms()).await?;
                was.to_string()
            }
            // Not a member: withdraw the join link, if there is one.
            Err(StoreError::NotFound) => {
                if self.store.end_invitations(actor.project.id, user_id, now_ms()).await? == 0 {
                    return Err(ServiceError::NotFound);
                }
                "asked to join".to_owned()
            }
            Err(e) => return Err(e.into()),
        };
        crate::backend::audit::record(&self.store, actor, "member.removed", format!("{} (was {was})", user.email))
            .await;
        if user.instance_role.is_none() && self.store.memberships_of(user_id).await?.is_empty() {
            self.store.end_sessions(user_id).await?;
        }
        Ok(user.email)
    }

    /// The open link behind `token`, counted as one attempt from the
    /// caller's address with the sign-in limiter (given back when the link
    /// is real: only guesses use the budget up). Unknown, used and expired
    /// links answer the same `NotFound`, before any password is hashed.
    async fn open_link(&self, token: &str, meta: &RequestMeta) -> Result<Invitation, ServiceError> {
        let throttle = self.accounts.throttle();
        throttle.reserve_source(meta.ip).await.map_err(throttled)?;
        if token.is_empty() || token.len() > 128 {
            return Err(ServiceError::NotFound);
        }
        match self.store.invitation(&hash_key(token), now_ms()).await {
            Ok(invitation) => {
                throttle.release_source(meta.ip).await;
                Ok(invitation)
            }
            Err(StoreError::NotFound) => Err(ServiceError::NotFound),
            Err(e) => Err(e.into()),
        }
    }

    /// What the link offers, for its page: `NotFound` when it does not work.
    pub async fn invitation(&self, token: &str, meta: &RequestMeta) -> Result<InvitationView, ServiceError> {
        let link = self.open_link(token, meta).await?;
        Ok(InvitationView { email: link.email, kind: link.kind, project_name: link.project_name, role: link.role })
    }

    /// Uses a password link once, before it expires: sets the password and
    /// answers the user to sign in. Unknown, used, expired and join links
    /// answer the same `NotFound`, without hashing anything.
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: &str,
        meta: &RequestMeta,
    ) -> Result<User, ServiceError> {
        let link = self.open_link(token, meta).await?;
        if link.kind != InvitationKind::Password {
            return Err(ServiceError::NotFound);
        }
        check_new_password("password", password)?;
        let hash = hash_password(password.to_owned()).await.map_err(|e| ServiceError::Internal(e.to_string()))?;
        let user = self.store.accept_invitation(&hash_key(token), &hash, now_ms()).await?;
        crate::backend::audit::record_instance(
            &self.store,
            &user.email,
            Some(user.id),
            meta,
            "invitation.accepted",
            "",
        )
        .await;
        Ok(user)
    }

    /// Uses a join link once, before it expires: the account's own password
    /// (checked under the sign-in throttle) makes it a member with the role
    /// the link offers.
    pub async fn accept_join(
        &self,
        token: &str,
        password: &str,
        meta: &RequestMeta,
    ) -> Result<JoinedProject, ServiceError> {
        let link = self.open_link(token, meta).await?;
        if link.kind != InvitationKind::Join {
            return Err(ServiceError::NotFound);
        }
        let user = match self.accounts.sign_in(&link.email, password, meta.ip).await {
            Ok(user) => user,
            Err(AuthError::InvalidCredentials) => {
                return Err(ServiceError::field("password", "this is not the password of this account"))
            }
            Err(e) => return Err(throttled(e)),
        };
        let joined = self.store.accept_join(&hash_key(token), now_ms()).await?;
        let project = self.store.project_by_id(joined.project_id).await?;
        let detail = format!("{} as {}", user.email, joined.role);
        let actor = Actor {
            project,
            role: joined.role,
            submitter: crate::backend::store::Submitter::User { id: user.id, email: user.email.clone() },
            instance: user.instance_role,
            meta: meta.clone(),
        };
        crate::backend::audit::record(&self.store, &actor, "member.joined", detail).await;
        Ok(JoinedProject { user, project_id: joined.project_id, role: joined.role })
    }
}

fn throttled(e: AuthError) -> ServiceError {
    match e {
        AuthError::Throttled(secs) => ServiceError::Conflict(format!(
            "too many attempts from your address; try again in {}",
            crate::backend::limits::human(std::time::Duration::from_secs(secs))
        )),
        e => ServiceError::Internal(e.to_string()),
    }
}

fn invalid_fields(e: ServiceError) -> Vec<FieldError> {
    match e {
        ServiceError::Invalid(errors) => errors,
        _ => Vec::new(),
    }
}
