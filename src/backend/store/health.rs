//! Whether the database answers, and which dialect it speaks.

use async_trait::async_trait;

use super::batch_sizes::BatchMetrics;
use super::error::StoreResult;

pub(super) const PING: &str = "SELECT 1";

#[async_trait]
pub trait Health {
    fn dialect(&self) -> &'static str;
    async fn ping(&self) -> StoreResult<()>;
    /// From now on, the sizes of this store's batched writes go to `metrics`
    /// (`imgflush_store_batch_size{kind}`). Once per store: later calls are ignored.
    fn record_batches(&self, metrics: BatchMetrics);
}
