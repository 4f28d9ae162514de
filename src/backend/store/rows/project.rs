//! The rows of accounts, projects, targets, keys and invitations.

use sqlx::FromRow;

use super::convert::corrupt;
use crate::backend::model::*;
use crate::backend::store::error::StoreError;
use crate::domain::{InstanceRole, Role, TargetKind};

#[derive(FromRow)]
pub(in crate::backend::store) struct UserRow {
    id: i64,
    email: String,
    password_hash: String,
    session_epoch: i64,
    instance_role: Option<String>,
    last_sign_in_ms: Option<i64>,
    password_set: bool,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: r.id,
            email: r.email,
            password_hash: r.password_hash,
            session_epoch: r.session_epoch,
            instance_role: r.instance_role.as_deref().map(InstanceRole::parse).transpose().map_err(corrupt)?,
            last_sign_in: r.last_sign_in_ms.map(from_ms),
            password_set: r.password_set,
        })
    }
}

#[derive(FromRow)]
pub(in crate::backend::store) struct MemberRow {
    user_id: i64,
    email: String,
    role: String,
    last_sign_in_ms: Option<i64>,
    invited: bool,
    pending: bool,
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;
    fn try_from(r: MemberRow) -> Result<Self, StoreError> {
        Ok(Member {
            user_id: r.user_id,
            email: r.email,
            role: Role::parse(&r.role).map_err(corrupt)?,
            last_sign_in: r.last_sign_in_ms.map(from_ms),
            invited: r.invited,
            pending: r.pending,
        })
    }
}

#[derive(FromRow)]
pub(in crate::backend::store) struct ProjectRow {
    id: i64,
    token: String,
    name: String,
    origin_hosts: String,
    max_age_secs: i64,
    s_maxage_secs: i64,
    edge_settings: String,
}

impl TryFrom<ProjectRow> for Project {
    type Error = StoreError;
    fn try_from(r: ProjectRow) -> Result<Self, StoreError> {
        Ok(Project {
            id: r.id,
            token: r.token,
            name: r.name,
            origin_hosts: serde_json::from_str(&r.origin_hosts).map_err(corrupt)?,
            max_age_secs: r.max_age_secs,
            s_maxage_secs: r.s_maxage_secs,
            edge: serde_json::from_str(&r.edge_settings).map_err(corrupt)?,
        })
    }
}

#[derive(FromRow)]
pub(in crate::backend::store) struct MembershipRow {
    #[sqlx(flatten)]
    project: ProjectRow,
    role: String,
}

impl TryFrom<MembershipRow> for Membership {
    type Error = StoreError;
    fn try_from(r: MembershipRow) -> Result<Self, StoreError> {
        Ok(Membership { role: Role::parse(&r.role).map_err(corrupt)?, project: r.project.try_into()? })
    }
}

#[derive(FromRow)]
pub(in crate::backend::store) struct TargetRow {
    id: i64,
    project_id: i64,
    kind: String,
    name: String,
    url: String,
    secret: Option<String>,
    settings: String,
    credentials: Option<String>,
}

impl TryFrom<TargetRow> for Target {
    type Error = StoreError;
    fn try_from(r: TargetRow) -> Result<Self, StoreError> {
        Ok(Target {
            id: r.id,
            project_id: r.project_id,
            kind: TargetKind::parse(&r.kind).map_err(corrupt)?,
            name: r.name,
            url: r.url,
            secret: r.secret,
            settings: serde_json::from_str(&r.settings).map_err(corrupt)?,
            credentials: r.credentials.map(Sealed),
        })
    }
}

#[derive(FromRow)]
pub(in crate::backend::store) struct ApiKeyRow {
    id: i64,
    project_id: i64,
    name: String,
    prefix: String,
    secret_hash: String,
    role: String,
    created_ms: i64,
    last_used_ms: Option<i64>,
    revoked_ms: Option<i64>,
    /// JSON ([`KeyLimits`](crate::domain::key_limits::KeyLimits)); NULL: none.
    limits: Option<String>,
    expires_ms: Option<i64>,
    /// Space-separated CIDRs; NULL: any address.
    allowed_ips: Option<String>,
    last_used_addr: Option<String>,
    rolled_to: Option<i64>,
}

impl ApiKeyRow {
    pub(in crate::backend::store) fn id(&self) -> i64 {
        self.id
    }
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;
    fn try_from(r: ApiKeyRow) -> Result<Self, StoreError> {
        Ok(ApiKey {
            id: r.id,
            project_id: r.project_id,
            name: r.name,
            prefix: r.prefix,
            secret_hash: r.secret_hash,
            role: Role::parse(&r.role).map_err(corrupt)?,
            created: from_ms(r.created_ms),
            last_used: r.last_used_ms.map(from_ms),
            revoked: r.revoked_ms.map(from_ms),
            limits: match r.limits.as_deref() {
                None | Some("") => Default::default(),
                Some(json) => serde_json::from_str(json).map_err(corrupt)?,
            },
            expires: r.expires_ms.map(from_ms),
            allowed_ips: r.allowed_ips.unwrap_or_default().split_whitespace().map(str::to_owned).collect(),
            last_used_addr: r.last_used_addr,
            rolled_to: r.rolled_to,
        })
    }
}

/// A key with its project, in one read (every API call starts with it).
#[derive(FromRow)]
pub(in crate::backend::store) struct KeyProjectRow {
    #[sqlx(flatten)]
    key: ApiKeyRow,
    project_token: String,
    project_name: String,
    origin_hosts: String,
    max_age_secs: i64,
    s_maxage_secs: i64,
    edge_settings: String,
}

impl KeyProjectRow {
    /// The same row read by rusqlite (SQLite's inline reader), columns in `BY_PREFIX`'s order.
    pub(in crate::backend::store) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(KeyProjectRow {
            key: ApiKeyRow {
                id: r.get(0)?,
                project_id: r.get(1)?,
                name: r.get(2)?,
                prefix: r.get(3)?,
                secret_hash: r.get(4)?,
                role: r.get(5)?,
                created_ms: r.get(6)?,
                last_used_ms: r.get(7)?,
                revoked_ms: r.get(8)?,
                limits: r.get(15)?,
                expires_ms: r.get(16)?,
                allowed_ips: r.get(17)?,
                last_used_addr: r.get(18)?,
                rolled_to: r.get(19)?,
            },
            project_token: r.get(9)?,
            project_name: r.get(10)?,
            origin_hosts: r.get(11)?,
            max_age_secs: r.get(12)?,
            s_maxage_secs: r.get(13)?,
            edge_settings: r.get(14)?,
        })
    }
}

impl TryFrom<KeyProjectRow> for (ApiKey, Project) {
    type Error = StoreError;
    fn try_from(r: KeyProjectRow) -> Result<Self, StoreError> {
        let project = ProjectRow {
            id: r.key.project_id,
            token: r.project_token,
            name: r.project_name,
            origin_hosts: r.origin_hosts,
            max_age_secs: r.max_age_secs,
            s_maxage_secs: r.s_maxage_secs,
            edge_settings: r.edge_settings,
        };
        Ok((r.key.try_into()?, project.try_into()?))
    }
}

#[derive(FromRow)]
pub(in crate::backend::store) struct InvitationRow {
    user_id: i64,
    email: String,
    kind: String,
    project_id: Option<i64>,
    project_name: Option<String>,
    role: Option<String>,
    expires_ms: i64,
}

impl TryFrom<InvitationRow> for Invitation {
    type Error = StoreError;
    fn try_from(r: InvitationRow) -> Result<Self, StoreError> {
        Ok(Invitation {
            user_id: r.user_id,
            email: r.email,
            kind: InvitationKind::parse(&r.kind).ok_or_else(|| corrupt(format!("invitation kind {:?}", r.kind)))?,
            project_id: r.project_id,
            project_name: r.project_name,
            role: r.role.as_deref().map(Role::parse).transpose().map_err(corrupt)?,
            expires: from_ms(r.expires_ms),
        })
    }
}
