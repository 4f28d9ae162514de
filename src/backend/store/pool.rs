//! How large a pool is, and how long a query waits for a connection.

/// How many connections a pool may open. Every worker lane holds at most one
/// connection at a time and so does its lease heartbeat; the console and the
/// API need a few more. Purge calls hold none.
#[derive(Debug, Clone, Copy)]
pub struct PoolSize {
    pub max_connections: u32,
}

impl PoolSize {
    /// Room for `concurrency` lanes, a heartbeat each, and the console.
    pub fn for_worker(concurrency: usize) -> Self {
        PoolSize { max_connections: (2 * concurrency as u32 + 4).max(16) }
    }
}

/// For tools and tests that run no worker of their own: 16 connections.
impl Default for PoolSize {
    fn default() -> Self {
        PoolSize { max_connections: 16 }
    }
}

/// How long a query waits for a pooled connection before the caller answers
/// "the database is unavailable" (503) instead of hanging.
pub const ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);
