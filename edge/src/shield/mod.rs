//! A shield tier: a child edge fetches transformed variants from its parent
//! (shield) edge instead of the origin, so N edges cost the origin one fetch.
//! `wire` is what both sides agree on, `client` and `fetch` the child's side, `serve` the
//! parent's. See README "Shield tier".

pub(crate) mod client;
pub(crate) mod fetch;
pub(crate) mod serve;
pub mod wire;
