use chrono::{DateTime, TimeZone, Utc};

/// A stored millisecond timestamp as a UTC time (the epoch when out of range).
pub fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}
