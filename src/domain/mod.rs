//! Pure domain core shared by the browser (wasm) and the server: no I/O,
//! no clocks, no randomness.

pub mod address;
pub mod advice;
pub mod cache_key;
pub mod device;
pub mod field;
pub mod ids;
pub mod image_url;
pub mod instance_role;
pub mod key_limits;
pub mod key_state;
pub mod path;
pub mod preview;
pub mod probe;
pub mod proxies;
pub mod purge;
pub mod role;
pub mod scope;
pub mod sign_in_policy;
pub mod sso;
pub mod status;
pub mod tag;
pub mod target;
pub mod url;

mod text;
pub use text::count;

pub use field::FieldError;
pub use ids::{InvalidInvalidationId, InvalidProjectToken, InvalidationId, ProjectToken};
pub use instance_role::{InstanceRole, UnknownInstanceRole};
pub use path::{
    parse_path_list, parse_path_list_max, split_entries, validate_paths, OriginPath, ParsedList, PathError,
    PathErrorReason, PathListError, API_MAX_PATHS, CONSOLE_MAX_PATHS, MAX_LIST_BYTES, MAX_LIST_ERRORS, MAX_PATH_BYTES,
};
pub use purge::{PurgeAnswer, PurgeRequest};
pub use role::{Role, UnknownRole};
pub use scope::{Scope, UnknownScope};
pub use status::{Status, UnknownStatus};
pub use tag::{Tag, TagError, TagRule};
pub use target::{check_settings, CheckedSettings, KindSpec, Step, TargetKind, TargetSettings, UnknownTargetKind};
