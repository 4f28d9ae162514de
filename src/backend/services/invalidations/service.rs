//! The invalidation service: submit, list, inspect and retry, with the role
//! checks every caller (console, API) goes through.

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::backend::handoff::Handoff;
use crate::backend::limits::Limits;
use crate::backend::store::*;
use crate::backend::{now_ms, Actor, ServiceError};

use super::announce::Announcer;
use super::input::{validate_submission, Submission, MAX_PAGE, MAX_SCHEDULE_DAYS};

use crate::domain::preview::Preview;
use crate::domain::{InvalidationId, Role, Scope};

pub struct Created {
    pub invalidation: Invalidation,
    /// True when an `Idempotency-Key` replay returned an earlier invalidation.
    pub replayed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Detail {
    pub invalidation: Invalidation,
    pub events: Vec<StatusEvent>,
    pub targets: Vec<TargetResult>,
}

#[derive(Clone)]
pub struct InvalidationService {
    pub(super) store: DynStore,
    pub(super) wake: Arc<Notify>,
    pub(super) announcer: Announcer,
    pub(super) limits: Limits,
    /// This process's worker, once it runs (`Worker::take_new_jobs_from`).
    pub(super) handoff: Arc<OnceLock<Handoff>>,
    /// Counts what a purge would remove (the dry run and the large-purge
    /// guard); set by `Services` with the targets' network and key.
    pub(super) previewer: Option<crate::backend::services::targets::TargetService>,
    /// Tells the project's hooks about the two-person rule's moments.
    pub(super) notifier: Option<crate::backend::services::notify::NotifyService>,
}

impl InvalidationService {
    pub fn new(store: DynStore, wake: Arc<Notify>, limits: Limits) -> Self {
        let announcer = Announcer::start(store.clone());
        InvalidationService { store, wake, announcer, limits, handoff: Arc::default(), previewer: None, notifier: None }
    }

    /// Where previews are counted: the project's targets, as the worker reaches them.
    pub fn with_previewer(mut self, targets: crate::backend::services::targets::TargetService) -> Self {
        self.previewer = Some(targets);
        self
    }

    /// Where approval notices go: the project's notification hooks.
    pub fn with_notifier(mut self, notify: crate::backend::services::notify::NotifyService) -> Self {
        self.notifier = Some(notify);
        self
    }

    /// Tells the project's hooks about a two-person rule moment.
    pub(super) fn announce(&self, actor: &Actor, inv: &Invalidation, event: &'static str) {
        if let Some(n) = &self.notifier {
            n.announce(&actor.project, inv, event);
        }
    }

    /// What `sub` would remove on each target, removing nothing (the dry run).
    pub async fn preview(&self, actor: &Actor, sub: &Submission) -> Result<Preview, ServiceError> {
        actor.require(Role::can_submit)?;
        let items = validate_submission(sub)?;
        within_key_limits(actor, sub.scope, &items)?;
        let previewer = self.previewer.as_ref().ok_or_else(|| ServiceError::Internal("no previewer".into()))?;
        previewer.preview(actor, sub.scope, &items).await
    }

    /// The large-purge guard: above the project's thresholds, a submission
    /// without `confirmed` is refused with the preview's figures.
    async fn guard(&self, actor: &Actor, sub: &Submission, items: &[String]) -> Result<(), ServiceError> {
        let edge = &actor.project.edge;
        if sub.confirmed || (edge.confirm_above_objects.is_none() && edge.confirm_above_bytes.is_none()) {
            return Ok(());
        }
        let Some(previewer) = &self.previewer else { return Ok(()) };
        let preview = previewer.preview(actor, sub.scope, items).await?;
        match preview.over(edge.confirm_above_objects, edge.confirm_above_bytes) {
            Some(why) => Err(ServiceError::field("confirm", why)),
            None => Ok(()),
        }
    }

    /// New jobs go straight to `handoff`'s worker while one of its lanes is
    /// idle (every clone of this service; the first worker to ask keeps it).
    pub fn hand_new_jobs_to(&self, handoff: Handoff) {
        let _ = self.handoff.set(handoff);
    }

    #[tracing::instrument(skip_all, fields(project = %actor.project.token, scope = ?sub.scope), err(level = "info"))]
    pub async fn submit(&self, actor: &Actor, sub: Submission) -> Result<Created, ServiceError> {
        actor.require(Role::can_submit)?;
        let paths = validate_submission(&sub)?;
        within_key_limits(actor, sub.scope, &paths)?;
        let request_hash = hash_request(sub.scope, &paths, sub.not_before_ms);
        if let Some(key) = &sub.idempotency_key {
            match self.store.invalidation_by_idempotency_key(actor.project.id, key).await {
                Ok(existing) => return replay(existing, &request_hash),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let now = now_ms();
        let not_before_ms = match sub.not_before_ms {
            Some(at) if at > now + MAX_SCHEDULE_DAYS * 86_400_000 => {
                return Err(ServiceError::field(
                    "not_before",
                    format!("schedule at most {MAX_SCHEDULE_DAYS} days ahead"),
                ))
            }
            // A time already past: at once.
            Some(at) if at > now => Some(at),
            _ => None,
        };
        self.guard(actor, &sub, &paths).await?;
        if sub.scope == Scope::All {
            // Counted only when a new one is stored (a replay is free).
            self.limits.scope_all(actor.project.id).await?;
        }
        let id = InvalidationId(uuid::Uuid::now_v7());
        // The two-person rule: scope All waits for another admin.
        let approve_by_ms = (sub.scope == Scope::All && actor.project.edge.approval_for_all)
            .then(|| now + actor.project.edge.approval_window_ms());
        // An idle lane of this process's worker takes it at once, without a
        // claim (a scheduled one, or one awaiting approval, waits in the queue).
        let waits = not_before_ms.is_some() || approve_by_ms.is_some();
        let handed = self.handoff.get().filter(|_| !waits).and_then(|h| h.reserve(now));
        let what = match sub.scope {
            Scope::All => "scope all".to_owned(),
            Scope::Tag => format!("tags {}", paths.join(" ")),
            Scope::Original => paths.join(" "),
        };
        let new = NewInvalidation {
            id,
            project_id: actor.project.id,
            scope: sub.scope,
            paths,
            submitter: actor.submitter.clone(),
            idempotency_key: sub.idempotency_key.clone(),
            request_hash: Some(request_hash.clone()),
            now_ms: now,
            audit: crate::backend::audit::entry(actor, "invalidation.submitted", format!("{id}: {what}")),
            not_before_ms,
            approve_by_ms,
            lease: handed.as_ref().map(|h| h.lease().clone()),
        };
        // While traces are on, the worker continues this request's trace.
        let traced = match crate::backend::trace_context::current() {
            Some(parent) => self.store.record_trace(id, &parent).await.is_ok(),
            None => false,
        };
        let inserted = self.store.insert_invalidation(&new).await;
        if traced && inserted.is_err() {
            let _ = self.store.forget_trace(id).await;
        }
        let stored = match inserted {
            Ok(stored) => stored,
            // A concurrent request with the same key won the race.
            Err(StoreError::Conflict(_)) if sub.idempotency_key.is_some() => {
                let key = sub.idempotency_key.as_deref().unwrap_or_default();
                let existing = self.store.invalidation_by_idempotency_key(actor.project.id, key).await?;
                return replay(existing, &request_hash);
            }
            Err(e) => return Err(e.into()),
        };
        if stored.invalidation.status == crate::domain::Status::AwaitingApproval {
            self.announce(actor, &stored.invalidation, "invalidation.awaiting_approval");
        }
        match handed {
            Some(handed) => handed.deliver(&stored),
            // Other instances' workers: the store announced the job in its commit.
            None => self.wake.notify_one(),
        }
        Ok(Created { invalidation: stored.invalidation, replayed: false })
    }

    /// This instance's idle lane at once; other instances' workers (LISTEN
    /// on PostgreSQL) through the announcer, after the job's commit.
    fn wake_workers(&self) {
        self.wake.notify_one();
        self.announcer.announce();
    }

    pub async fn list(&self, actor: &Actor, mut q: ListQuery) -> Result<Vec<Invalidation>, ServiceError> {
        actor.require(Role::can_read)?;
        q.limit = q.limit.clamp(1, MAX_PAGE);
        Ok(self.store.list_invalidations(actor.project.id, &q).await?)
    }

    pub async fn get(&self, actor: &Actor, id: InvalidationId) -> Result<Invalidation, ServiceError> {
        actor.require(Role::can_read)?;
        Ok(self.store.invalidation(actor.project.id, id).await?)
    }

    pub async fn detail(&self, actor: &Actor, id: InvalidationId) -> Result<Detail, ServiceError> {
        let invalidation = self.get(actor, id).await?;
        let mut targets = self.store.target_results(id).await?;
        // What a target answered (and which address was refused) is for
        // admins; the others see the status and the kind of failure.
        if !actor.role.can_manage() {
            for t in &mut targets {
                t.detail = t.detail.as_deref().map(crate::backend::purge::public_detail);
                t.verify_note = t.verify_note.as_deref().map(crate::backend::verify::public_note);
            }
        }
        Ok(Detail { events: self.store.events(id).await?, targets, invalidation })
    }

    /// Long-poll: re-reads the invalidation until it reaches a final status or
    /// `timeout` passes, and returns it as last seen. The worker may run in
    /// another process, so this polls the store: quickly at first (most
    /// invalidations finish in well under a second), then every 250 ms.
    pub async fn wait_for_final(
        &self,
        actor: &Actor,
        id: InvalidationId,
        timeout: std::time::Duration,
    ) -> Result<Invalidation, ServiceError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut pause = std::time::Duration::from_millis(25);
        loop {
            let inv = self.get(actor, id).await?;
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if inv.status.is_final() || left.is_zero() {
                return Ok(inv);
            }
            tokio::time::sleep(pause.min(left)).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(250));
        }
    }

    #[tracing::instrument(skip_all, fields(project = %actor.project.token, id = %id), err(level = "info"))]
    pub async fn retry(&self, actor: &Actor, id: InvalidationId) -> Result<Invalidation, ServiceError> {
        actor.require(Role::can_retry)?;
        self.stored_within_key_limits(actor, id).await?;
        let inv = match self.store.requeue_for_retry(actor.project.id, id, &actor.submitter.label(), now_ms()).await {
            Err(StoreError::Conflict(_)) => {
                let current = self.store.invalidation(actor.project.id, id).await?;
                return Err(ServiceError::Conflict(format!(
                    "Retry is only possible for ERROR or ERROR_CDN_NODE; this invalidation is {}",
                    current.status.code()
                )));
            }
            other => other?,
        };
        self.wake_workers();
        let detail = format!("{} (attempt {})", inv.id, inv.attempt);
        crate::backend::audit::record(&self.store, actor, "invalidation.retried", detail).await;
        Ok(inv)
    }
}

/// An API key limited to prefixes, tags or scopes may purge only within them.
impl InvalidationService {
    /// A key limited to some paths or tags acts (Retry, Cancel) only on an
    /// invalidation it could have submitted; read only for such a key.
    pub(super) async fn stored_within_key_limits(&self, actor: &Actor, id: InvalidationId) -> Result<(), ServiceError> {
        if matches!(&actor.submitter, Submitter::ApiKey { limits, .. } if !limits.is_empty()) {
            let inv = self.store.invalidation(actor.project.id, id).await?;
            within_key_limits(actor, inv.scope, &inv.paths)?;
        }
        Ok(())
    }
}

fn within_key_limits(actor: &Actor, scope: Scope, items: &[String]) -> Result<(), ServiceError> {
    match &actor.submitter {
        Submitter::ApiKey { limits, .. } => limits.check(scope, items).map_err(ServiceError::OutsideKeyLimits),
        Submitter::User { .. } => Ok(()),
    }
}

fn replay(existing: Invalidation, request_hash: &str) -> Result<Created, ServiceError> {
    if existing.request_hash.as_deref() == Some(request_hash) {
        Ok(Created { invalidation: existing, replayed: true })
    } else {
        Err(ServiceError::Conflict(
            "this Idempotency-Key was already used with a different request body; use a new key".into(),
        ))
    }
}

fn hash_request(scope: Scope, paths: &[String], not_before_ms: Option<i64>) -> String {
    let mut h = Sha256::new();
    h.update(scope.as_str());
    for p in paths {
        h.update([0u8]);
        h.update(p.as_bytes());
    }
    // Only when scheduled: requests stored before schedules keep their hash.
    if let Some(at) = not_before_ms {
        h.update([1u8]);
        h.update(at.to_string().as_bytes());
    }
    hex::encode(h.finalize())
}
