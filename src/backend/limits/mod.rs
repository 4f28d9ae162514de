//! Rate limits behind one small trait, so the sign-in throttle, the API's
//! per-key and per-source limits, the scope-All quota and the console's
//! per-user limit count the same way: in memory on SQLite ([`MemoryLimiter`]),
//! shared by every instance on PostgreSQL ([`SharedLimiter`], reconciled
//! through the database every second by [`spawn_sync`]).

mod limiter;
mod memory;
mod pg;
mod policy;
mod shared;
mod throttle;

pub use limiter::{Limit, LimitKey, Limiter, RetryAfter, Source};
pub use memory::{MemoryLimiter, MAX_KEYS, PRUNE_EVERY};
pub use pg::spawn_sync;
pub use policy::{human, LimitSettings, Limits};
pub use shared::SharedLimiter;
pub use throttle::{Attempt, LoginThrottle};
