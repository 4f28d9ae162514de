//! Projects and who belongs to them: a signed-in user becomes an [`Actor`]
//! of one project here, or gets the same `NotFound` as for a project that
//! does not exist.

mod document;
mod owner;
mod service;
mod settings;

pub use document::{SettingsDocument, SettingsPatch};
pub use owner::NewProjectInput;
pub use service::ProjectService;
pub use settings::{SettingsInput, MAX_TTL_SECS};
