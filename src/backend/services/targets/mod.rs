//! Purge target management, shared by the Settings page, the CLI and the
//! API: the service and its checks, and a target as a JSON document.

mod document;
mod service;

pub use document::{TargetBody, TargetDocument};
pub use service::{host_only, redact_url, url_for, validate, TargetInput, TargetService, TEST_PATH};
