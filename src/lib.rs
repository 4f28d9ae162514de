//! imgflush: the domain core shared by the browser and the server, and (with
//! the `ssr` feature) the server-side services.

pub mod domain;

#[cfg(feature = "ssr")]
pub mod backend;
