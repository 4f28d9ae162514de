//! The rate limiter's counts as the instances share them (PostgreSQL).

/// What a sync writes: keys to zero everywhere, then counts to add.
pub struct CountOutbox {
    pub resets: Vec<String>,
    pub deltas: Vec<CountDelta>,
}

/// Events one instance counted in one slot since its last sync.
pub struct CountDelta {
    pub key: String,
    pub slot_ms: i64,
    pub events: i64,
    pub window_ms: i64,
    pub expires_ms: i64,
}

/// One instance's count of one slot, as stored.
#[derive(Debug)]
pub struct CountRow {
    pub key: String,
    pub instance: i64,
    pub slot_ms: i64,
    pub events: i64,
    pub window_ms: i64,
}
