//! Server functions: each authenticates, checks the role for the project it
//! touches, calls one service and maps the error. They are public endpoints.

mod account;
mod audit;
mod hooks;
mod invalidations;
mod keys;
mod members;
mod projects;
mod session;
mod settings;
mod users;

pub use account::*;
pub use audit::*;
pub use hooks::*;
pub use invalidations::*;
pub use keys::*;
pub use members::*;
pub use projects::*;
pub use session::*;
pub use settings::*;
pub use users::*;

/// The signed-in caller as a member of `token`, for a call that changes
/// something: it counts against the user's console write limit
/// (`security.console_writes_per_minute`), checked before the role.
#[cfg(feature = "ssr")]
async fn writer(
    token: &str,
) -> Result<(imgflush::backend::Services, imgflush::backend::Actor), crate::error::AppError> {
    let (services, actor) = crate::ssr::actor(token).await?;
    services.limits.console_write(&actor).await?;
    Ok((services, actor))
}
