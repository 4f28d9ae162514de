//! Cancel a queued invalidation, export the filtered log, prune by retention.

use super::input::MAX_PAGE;
use super::service::InvalidationService;
use crate::backend::store::{Invalidation, ListQuery, SeedRow, StoreError, Submitter};
use crate::backend::{now_ms, Actor, ServiceError};
use crate::domain::{InvalidationId, Role, Status};

/// Most rows one CSV export holds (newest first).
pub const MAX_EXPORT_ROWS: usize = 10_000;
pub const DAY_MS: i64 = 24 * 3600 * 1000;

impl InvalidationService {
    /// Cancels a `RECEIVED` invalidation no worker has claimed yet (admins
    /// and editors); `Conflict` (409) in any other state.
    #[tracing::instrument(skip_all, fields(project = %actor.project.token, id = %id), err(level = "info"))]
    pub async fn cancel(&self, actor: &Actor, id: InvalidationId) -> Result<Invalidation, ServiceError> {
        actor.require(Role::can_submit)?;
        self.stored_within_key_limits(actor, id).await?;
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

    /// The two-person rule: another admin approves (the purge is queued at
    /// once) or rejects (it ends CANCELLED) a scope All request. Only a
    /// signed-in admin who did not submit it; never an API key.
    #[tracing::instrument(skip_all, fields(project = %actor.project.token, id = %id, approved), err(level = "info"))]
    pub async fn decide(
        &self,
        actor: &Actor,
        id: InvalidationId,
        approved: bool,
    ) -> Result<Invalidation, ServiceError> {
        actor.require(Role::can_manage)?;
        let Submitter::User { email, .. } = &actor.submitter else {
            return Err(ServiceError::Conflict(
                "an API key cannot approve or reject: a second admin decides in the console".into(),
            ));
        };
        let current = self.store.invalidation(actor.project.id, id).await?;
        if current.status != Status::AwaitingApproval {
            return Err(ServiceError::Conflict(format!(
                "only an invalidation awaiting approval can be approved or rejected; this one is {}",
                current.status.code()
            )));
        }
        if current.submitted_by == *email {
            return Err(ServiceError::Conflict(
                "you submitted this request: another admin of the project must approve or reject it".into(),
            ));
        }
        let (verb, action) =
            if approved { ("approved", "invalidation.approved") } else { ("rejected", "invalidation.rejected") };
        let note =
            if approved { format!("approved by {email}") } else { format!("rejected by {email}: nothing was purged") };
        let inv = match self.store.decide_approval(actor.project.id, id, approved, &note, now_ms()).await {
            Err(StoreError::Conflict(_)) => {
                return Err(ServiceError::Conflict(format!("this request was {verb} or ended meanwhile")))
            }
            other => other?,
        };
        if approved {
            self.wake.notify_one();
        }
        self.announce(actor, &inv, if approved { "invalidation.approved" } else { "invalidation.rejected" });
        crate::backend::audit::record(&self.store, actor, action, inv.id.to_string()).await;
        Ok(inv)
    }

    /// Cancels every scope All request no second admin approved in time
    /// (the project's approval window); answers how many.
    pub async fn expire_approvals(&self, now_ms: i64) -> Result<u64, ServiceError> {
        let n = self.store.expire_approvals(now_ms).await?;
        if n > 0 {
            tracing::info!(cancelled = n, "requests awaiting approval expired");
        }
        Ok(n)
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

    /// `server seed`: `count` finished invalidations spread evenly over the
    /// last `days` days (admins; for measuring the log as it grows). Paths are
    /// `/seed/{n % 1000}/image-{n}.jpg`, one in fifty also names a second
    /// path; 2 % end ERROR_CDN_NODE and 1 % ERROR. Answers how many were stored.
    pub async fn seed(&self, actor: &Actor, count: u64, days: i64) -> Result<u64, ServiceError> {
        actor.require(Role::can_manage)?;
        let now = now_ms();
        let span = (days.max(1) * DAY_MS) as f64;
        let mut stored = 0u64;
        while stored < count {
            let batch = (count - stored).min(SEED_BATCH);
            let rows: Vec<SeedRow> = (stored..stored + batch).map(|n| seed_row(n, count, now, span)).collect();
            self.store.seed_invalidations(actor.project.id, &rows).await?;
            stored += batch;
        }
        Ok(stored)
    }
}

/// Rows per transaction when seeding.
const SEED_BATCH: u64 = 10_000;

fn seed_row(n: u64, count: u64, now: i64, span: f64) -> SeedRow {
    // The oldest first, the newest a second ago; ids ordered as their times.
    let created_ms = now - 1_000 - (span * (count - 1 - n) as f64 / count as f64) as i64;
    let ts =
        uuid::Timestamp::from_unix(uuid::NoContext, (created_ms / 1000) as u64, (created_ms % 1000) as u32 * 1_000_000);
    let mut paths = vec![format!("/seed/{}/image-{n}.jpg", n % 1000)];
    if n.is_multiple_of(50) {
        paths.push(format!("/seed/{}/image-{n}@2x.jpg", n % 1000));
    }
    let (status, error) = match n % 100 {
        0 | 1 => (Status::ErrorCdnNode, Some("CDN node purge failed: node-b (HTTP 503)".to_owned())),
        2 => (Status::Error, Some("resizing server purge failed: edge-1 (timed out)".to_owned())),
        _ => (Status::Done, None),
    };
    SeedRow {
        id: InvalidationId(uuid::Uuid::new_v7(ts)),
        paths,
        status,
        error,
        created_ms,
        finished_ms: created_ms + 40,
    }
}
