//! The storage traits of the operator's console: members and invitations,
//! the projects overview, cancel and retention, the audit trail,
//! notification hooks, and the live log's change feed.

use async_trait::async_trait;

use super::*;
use crate::domain::{InstanceRole, InvalidationId, Role};

/// Instance roles, members and invitations.
#[async_trait]
pub trait TeamStore {
    /// `NotFound` when there is no such user.
    async fn set_instance_role(&self, user_id: i64, role: Option<InstanceRole>) -> StoreResult<()>;
    async fn record_sign_in(&self, user_id: i64, now_ms: i64) -> StoreResult<()>;
    /// Bumps the session epoch: every session of the user ends at its next request.
    async fn end_sessions(&self, user_id: i64) -> StoreResult<()>;
    async fn members(&self, project_id: i64) -> StoreResult<Vec<Member>>;
    /// Sets (`Some`) or removes (`None`) a member's role and answers the role
    /// they had. `NotFound` when they are not a member, [`LAST_ADMIN`] when
    /// the change would leave the project without an admin.
    async fn change_member(&self, project_id: i64, user_id: i64, role: Option<Role>) -> StoreResult<Role>;
    /// A new account that can sign in only once it has set a password
    /// through an invitation (`password_set` false).
    async fn create_invited_user(&self, email: &str, password_hash: &str, now_ms: i64) -> StoreResult<User>;
    /// A new link. A password link ends the account's other open password
    /// links; a join link ends the earlier join links of the same project.
    async fn create_invitation(
        &self,
        new: &NewInvitation,
        token_hash: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> StoreResult<()>;
    /// The open (unused, unexpired) link with this token hash; `NotFound`
    /// for an unknown, used or expired one alike.
    async fn invitation(&self, token_hash: &str, now_ms: i64) -> StoreResult<Invitation>;
    /// Uses a password link once, before it expires: sets the password and
    /// ends the account's sessions and other password links. `NotFound` for
    /// an unknown, used, expired or join link alike.
    async fn accept_invitation(&self, token_hash: &str, password_hash: &str, now_ms: i64) -> StoreResult<User>;
    /// Uses a join link once, before it expires, and makes the membership it
    /// offers (a membership already there keeps its role). `NotFound` as above.
    async fn accept_join(&self, token_hash: &str, now_ms: i64) -> StoreResult<Joined>;
    /// Ends every open link `project_id` issued to the user; answers how many.
    async fn end_invitations(&self, project_id: i64, user_id: i64, now_ms: i64) -> StoreResult<u64>;
    /// Changes the role an open join link of the project offers; `NotFound` when there is none.
    async fn set_invitation_role(&self, project_id: i64, user_id: i64, role: Role) -> StoreResult<()>;
}

/// Every project and every user at a glance (owners).
#[async_trait]
pub trait OverviewStore {
    async fn project_overview(&self) -> StoreResult<Vec<ProjectSummary>>;
    async fn user_overview(&self) -> StoreResult<Vec<UserSummary>>;
    /// The tokens of the projects where `user_id` is the only admin.
    async fn sole_admin_of(&self, user_id: i64) -> StoreResult<Vec<String>>;
    async fn count_owners(&self) -> StoreResult<i64>;
}

/// Cancelling queued invalidations and pruning old ones.
#[async_trait]
pub trait HousekeepingStore {
    /// Cancels a `RECEIVED` invalidation no worker has claimed. `NotFound`
    /// if absent, [`NOT_CANCELLABLE`] once claimed or in any other status.
    async fn cancel_received(
        &self,
        project_id: i64,
        id: InvalidationId,
        by: &str,
        now_ms: i64,
    ) -> StoreResult<Invalidation>;
    async fn retention_days(&self, project_id: i64) -> StoreResult<i64>;
    async fn set_retention_days(&self, project_id: i64, days: i64) -> StoreResult<()>;
    /// Every project's id and retention in days.
    async fn retentions(&self) -> StoreResult<Vec<(i64, i64)>>;
    /// Stores finished invalidations as they are (with their paths and a
    /// RECEIVED and a final event each), in one transaction: `server seed`,
    /// for measuring the log as it grows. No worker, no audit.
    async fn seed_invalidations(&self, project_id: i64, rows: &[SeedRow]) -> StoreResult<()>;
    /// Deletes the project's final invalidations created before `before_ms`; answers how many.
    async fn prune_invalidations(&self, project_id: i64, before_ms: i64) -> StoreResult<u64>;
}

/// The audit trail.
#[async_trait]
pub trait AuditStore {
    async fn append_audit(&self, entry: &NewAuditEntry) -> StoreResult<()>;
    async fn list_audit(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>>;
}

/// Notification hooks and the final invalidations they have not heard of yet.
#[async_trait]
pub trait HookStore {
    async fn add_hook(&self, project_id: i64, new: &NewHook, now_ms: i64) -> StoreResult<Hook>;
    async fn list_hooks(&self, project_id: i64) -> StoreResult<Vec<Hook>>;
    async fn hook(&self, project_id: i64, id: i64) -> StoreResult<Hook>;
    async fn remove_hook(&self, project_id: i64, id: i64) -> StoreResult<()>;
    async fn record_hook_result(&self, id: i64, result: &str, now_ms: i64) -> StoreResult<()>;
    /// Final invalidations no notifier has claimed yet, oldest first.
    async fn unnotified(&self, limit: i64) -> StoreResult<Vec<Invalidation>>;
    /// Claims these for notification, in one write; answers those claimed
    /// (another notifier may have taken some already).
    async fn claim_notifications(&self, ids: &[InvalidationId], now_ms: i64) -> StoreResult<Vec<InvalidationId>>;
}

/// Status changes as they happen (the live log).
#[async_trait]
pub trait ChangeFeed {
    /// Sends every status change to `tx` until it has no receivers left.
    async fn watch_changes(&self, tx: &tokio::sync::broadcast::Sender<Change>) -> StoreResult<()>;
}
