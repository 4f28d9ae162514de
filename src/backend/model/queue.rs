//! A job's per-target results, and what the worker writes to a leased job:
//! its changes, the claim's token, and the job as claimed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::invalidation::Invalidation;
use super::lease::LeaseToken;
use super::target::Target;
use crate::domain::{Status, TargetKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetState {
    Pending,
    Ok,
    Error,
    Skipped,
}

impl TargetState {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetState::Pending => "pending",
            TargetState::Ok => "ok",
            TargetState::Error => "error",
            TargetState::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => TargetState::Pending,
            "ok" => TargetState::Ok,
            "error" => TargetState::Error,
            "skipped" => TargetState::Skipped,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TargetResult {
    pub target_id: i64,
    pub kind: TargetKind,
    pub name: String,
    pub state: TargetState,
    pub attempts: i32,
    pub detail: Option<String>,
    pub duration_ms: Option<i64>,
    pub updated: DateTime<Utc>,
    /// The node answered every purged URL anew (verify setting); `None`: not checked.
    pub verified: Option<bool>,
    pub verify_note: Option<String>,
}

/// One finished purge call (or run of calls) against one target.
#[derive(Debug, Clone)]
pub struct TargetOutcome {
    pub target_id: i64,
    pub state: TargetState,
    pub attempts: i32,
    pub detail: Option<String>,
    pub duration_ms: i64,
    pub verified: Option<bool>,
    pub verify_note: Option<String>,
}

/// One change to a leased job, stored with the moment it happened.
#[derive(Debug, Clone)]
pub enum JobChange {
    /// A new status, recorded in the event log.
    Status { status: Status, note: Option<String>, at_ms: i64 },
    /// A pending result row for each target that has none yet.
    Targets { targets: Vec<Target>, at_ms: i64 },
    /// What one target answered.
    Target { outcome: TargetOutcome, at_ms: i64 },
    /// The final status; clears the lease (so it comes last). `notified`:
    /// the project has no notification hook, so there is nothing for the
    /// notifier to call and the row counts as notified as it ends (else the
    /// notifier claims it, as before).
    Finish { status: Status, error: Option<String>, note: Option<String>, at_ms: i64, notified: bool },
}

/// A job as claimed: the invalidation, the claim's token, when the lease
/// ends, and how many times this attempt has been claimed (this claim included).
#[derive(Debug, Clone)]
pub struct Claimed {
    pub job: Invalidation,
    pub lease: LeaseToken,
    pub lease_until_ms: i64,
    pub claims: i32,
    /// The version of the project's setup (settings, targets, hooks) at the
    /// claim: every change to them bumps it. `None`: the project is gone.
    pub setup_version: Option<i64>,
}

/// A new invalidation as stored, with its project's setup version at that
/// moment (what a claim returns, for a job stored leased).
#[derive(Debug, Clone)]
pub struct Inserted {
    pub invalidation: Invalidation,
    pub setup_version: Option<i64>,
}

/// The queue at a glance, for the metrics: how many invalidations are in
/// each status (by status code), when the oldest RECEIVED one last moved,
/// and the purge targets the workers may call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueStats {
    pub by_status: Vec<(String, i64)>,
    pub oldest_received_ms: Option<i64>,
    /// Of the invalidations a worker should be moving (RECEIVED, PREPARING,
    /// FLUSHING*): the earliest time one last changed status or became due
    /// (`MAX(updated_ms, next_run_ms)`), so a scheduled or rate-limited job
    /// counts from when it may run, and one awaiting approval not at all.
    pub oldest_active_ms: Option<i64>,
    /// Every purge target as (project token, target name, kind), so that the
    /// per-target counters exist before a target's first purge.
    pub targets: Vec<(String, String, String)>,
}
