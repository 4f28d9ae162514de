//! Cancel a queued invalidation, export the filtered log, prune by retention.

use super::{InvalidationService, MAX_PAGE};
use crate::backend::store::{Invalidation, ListQuery, StoreError};
use crate::backend::{now_ms, Actor, ServiceError};
use crate::domain::{InvalidationId, Role};

/// Most rows one CSV export holds (newest first).
pub const MAX_EXPORT_ROWS: usize = 10_000;
pub const DAY_MS: i64 = 24 * 3600 * 1000;

impl InvalidationService {
    /// Cancels a `RECEIVED` invalidation no worker has claimed yet (admins
    /// and editors); `Conflict` (409) in any other state.
    #[tracing::instrument(skip_all, fields(project = %actor.project.token, id = %id), err(level = "info"))]
    pub async fn cancel(&self, actor: &Actor, id: InvalidationId) -> Result<Invalidation, ServiceError> {
        actor.require(Role::can_submit)?;
        let by = actor.submitter.label();
        match self.store.cancel_received(actor.project.id, id, &by, now_ms()).await {
            Err(StoreError::Conflict(_)) => {
                let current = self.store.invalidation(actor.project.id, id).await?;
                Err(ServiceError::Conflict(format!(
                    "Only a RECEIVED invalidation that no worker has picked up can be cancelled; this one is {}",
                    current.status.code()
                )))
            }
            other => {
                let inv = other?;
                crate::backend::audit::record(&self.store, actor, "invalidation.cancelled", inv.id.to_string()).await;
                Ok(inv)
            }
        }
    }

    /// Every row of the filtered log (newest first, at most [`MAX_EXPORT_ROWS`]).
    pub async fn export(&self, actor: &Actor, mut q: ListQuery) -> Result<Vec<Invalidation>, ServiceError> {
        actor.require(Role::can_read)?;
        let mut rows = Vec::new();
        q.limit = MAX_PAGE;
        loop {
            let page = self.store.list_invalidations(actor.project.id, &q).await?;
            let full = page.len() as i64 == q.limit;
            q.before = page.last().map(|i| i.id);
            rows.extend(page);
            if !full || rows.len() >= MAX_EXPORT_ROWS {
                rows.truncate(MAX_EXPORT_ROWS);
                return Ok(rows);
            }
        }
    }

    /// The operator's housekeeping: deletes every project's final
    /// invalidations older than its retention; answers how many.
    pub async fn prune_expired(&self, now_ms: i64) -> Result<u64, ServiceError> {
        let mut pruned = 0;
        for (project_id, days) in self.store.retentions().await? {
            pruned += self.store.prune_invalidations(project_id, now_ms - days * DAY_MS).await?;
        }
        if pruned > 0 {
            tracing::info!(pruned, "pruned invalidations past their project's retention");
        }
        Ok(pruned)
    }
}
