//! A worker's claim on a job, and the lease a new job may be stored under.

/// Proof of one claim on a job. Every claim gets a fresh token and every
/// worker write checks it, so a task whose lease expired cannot write any
/// more, even when the same process claimed the job again in another task.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaseToken(pub String);

impl LeaseToken {
    pub fn new() -> Self {
        LeaseToken(uuid::Uuid::new_v4().simple().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for LeaseToken {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for LeaseToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The lease a new invalidation is stored under when it is handed straight to
/// an idle worker (see [`super::NewInvalidation::lease`]): its first claim.
#[derive(Debug, Clone)]
pub struct NewLease {
    pub owner: String,
    pub token: LeaseToken,
    pub until_ms: i64,
}
