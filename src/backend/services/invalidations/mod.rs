//! The invalidation service: submit, list, inspect and retry, with the role
//! checks every caller (console, API) goes through.

mod announce;
mod housekeeping;
mod input;
mod lookup;
mod service;

pub use housekeeping::{DAY_MS, MAX_EXPORT_ROWS};
pub use input::*;
pub use lookup::Freshness;
pub use service::{Created, Detail, InvalidationService};
