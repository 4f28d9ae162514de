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

/// The signed-in user, for a call that changes something outside one
/// project (the instance's pages): it counts against the same write limit.
#[cfg(feature = "ssr")]
async fn user_writer() -> Result<(imgflush::backend::Services, imgflush::backend::store::User), crate::error::AppError>
{
    let user = crate::ssr::current_user().await?;
    let services = crate::ssr::services()?;
    services.limits.console_write_by(user.id).await?;
    Ok((services, user))
}
