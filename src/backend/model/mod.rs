//! The entities the store returns and the services pass around: accounts,
//! projects and their targets, invalidations, the worker's queue, the audit
//! trail. Below storage and the services alike; imports only the domain.

mod account;
mod audit;
mod invalidation;
mod lease;
mod limits;
mod project;
mod queue;
mod sso;
mod target;
mod time;

pub use account::*;
pub use audit::*;
pub use invalidation::*;
pub use lease::*;
pub use limits::*;
pub use project::*;
pub use queue::*;
pub use sso::*;
pub use target::*;
pub use time::from_ms;
