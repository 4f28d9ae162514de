//! Purge drivers: one module per target kind behind one trait
//! ([`driver::Driver`]), one registry line each (`driver.rs`), one entry for
//! the pipeline and the Test button ([`Purger`]). The contracts are
//! documented in the README.

mod akamai;
mod bunny;
mod cloudflare;
mod cloudfront;
mod coalesce;
mod dispatch;
mod driver;
mod edge;
mod fastly;
mod pacing;
mod registry;
mod report;
mod sign;
mod tags;
mod varnish;
mod webhook;

pub use dispatch::Purger;
pub use driver::Progress;
pub use pacing::{cloudfront_account, this_month, Pacing, Rate};
pub(crate) use report::describe;
pub use report::{client, public_detail, PurgeCall, PurgeError, PurgeReport, PurgeResult, MAX_RESPONSE_BYTES};
pub use webhook::webhook_signature;
