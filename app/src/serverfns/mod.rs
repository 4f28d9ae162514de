//! Server functions: each authenticates, checks the role for the project it
//! touches, calls one service and maps the error. They are public endpoints.

mod account;
mod audit;
mod hooks;
mod invalidations;
mod keys;
mod lookup;
mod members;
mod passkeys;
mod projects;
mod session;
mod settings;
mod sso;
mod two_step;
mod users;

// The write-limited callers (in `ssr`), for the server functions here to
// call as `super::writer`.
#[cfg(feature = "ssr")]
use crate::ssr::{user_writer, writer};

pub use account::*;
pub use audit::*;
pub use hooks::*;
pub use invalidations::*;
pub use keys::*;
pub use lookup::*;
pub use members::*;
pub use passkeys::*;
pub use projects::*;
pub use session::*;
pub use settings::*;
pub use sso::*;
pub use two_step::*;
pub use users::*;
