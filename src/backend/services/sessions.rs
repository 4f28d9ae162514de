//! Signed-in browser sessions: each sign-in is a row the account page lists
//! (device, address, last seen), and ends one by one, all but the current
//! one, or all; owners end every session of a user. The session's data
//! names its row; a session whose row has ended is signed out on its next
//! request. Every change is in the audit trail.

use crate::backend::audit::{self, RequestMeta};
use crate::backend::store::{DynStore, NewSignIn, SignIn, StoreError, User};
use crate::backend::{now_ms, random_alphanumeric, ServiceError};
use crate::domain::{InstanceRole, Role};

/// A request refreshes its session's "last seen" at most this often.
const SEEN_EVERY_MS: i64 = 60_000;
/// Ended or idle sign-ins older than this are forgotten at the user's next sign-in.
const FORGET_AFTER_MS: i64 = 30 * 24 * 3_600_000;

#[derive(Clone)]
pub struct SessionService {
    store: DynStore,
    /// Sessions end after this long without a request (`security.session_hours`).
    idle_ms: i64,
}

impl SessionService {
    pub fn new(store: DynStore) -> Self {
        SessionService { store, idle_ms: 12 * 3_600_000 }
    }

    pub fn with_idle_hours(mut self, hours: i64) -> Self {
        self.idle_ms = hours.max(1) * 3_600_000;
        self
    }

    /// Records a sign-in of `user` (the form, an invitation, a new
    /// password); answers the id the session keeps.
    pub async fn begin(&self, user: &User, meta: &RequestMeta) -> Result<String, ServiceError> {
        let now = now_ms();
        let new = NewSignIn {
            id: random_alphanumeric(32),
            user_id: user.id,
            now_ms: now,
            address: meta.ip.map(crate::domain::address::canonical_text),
            user_agent: meta.user_agent.clone(),
        };
        self.store.add_sign_in(&new, now - FORGET_AFTER_MS).await?;
        Ok(new.id)
    }

    /// Whether the session's sign-in still stands (`NotFound` once ended);
    /// refreshes its last-seen time and address.
    pub async fn check(&self, user_id: i64, id: &str, meta: &RequestMeta) -> Result<(), ServiceError> {
        let s = self.store.sign_in_of(user_id, id).await?;
        if s.ended.is_some() {
            return Err(ServiceError::NotFound);
        }
        let now = now_ms();
        let address = meta.ip.map(crate::domain::address::canonical_text);
        let moved = address.is_some() && address != s.address;
        if moved || now - s.last_seen.timestamp_millis() >= SEEN_EVERY_MS {
            self.store.touch_sign_in(id, now, address.as_deref()).await?;
        }
        Ok(())
    }

    /// The user's own sessions that have not ended, the most recent first.
    pub async fn list(&self, user: &User) -> Result<Vec<SignIn>, ServiceError> {
        Ok(self.store.list_sign_ins(user.id, now_ms() - self.idle_ms).await?)
    }

    /// Ends one of the user's own sessions (`NotFound` if it is not theirs
    /// or has ended).
    pub async fn end(&self, user: &User, id: &str, meta: &RequestMeta) -> Result<(), ServiceError> {
        let s = self.store.sign_in_of(user.id, id).await?;
        if s.ended.is_some() || self.store.end_sign_ins(user.id, Some(id), None, now_ms()).await? == 0 {
            return Err(ServiceError::NotFound);
        }
        let detail = format!("a session from {}", describe(&s));
        audit::record_instance(&self.store, &user.email, Some(user.id), meta, "session.ended", &detail).await;
        Ok(())
    }

    /// Ends every session of the user but `keep` (the current one; `None`:
    /// all, this one too), including any signed in before sessions were
    /// listed (the account's session epoch moves on). Answers the user as
    /// it is now, for the kept session to carry on under the new epoch.
    pub async fn end_all(&self, user: &User, keep: Option<&str>, meta: &RequestMeta) -> Result<User, ServiceError> {
        let ended = self.store.end_sign_ins(user.id, None, keep, now_ms()).await?;
        self.store.bump_session_epoch(user.id).await?;
        let detail = match keep {
            Some(_) => format!("every other session ({ended})"),
            None => format!("every session ({ended})"),
        };
        audit::record_instance(&self.store, &user.email, Some(user.id), meta, "session.ended_all", &detail).await;
        Ok(self.store.user_by_id(user.id).await?)
    }

    /// An owner ends every session of another user (a lost laptop, a
    /// leaver); answers how many listed sessions ended.
    pub async fn end_for(&self, owner: &User, user_id: i64, meta: &RequestMeta) -> Result<u64, ServiceError> {
        if owner.instance_role != Some(InstanceRole::Owner) {
            return Err(ServiceError::Forbidden(Role::Admin));
        }
        let user = self.store.user_by_id(user_id).await.map_err(|e| match e {
            StoreError::NotFound => ServiceError::NotFound,
            e => e.into(),
        })?;
        let ended = self.store.end_sign_ins(user.id, None, None, now_ms()).await?;
        self.store.bump_session_epoch(user.id).await?;
        let detail = format!("every session of {} ({ended})", user.email);
        audit::record_instance(&self.store, &owner.email, Some(owner.id), meta, "session.ended_by_owner", &detail)
            .await;
        Ok(ended)
    }

    /// Records a sign-out from the header's button (the session's row ends).
    pub async fn signed_out(&self, user: &User, id: Option<&str>, meta: &RequestMeta) {
        if let Some(id) = id {
            if let Err(e) = self.store.end_sign_ins(user.id, Some(id), None, now_ms()).await {
                tracing::warn!(error = %e, "could not end the session's sign-in row");
            }
        }
        audit::record_instance(&self.store, &user.email, Some(user.id), meta, "sign_out", "").await;
    }
}

/// "Chrome on Linux, 203.0.113.9" — the audit's words for a session.
fn describe(s: &SignIn) -> String {
    let device = crate::domain::device::describe(s.user_agent.as_deref().unwrap_or_default());
    format!("{device}, {}", s.address.as_deref().unwrap_or("an unknown address"))
}
