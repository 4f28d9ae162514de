//! Invalidations as submitted, listed and seeded, and their status changes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::audit::NewAuditEntry;
use super::lease::NewLease;
use crate::domain::{InvalidationId, Scope, Status};

/// Who asked for an invalidation: shown in the log.
#[derive(Debug, Clone)]
pub enum Submitter {
    User {
        id: i64,
        email: String,
    },
    /// An API key, with what it may purge.
    ApiKey {
        id: i64,
        name: String,
        limits: crate::domain::key_limits::KeyLimits,
    },
}

impl Submitter {
    pub fn label(&self) -> String {
        match self {
            Submitter::User { email, .. } => email.clone(),
            Submitter::ApiKey { name, .. } => format!("API key {name}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewInvalidation {
    pub id: InvalidationId,
    pub project_id: i64,
    pub scope: Scope,
    pub paths: Vec<String>,
    pub submitter: Submitter,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<String>,
    pub now_ms: i64,
    /// Its audit row, stored in the same transaction.
    pub audit: NewAuditEntry,
    /// Scheduled: claimed no earlier than this (ms); `None`: at once.
    pub not_before_ms: Option<i64>,
    /// Two-person rule: stored `AWAITING_APPROVAL`, cancelled unless
    /// approved before this time (ms).
    pub approve_by_ms: Option<i64>,
    /// Stored already claimed, under this lease, by an idle worker of this
    /// process (`worker::Handoff`): no claim statement follows. `None`: queued
    /// for any worker to claim.
    pub lease: Option<NewLease>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Invalidation {
    pub id: InvalidationId,
    pub project_id: i64,
    pub scope: Scope,
    pub paths: Vec<String>,
    pub status: Status,
    pub attempt: i32,
    pub submitted_by: String,
    pub error: Option<String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub finished: Option<DateTime<Utc>>,
    pub request_hash: Option<String>,
    /// Scheduled: no worker claims it before this time.
    #[serde(default)]
    pub not_before: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    /// Keyset cursor: only rows with an id strictly below it (ids are UUID v7, so time-ordered).
    pub before: Option<InvalidationId>,
    pub status: Option<Status>,
    /// Matches an Invalidation ID exactly, or a submitted path exactly or by prefix.
    pub search: Option<String>,
    pub limit: i64,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery { before: None, status: None, search: None, limit: 20 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StatusEvent {
    pub status: Status,
    pub attempt: i32,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

/// One status change, as the live log hears of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    pub project_id: i64,
    pub id: InvalidationId,
    pub status: Status,
}

/// One finished invalidation as `server seed` stores it.
#[derive(Debug, Clone)]
pub struct SeedRow {
    pub id: InvalidationId,
    pub paths: Vec<String>,
    pub status: Status,
    pub error: Option<String>,
    pub created_ms: i64,
    pub finished_ms: i64,
}
