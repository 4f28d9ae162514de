//! Purge drivers: one HTTP contract per target kind (documented in the
//! README), one module each, behind one dispatch.

mod dispatch;
mod edge;
mod report;
mod varnish;
mod webhook;

pub use dispatch::purge;
pub(crate) use report::describe;
pub use report::{client, public_detail, PurgeError, PurgeReport, PurgeRequest, PurgeResult, MAX_RESPONSE_BYTES};
pub use webhook::webhook_signature;
