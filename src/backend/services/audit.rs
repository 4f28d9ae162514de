//! The audit trail: every state-changing action with who, when, from where
//! and what changed (never a secret). Services record; admins and staff read
//! their project's trail, owners the instance's (sign-ins live there).

use crate::backend::store::{AuditEntry, AuditQuery, DynStore, NewAuditEntry, Submitter, User};
use crate::backend::{now_ms, Actor, ServiceError};
use crate::domain::{InstanceRole, Role};

pub use crate::backend::model::RequestMeta;

pub const MAX_AUDIT_PAGE: i64 = 100;

/// Writes one row; a failure is logged, never passed to the caller (the
/// action itself has happened).
pub(crate) async fn record(store: &DynStore, actor: &Actor, action: &'static str, detail: impl Into<String>) {
    append(store, &entry(actor, action, detail)).await;
}

/// The row [`record`] writes, for a store call that writes it together with
/// the change it records (a new invalidation and its row share a commit).
pub(crate) fn entry(actor: &Actor, action: &'static str, detail: impl Into<String>) -> NewAuditEntry {
    let (user_id, api_key_id) = match &actor.submitter {
        Submitter::User { id, .. } => (Some(*id).filter(|id| *id > 0), None),
        Submitter::ApiKey { id, .. } => (None, Some(*id)),
    };
    NewAuditEntry {
        at_ms: now_ms(),
        project_id: Some(actor.project.id),
        actor: actor.submitter.label(),
        user_id,
        api_key_id,
        meta: actor.meta.clone(),
        action,
        detail: detail.into(),
    }
}

/// An instance-wide event (sign-in, failed sign-in).
pub(crate) async fn record_instance(
    store: &DynStore,
    who: &str,
    user_id: Option<i64>,
    meta: &RequestMeta,
    action: &'static str,
    detail: &str,
) {
    let entry = NewAuditEntry {
        at_ms: now_ms(),
        project_id: None,
        actor: who.chars().take(254).collect(),
        user_id,
        api_key_id: None,
        meta: meta.clone(),
        action,
        detail: detail.to_owned(),
    };
    append(store, &entry).await;
}

async fn append(store: &DynStore, entry: &NewAuditEntry) {
    if let Err(e) = store.append_audit(entry).await {
        tracing::error!(error = %e, action = entry.action, "could not write the audit trail");
    }
}

#[derive(Clone)]
pub struct AuditService {
    store: DynStore,
}

impl AuditService {
    pub fn new(store: DynStore) -> Self {
        AuditService { store }
    }

    /// The project's trail (its admins, the operator's staff and owners).
    pub async fn project_log(&self, actor: &Actor, mut q: AuditQuery) -> Result<Vec<AuditEntry>, ServiceError> {
        actor.require_admin_or_staff()?;
        q.project_id = Some(actor.project.id);
        q.limit = q.limit.clamp(1, MAX_AUDIT_PAGE);
        Ok(self.store.list_audit(&q).await?)
    }

    /// Every project's trail and the instance's own events (owners).
    pub async fn instance_log(&self, user: &User, mut q: AuditQuery) -> Result<Vec<AuditEntry>, ServiceError> {
        if user.instance_role != Some(InstanceRole::Owner) {
            return Err(ServiceError::Forbidden(Role::Support));
        }
        q.limit = q.limit.clamp(1, MAX_AUDIT_PAGE);
        Ok(self.store.list_audit(&q).await?)
    }

    /// The operator at the command line (`server audit`).
    pub async fn operator_log(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, ServiceError> {
        Ok(self.store.list_audit(q).await?)
    }
}
