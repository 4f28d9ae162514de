//! Many finished invalidations in few statements (`server seed`).

use async_trait::async_trait;
use sqlx::QueryBuilder;

use super::rows::json_list;
use super::{SeedRow, StoreResult};

/// Rows per INSERT: 13 parameters each stays far below both dialects' limits.
const CHUNK: usize = 500;

#[async_trait]
pub(super) trait Seed {
    async fn seed(&self, project_id: i64, rows: &[SeedRow]) -> StoreResult<()>;
}

both_dialects! {
    #[async_trait]
    impl Seed for Db {
        async fn seed(&self, project_id: i64, rows: &[SeedRow]) -> StoreResult<()> {
            let mut tx = self.pool.begin().await?;
            for chunk in rows.chunks(CHUNK) {
                let mut q = QueryBuilder::new(
                    "INSERT INTO invalidations (id, project_id, scope, paths, status, attempt, submitted_by, error, \
                     created_ms, updated_ms, finished_ms, next_run_ms, notified_ms) ",
                );
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(r.id.0)
                        .push_bind(project_id)
                        .push_bind("original")
                        .push_bind(json_list(&r.paths))
                        .push_bind(r.status.code())
                        .push_bind(1i32)
                        .push_bind("seed")
                        .push_bind(r.error.clone())
                        .push_bind(r.created_ms)
                        .push_bind(r.finished_ms)
                        .push_bind(r.finished_ms)
                        .push_bind(r.created_ms)
                        // Seeded history is not news: no hook is called for it
                        // (nor does the notifier churn through it).
                        .push_bind(r.finished_ms);
                });
                q.build().execute(&mut *tx).await?;

                let paths: Vec<(uuid::Uuid, &String)> =
                    chunk.iter().flat_map(|r| r.paths.iter().map(move |p| (r.id.0, p))).collect();
                let mut q =
                    QueryBuilder::new("INSERT INTO invalidation_paths (invalidation_id, project_id, path) ");
                q.push_values(paths, |mut b, (id, path)| {
                    b.push_bind(id).push_bind(project_id).push_bind(path.clone());
                });
                q.build().execute(&mut *tx).await?;

                let mut q = QueryBuilder::new(
                    "INSERT INTO invalidation_events (invalidation_id, status, attempt, note, at_ms) ",
                );
                q.push_values(chunk.iter().flat_map(|r| [(r, true), (r, false)]), |mut b, (r, first)| {
                    let (status, note, at) = if first {
                        ("RECEIVED", Some("seeded".to_owned()), r.created_ms)
                    } else {
                        (r.status.code(), r.error.clone(), r.finished_ms)
                    };
                    b.push_bind(r.id.0).push_bind(status).push_bind(1i32).push_bind(note).push_bind(at);
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        }
    }
}
