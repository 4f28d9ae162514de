//! Rows as the database returns them, and their conversion to the model.

use sqlx::FromRow;
use uuid::Uuid;

use super::StoreError;
use super::{Invitation, InvitationKind, Member};
use crate::backend::model::*;
use crate::domain::{InstanceRole, InvalidationId, OriginPath, Role, Scope, Status, TargetKind};

mod invalidation;

pub(super) use invalidation::{ClaimRow, EventRow, InvalidationRow, TargetResultRow};

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

#[derive(FromRow)]
pub(super) struct UserRow {
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
pub(super) struct MemberRow {
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
pub(super) struct ProjectRow {
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
pub(super) struct MembershipRow {
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
pub(super) struct TargetRow {
    id: i64,
    project_id: i64,
    kind: String,
    name: String,
    url: String,
    secret: Option<String>,
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
        })
    }
}

#[derive(FromRow)]
pub(super) struct ApiKeyRow {
    id: i64,
    project_id: i64,
    name: String,
    prefix: String,
    secret_hash: String,
    role: String,
    created_ms: i64,
    last_used_ms: Option<i64>,
    revoked_ms: Option<i64>,
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
        })
    }
}

/// A key with its project, in one read (every API call starts with it).
#[derive(FromRow)]
pub(super) struct KeyProjectRow {
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
    pub(super) fn from_sqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
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

pub(super) fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

/// Lists are stored as JSON text in both dialects.
pub(super) fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).expect("strings serialise")
}

pub(super) fn submitter_ids(submitter: &Submitter) -> (Option<i64>, Option<i64>) {
    match submitter {
        Submitter::User { id, .. } => (Some(*id), None),
        Submitter::ApiKey { id, .. } => (None, Some(*id)),
    }
}

/// The range of paths starting with `prefix`: stored paths are ASCII
/// (percent-encoded), and both dialects compare them byte-wise, so no path
/// with the prefix sorts at or after `prefix` followed by U+10FFFF.
fn prefix_range(prefix: &str) -> (String, String) {
    (prefix.to_owned(), format!("{prefix}\u{10FFFF}"))
}

/// The trimmed search text as a path-prefix range (canonicalised when it is a
/// valid path, so `/a b` finds `/a%20b`), and the invalidation id it may be.
pub(super) fn search_terms(q: &ListQuery) -> (Option<(String, String)>, Option<Uuid>) {
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let range = search.map(|s| match OriginPath::parse(s) {
        Ok(p) if !s.ends_with('*') => prefix_range(p.as_str()),
        _ => prefix_range(s),
    });
    (range, search.and_then(|s| InvalidationId::parse(s).ok()).map(|id| id.0))
}

#[derive(FromRow)]
pub(super) struct InvitationRow {
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
