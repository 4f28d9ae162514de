//! Single sign-on with OpenID Connect: owners configure identity providers
//! (the client secret sealed with the credential key, like CDN credentials)
//! and may require single sign-on for everyone but one break-glass owner;
//! users sign in through the authorization code flow ([`flow`]) and get an
//! account by verified e-mail ([`accounts`]). Every change and every
//! refusal is in the audit trail.

mod accounts;
mod flow;
mod http;
mod service;
mod types;

pub use service::SsoService;
pub use types::{Callback, Pending, Refusal, Started};
