//! The trace context an invalidation was submitted under (OpenTelemetry's
//! W3C `traceparent`), kept only while traces are on, for the worker's spans.

use async_trait::async_trait;

use super::StoreResult;
use crate::domain::InvalidationId;

#[async_trait]
pub trait TraceStore {
    /// Keeps `trace_parent` for invalidation `id` (stored before it is).
    async fn record_trace(&self, id: InvalidationId, trace_parent: &str) -> StoreResult<()>;
    /// What [`record_trace`](Self::record_trace) kept for `id`, if anything.
    async fn trace_parent(&self, id: InvalidationId) -> StoreResult<Option<String>>;
    /// Drops what was kept for an invalidation that was not stored after all.
    async fn forget_trace(&self, id: InvalidationId) -> StoreResult<()>;
}

const RECORD: &str = "INSERT INTO invalidation_traces (invalidation_id, trace_parent) VALUES ($1, $2) \
     ON CONFLICT (invalidation_id) DO NOTHING";
const READ: &str = "SELECT trace_parent FROM invalidation_traces WHERE invalidation_id = $1";
const FORGET: &str = "DELETE FROM invalidation_traces WHERE invalidation_id = $1";

both_dialects! {
    #[async_trait]
    impl TraceStore for Db {
        async fn record_trace(&self, id: InvalidationId, trace_parent: &str) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            sqlx::query(RECORD).bind(id.0).bind(trace_parent).execute(&mut *conn).await?;
            Ok(())
        }

        async fn trace_parent(&self, id: InvalidationId) -> StoreResult<Option<String>> {
            Ok(sqlx::query_scalar(READ).bind(id.0).fetch_optional(&self.pool).await?)
        }

        async fn forget_trace(&self, id: InvalidationId) -> StoreResult<()> {
            let (mut conn, _turn) = self.write_conn().await?;
            sqlx::query(FORGET).bind(id.0).execute(&mut *conn).await?;
            Ok(())
        }
    }
}
