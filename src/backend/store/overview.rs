//! Every project with its latest invalidation and error count, and every
//! user with their projects: the owners' Projects and Users pages.

use async_trait::async_trait;
use sqlx::FromRow;

use super::rows::ProjectRow;
use super::{ProjectSummary, StoreError, StoreResult, UserSummary};
use crate::backend::model::from_ms;
use crate::domain::InstanceRole;

/// Every project and every user at a glance (owners).
#[async_trait]
pub trait OverviewStore {
    async fn project_overview(&self) -> StoreResult<Vec<ProjectSummary>>;
    async fn user_overview(&self) -> StoreResult<Vec<UserSummary>>;
    /// The tokens of the projects where `user_id` is the only admin.
    async fn sole_admin_of(&self, user_id: i64) -> StoreResult<Vec<String>>;
    async fn count_owners(&self) -> StoreResult<i64>;
}

const OVERVIEW: &str = "SELECT p.id, p.token, p.name, p.origin_hosts, p.max_age_secs, p.s_maxage_secs, \
     p.edge_settings, \
     (SELECT MAX(i.created_ms) FROM invalidations i WHERE i.project_id = p.id) AS last_ms, \
     (SELECT COUNT(*) FROM invalidations i WHERE i.project_id = p.id) AS total, \
     (SELECT COUNT(*) FROM invalidations i WHERE i.project_id = p.id \
        AND i.status IN ('ERROR', 'ERROR_CDN_NODE')) AS errors \
     FROM projects p ORDER BY p.token";

const USERS: &str = "SELECT u.id, u.email, u.instance_role, u.last_sign_in_ms, \
     (SELECT COUNT(*) FROM memberships m WHERE m.user_id = u.id) AS projects, \
     (SELECT COUNT(*) FROM memberships m WHERE m.user_id = u.id AND m.role = 'admin') AS admin_of, \
     ((SELECT COUNT(*) FROM totp_factors t WHERE t.user_id = u.id AND t.confirmed_ms IS NOT NULL) \
       + (SELECT COUNT(*) FROM passkeys k WHERE k.user_id = u.id)) AS two_step \
     FROM users u ORDER BY u.email";
const SOLE_ADMIN: &str = "SELECT p.token FROM memberships m JOIN projects p ON p.id = m.project_id \
     WHERE m.user_id = $1 AND m.role = 'admin' AND (SELECT COUNT(*) FROM memberships o \
     WHERE o.project_id = m.project_id AND o.role = 'admin') = 1 ORDER BY p.token";
const OWNERS: &str = "SELECT COUNT(*) FROM users WHERE instance_role = 'owner'";

#[derive(FromRow)]
struct UserRow {
    id: i64,
    email: String,
    instance_role: Option<String>,
    last_sign_in_ms: Option<i64>,
    projects: i64,
    admin_of: i64,
    two_step: i64,
}

impl TryFrom<UserRow> for UserSummary {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        let role = r.instance_role.as_deref().map(InstanceRole::parse).transpose();
        Ok(UserSummary {
            id: r.id,
            email: r.email,
            instance_role: role.map_err(|e| StoreError::Corrupt(e.to_string()))?,
            last_sign_in: r.last_sign_in_ms.map(from_ms),
            projects: r.projects,
            admin_of: r.admin_of,
            two_step: r.two_step > 0,
        })
    }
}

#[derive(FromRow)]
struct SummaryRow {
    #[sqlx(flatten)]
    project: ProjectRow,
    last_ms: Option<i64>,
    total: i64,
    errors: i64,
}

impl TryFrom<SummaryRow> for ProjectSummary {
    type Error = StoreError;
    fn try_from(r: SummaryRow) -> Result<Self, StoreError> {
        Ok(ProjectSummary {
            project: r.project.try_into()?,
            last_invalidation: r.last_ms.map(from_ms),
            invalidations: r.total,
            errors: r.errors,
        })
    }
}

both_dialects! {
    #[async_trait]
    impl OverviewStore for Db {
        async fn project_overview(&self) -> StoreResult<Vec<ProjectSummary>> {
            let rows: Vec<SummaryRow> = sqlx::query_as(OVERVIEW).fetch_all(&self.pool).await?;
            rows.into_iter().map(TryInto::try_into).collect()
        }

        async fn user_overview(&self) -> StoreResult<Vec<UserSummary>> {
            let rows: Vec<UserRow> = sqlx::query_as(USERS).fetch_all(&self.pool).await?;
            rows.into_iter().map(TryInto::try_into).collect()
        }

        async fn sole_admin_of(&self, user_id: i64) -> StoreResult<Vec<String>> {
            Ok(sqlx::query_scalar(SOLE_ADMIN).bind(user_id).fetch_all(&self.pool).await?)
        }

        async fn count_owners(&self) -> StoreResult<i64> {
            Ok(sqlx::query_scalar(OWNERS).fetch_one(&self.pool).await?)
        }
    }
}
