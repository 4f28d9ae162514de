//! Server functions: each authenticates, checks the role for the project it
//! touches, calls one service and maps the error. They are public endpoints.

mod invalidations;
mod keys;
mod session;
mod settings;

pub use invalidations::*;
pub use keys::*;
pub use session::*;
pub use settings::*;
