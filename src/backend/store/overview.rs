//! Every project with its latest invalidation and error count: the owners'
//! Projects page.

use async_trait::async_trait;
use sqlx::FromRow;

use super::model::from_ms;
use super::rows::ProjectRow;
use super::{OverviewStore, PgStore, ProjectSummary, SqliteStore, StoreError, StoreResult};

const OVERVIEW: &str = "SELECT p.id, p.token, p.name, p.origin_hosts, p.max_age_secs, p.s_maxage_secs, \
     p.edge_settings, \
     (SELECT MAX(i.created_ms) FROM invalidations i WHERE i.project_id = p.id) AS last_ms, \
     (SELECT COUNT(*) FROM invalidations i WHERE i.project_id = p.id) AS total, \
     (SELECT COUNT(*) FROM invalidations i WHERE i.project_id = p.id \
        AND i.status IN ('ERROR', 'ERROR_CDN_NODE')) AS errors \
     FROM projects p ORDER BY p.token";

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

macro_rules! overview_store {
    ($store:ty) => {
        #[async_trait]
        impl OverviewStore for $store {
            async fn project_overview(&self) -> StoreResult<Vec<ProjectSummary>> {
                let rows: Vec<SummaryRow> = sqlx::query_as(OVERVIEW).fetch_all(&self.pool).await?;
                rows.into_iter().map(TryInto::try_into).collect()
            }
        }
    };
}

overview_store!(SqliteStore);
overview_store!(PgStore);
